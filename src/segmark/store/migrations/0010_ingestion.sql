-- Ingestion hardening. `content_set` is an order-free fingerprint of the rows a users or items file
-- held (their count and the sum of their row hashes), so the same rows re-sent with other bytes (line
-- endings, row order, quoting) are recognised as sent before and cannot bring back older values.
ALTER TABLE sources ADD COLUMN content_set VARCHAR;
