"""One source's rows between validation and the store: staged, quarantined, de-duplicated, published.

Everything here goes through the store protocol (``segmark.store.base.Store``) in shared SQL: a
temporary staging table (``create_table_as(temporary=True)``), each chunk read as a temporary view
(``temporary_view``) by the validating SELECT of ``ingest.transform``, the file's bad rows moved to
``quarantine``, the good ones de-duplicated with a window in a subquery and appended (events) or
replaced by key (users, items: delete by key, then insert). Hashes in the engine's key type come
from ``store.functions``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from segmark.schema import EVENTS, TableSpec
from segmark.sql import ident as q
from segmark.store.base import Capability, Store, require

STAGED = "_staged"
REJECTS = "_rejects"
LATEST = "_latest"

_SQL_TYPES = {"id": "VARCHAR", "text": "VARCHAR", "event_type": "VARCHAR", "timestamp": "TIMESTAMP",
              "date": "DATE", "number": "DOUBLE", "integer": "DOUBLE"}
_TAIL = [("_line", "BIGINT"), ("_reason", "VARCHAR"), ("_column", "VARCHAR"), ("_value", "VARCHAR"),
         ("_raw", "VARCHAR")]


def create_staging(store: Store, spec: TableSpec) -> None:
    """Empty staging tables for one source: its validated rows (good and bad) and the rows the
    reader could not split."""
    require(store, Capability.TEMP_TABLES, f"stage {spec.name} rows while ingesting")
    cols = [f"CAST(NULL AS {_SQL_TYPES[c.kind]}) AS {c.name}" for c in spec.columns]
    if spec is EVENTS:
        cols.append(f"{store.functions.hash_sql(chr(39) * 2, 128)} AS _key")
    else:
        cols += ["CAST(NULL AS JSON) AS attributes", f"{store.functions.hash_sql(chr(39) * 2, 64)} AS _hash"]
    cols += [f"CAST(NULL AS {t}) AS {n}" for n, t in _TAIL]
    store.create_table_as(STAGED, f"SELECT {', '.join(cols)} WHERE 1 = 0", temporary=True, replace=True)
    store.create_table_as(REJECTS, "SELECT CAST(NULL AS BIGINT) AS _line, CAST(NULL AS VARCHAR) AS _reason, "
                          "CAST(NULL AS VARCHAR) AS _value, CAST(NULL AS VARCHAR) AS _raw WHERE 1 = 0",
                          temporary=True, replace=True)


def drop_staging(store: Store) -> None:
    for name in (STAGED, REJECTS, LATEST):
        store.drop_table(name)


def stage_rejects(store: Store, lines: Sequence[int], reasons: Sequence[str], details: Sequence[str],
                  texts: Sequence[str]) -> None:
    if lines:
        store.insert(REJECTS, pa.table({"_line": pa.array(lines, pa.int64()), "_reason": pa.array(reasons, pa.string()),
                                        "_value": pa.array(details, pa.string()),
                                        "_raw": pa.array(texts, pa.string())}))


def bad_rows(store: Store) -> int:
    return int(store.scalar(f"SELECT (SELECT count(*) FROM {STAGED} WHERE _reason IS NOT NULL) + "
                            f"(SELECT count(*) FROM {REJECTS})"))


def staged_rows(store: Store) -> int:
    return int(store.scalar(f"SELECT (SELECT count(*) FROM {STAGED}) + (SELECT count(*) FROM {REJECTS})"))


def content_set(store: Store) -> str:
    """An order-free fingerprint of what the source holds (users and items): the count and the sum
    of each row's hash, good rows by their canonical values, bad ones by their raw text. The same
    rows re-sent with other bytes (line endings, row order, quoting) have the same fingerprint."""
    h = store.functions.hash_sql
    row = store.query_rows(
        f"SELECT count(*), coalesce(sum(CAST(h AS HUGEINT)), 0) FROM ("
        f"SELECT CASE WHEN _reason IS NULL THEN _hash ELSE {h('_raw', 64)} END AS h FROM {STAGED} "
        f"UNION ALL SELECT {h('_raw', 64)} AS h FROM {REJECTS}) AS r")[0]
    return f"{int(row[0])}:{int(row[1])}"


def quarantine(store: Store, spec: TableSpec, source_id: int, label: str, content_hash: str) -> Counter[str]:
    """Move the source's bad rows to ``quarantine`` (unless the same content's line is there already);
    returns the newly quarantined rows by reason."""
    store.execute(
        f"""INSERT INTO quarantine (source_id, table_name, file, content_hash, line, column_name, reason, value, raw)
        SELECT ?, ?, ?, ?, b._line, b._column, b._reason, b._value, b._raw FROM (
            SELECT _line, _column, _reason, _value, _raw FROM {STAGED} WHERE _reason IS NOT NULL
            UNION ALL SELECT _line, CAST(NULL AS VARCHAR) AS _column, _reason, _value, _raw FROM {REJECTS}
        ) AS b
        WHERE NOT EXISTS (
            SELECT 1 FROM quarantine x WHERE x.content_hash = ? AND x.table_name = ? AND x.line = b._line)""",
        [source_id, spec.name, label, content_hash, content_hash, spec.name])
    return Counter(dict(store.query_rows(
        "SELECT reason, count(*) FROM quarantine WHERE source_id = ? GROUP BY reason", [source_id])))


def publish(store: Store, spec: TableSpec, source_id: int, *, occurrences: bool) -> int:
    """Write the staged good rows that are new; returns how many were written.

    Events: identical rows of one source are one event, unless ``occurrences`` (``identity = "line"``):
    then the n-th repeat of a row is its own event, keyed by its content and n, so overlapping
    exports of a ledger add only what is new while its genuinely repeated lines are kept. Users and
    items: the last row of an id wins; a row identical to the stored one is a duplicate."""
    if spec is EVENTS:
        return _publish_events(store, source_id, occurrences)
    return _publish_entities(store, spec, source_id)


def _publish_events(store: Store, source_id: int, occurrences: bool) -> int:
    cols = [c.name for c in EVENTS.columns]
    bounds = store.query_rows(f"SELECT min(ts), max(ts), count(event_id) FROM {STAGED} WHERE _reason IS NULL")[0]
    if bounds[0] is None:
        return 0
    by_source_id = bool(bounds[2]) and not occurrences
    # Keys cover the timestamp unless the source has its own event ids, so only the stored events
    # in the staged time range can collide: zone maps make that scan cheap.
    in_range = "" if by_source_id else " AND e.ts BETWEEN ? AND ?"
    params: list[Any] = [source_id] + ([] if by_source_id else [bounds[0], bounds[1]])
    repeat_key = store.functions.hash_sql("CAST(_key AS VARCHAR) || '#' || CAST(_occ AS VARCHAR)", 128)
    key = f"CASE WHEN _occ = 1 THEN _key ELSE {repeat_key} END" if occurrences else "_key"
    first_only = "" if occurrences else " WHERE _occ = 1"
    # the window sorts what it is given: only the columns published, not the quarantine's (_raw...)
    before = int(store.scalar("SELECT count(*) FROM events"))
    store.execute(
        f"""INSERT INTO events (event_key, {', '.join(cols)}, source_id, line)
        SELECT _event_key, {', '.join(cols)}, ?, _line FROM (
            SELECT *, {key} AS _event_key FROM (
                SELECT {', '.join(cols)}, _key, _line, row_number() OVER (PARTITION BY _key ORDER BY _line) AS _occ
                FROM {STAGED} WHERE _reason IS NULL
            ) AS o{first_only}
        ) AS s
        WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_key = s._event_key{in_range})""",
        params)
    return int(store.scalar("SELECT count(*) FROM events")) - before


def _publish_entities(store: Store, spec: TableSpec, source_id: int) -> int:
    key = q(spec.key)
    cols = [c.name for c in spec.columns]
    written = store.create_table_as(
        LATEST,
        f"""SELECT {', '.join(cols)}, attributes, _hash, _line FROM (
            SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _line DESC) AS _rn
            FROM {STAGED} WHERE _reason IS NULL
        ) AS s
        WHERE _rn = 1 AND NOT EXISTS (
            SELECT 1 FROM {q(spec.name)} t WHERE t.{key} = s.{key} AND t.row_hash = s._hash)""",
        temporary=True, replace=True)
    if written:
        require(store, Capability.DELETE, f"replace {spec.name} rows by {spec.key}")
        store.execute(f"DELETE FROM {q(spec.name)} WHERE {key} IN (SELECT {key} FROM {LATEST})")
        store.execute(
            f"INSERT INTO {q(spec.name)} ({', '.join(cols)}, attributes, row_hash, source_id, line) "
            f"SELECT {', '.join(cols)}, attributes, _hash, ?, _line FROM {LATEST}", [source_id])
    return written
