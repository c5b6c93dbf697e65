-- Ingestion hardening. `content_set` is an order-free fingerprint of the rows a users or items file
-- held (their count and the sum of their row hashes), so the same rows re-sent with other bytes (line
-- endings, row order, quoting) are recognised as sent before and cannot bring back older values.
ALTER TABLE sources ADD COLUMN content_set VARCHAR;

-- Event keys in this release's form. The previous release keyed events with DuckDB's md5_number
-- (other bits than the portable CAST('0x' || md5(...) AS UHUGEINT) of this one) and, under
-- `identity = "line"`, by file and line; left as they were, an overlapping export ingested now would
-- match none of them and be counted twice. Every key is recomputed from the stored row, as ingestion
-- now computes it: the source's own event id ('id:' || event_id) where the row was keyed by it, else
-- the row's content; rows keyed by file and line get content plus occurrence (the n-th identical
-- row of a file is its own event), so a ledger's genuinely repeated lines stay distinct. Rows whose
-- old keys differed only before the mapping's rules (a derived amount) may now share a key: both are
-- kept, as they were counted before. A 128-bit key is its md5 read as two 64-bit halves (the value of
-- CAST('0x' || md5(...) AS UHUGEINT), which DuckDB before 2.0 refuses above 2**127).
CREATE TEMPORARY MACRO _md5_key(t) AS
    (CAST(CAST('0x' || substr(md5(t), 1, 16) AS UBIGINT) AS UHUGEINT) << 64)
    | CAST(CAST('0x' || substr(md5(t), 17, 16) AS UBIGINT) AS UHUGEINT);
CREATE TEMPORARY TABLE _rekey AS
WITH keyed AS (
    SELECT e.rowid AS rid, e.source_id, e.line, e.event_id,
           coalesce(e.event_key = md5_number(s.content_hash || ':' || CAST(e.line AS VARCHAR)), false) AS by_line,
           _md5_key(concat_ws(chr(31),
               coalesce(CAST(e.user_id AS VARCHAR), ''), coalesce(CAST(e.event_type AS VARCHAR), ''),
               coalesce(CAST(e.ts AS VARCHAR), ''), coalesce(CAST(e.item_id AS VARCHAR), ''),
               coalesce(CAST(e.category AS VARCHAR), ''), coalesce(CAST(e.price AS VARCHAR), ''),
               coalesce(CAST(e.quantity AS VARCHAR), ''), coalesce(CAST(e.amount AS VARCHAR), ''),
               coalesce(CAST(e.order_id AS VARCHAR), ''), coalesce(CAST(e.session_id AS VARCHAR), ''),
               coalesce(CAST(e.channel AS VARCHAR), ''))) AS content_key
    FROM events e LEFT JOIN sources s ON s.source_id = e.source_id
),
numbered AS (
    SELECT *, row_number() OVER (PARTITION BY source_id, by_line, content_key ORDER BY line) AS occ FROM keyed
)
SELECT rid, CASE
    WHEN by_line AND occ > 1 THEN _md5_key(CAST(content_key AS VARCHAR) || '#' || CAST(occ AS VARCHAR))
    WHEN by_line THEN content_key
    WHEN event_id IS NOT NULL THEN _md5_key('id:' || event_id)
    ELSE content_key END AS event_key
FROM numbered;
UPDATE events SET event_key = r.event_key FROM _rekey r WHERE events.rowid = r.rid AND events.event_key <> r.event_key;
DROP TABLE _rekey;
DROP MACRO _md5_key;
