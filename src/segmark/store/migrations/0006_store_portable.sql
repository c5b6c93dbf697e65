-- Portable order of model-selection candidates: the order they were tried in is data (`position`,
-- from 0 within a segmentation), not DuckDB's storage order, so every engine reads them back alike.
-- Candidates stored before keep their storage order.
ALTER TABLE segment_candidates ADD COLUMN position INTEGER;
UPDATE segment_candidates SET position = rowid;
