-- Stored models are signed: segment_models.signature is the HMAC-SHA256, under the workspace's own
-- secret key (the file .segmark-key beside the database, never in it), of the segmentation id, the
-- format and the pickled model. A model is unpickled only when its signature verifies, so a
-- database from elsewhere, or a blob changed after it was written, is refused rather than run.
-- Rows written before this migration have no signature and are refused too (segment again).
ALTER TABLE segment_models ADD COLUMN signature VARCHAR;

-- The reasons of model selection as data: each candidate's reason as a code and the figures it
-- quotes (segmark.core.segment.reasons), so a page in another language renders it in that language;
-- `reason` keeps the English text. NULL for candidates stored before.
ALTER TABLE segment_candidates ADD COLUMN reason_code VARCHAR;
ALTER TABLE segment_candidates ADD COLUMN reason_params JSON;
