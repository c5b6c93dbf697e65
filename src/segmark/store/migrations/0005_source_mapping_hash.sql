-- Which mapping (by content) each file went through, so the same file through the same mapping is
-- recognised as ingested already, whatever its name.
ALTER TABLE sources ADD COLUMN mapping_hash VARCHAR;
