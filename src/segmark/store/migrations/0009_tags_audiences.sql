-- Tags, audiences and campaigns.
-- Grain: tag_runs one row per `tags apply`; user_tags one row per run, user and tag (a tag has at
-- most one value per user); tag_values one row per run, tag and value; tag_overlap one row per run
-- and pair of tag values held by the same users; audiences one row per saved audience;
-- audience_members one row per audience and user; campaign_readouts one row per readout;
-- uplift_models one row per fitted uplift model, uplift_scores one row per model and user.

CREATE TABLE tag_runs (
    run_id              INTEGER PRIMARY KEY,   -- the runs table's id
    feature_run_id      INTEGER NOT NULL,      -- the feature build the tags were computed on
    segmentation_id     INTEGER,               -- the segmentation `segment` meant (latest cluster, else RFM)
    rfm_segmentation_id INTEGER,               -- the RFM segmentation `rfm_segment`, r/f/m_score meant
    score_runs          JSON,                  -- {model: scoring run id} of the scores read
    as_of               TIMESTAMP NOT NULL,    -- the feature build's as_of (UTC)
    source              VARCHAR NOT NULL,      -- the tag file (or "default")
    content_hash        VARCHAR NOT NULL,      -- sha256 of the tag file's text
    n_users             BIGINT NOT NULL,       -- users of the feature build
    taxonomy            JSON NOT NULL,         -- every tag applied: group, labels, kind, values, rules
    skipped             JSON NOT NULL,         -- tags not applied and why (e.g. a model not scored yet)
    created_at          TIMESTAMP NOT NULL
);

CREATE TABLE user_tags (
    run_id    INTEGER NOT NULL,
    user_id   VARCHAR NOT NULL,
    tag       VARCHAR NOT NULL,
    value     VARCHAR NOT NULL,
    rule      SMALLINT,                        -- rule tags: which value's condition matched (0-based)
    evidence  VARCHAR                          -- other kinds: key=value pairs behind the tag (n=3;last=...)
);

CREATE TABLE tag_values (
    run_id  INTEGER NOT NULL,
    tag     VARCHAR NOT NULL,
    value   VARCHAR NOT NULL,
    users   BIGINT NOT NULL,
    share   DOUBLE NOT NULL                    -- of the feature build's users
);

CREATE TABLE tag_overlap (
    run_id   INTEGER NOT NULL,
    tag_a    VARCHAR NOT NULL,
    value_a  VARCHAR NOT NULL,
    tag_b    VARCHAR NOT NULL,
    value_b  VARCHAR NOT NULL,
    users    BIGINT NOT NULL,                  -- users holding both
    jaccard  DOUBLE NOT NULL                   -- both / either
);

CREATE SEQUENCE audience_id_seq START 1;

CREATE TABLE audiences (
    audience_id      INTEGER PRIMARY KEY,
    run_id           INTEGER NOT NULL,
    name             VARCHAR NOT NULL UNIQUE,
    expression       VARCHAR NOT NULL,
    plan             JSON NOT NULL,            -- the bound plan: condition SQL, parameters, names read
    feature_run_id   INTEGER NOT NULL,
    segmentation_id  INTEGER,                  -- the segmentation the holdout was stratified by
    tag_run_id       INTEGER,
    score_runs       JSON,
    as_of            TIMESTAMP NOT NULL,
    holdout          DOUBLE NOT NULL,          -- share of the audience held out as control
    seed             INTEGER NOT NULL,
    size             BIGINT NOT NULL,
    treatment        BIGINT NOT NULL,
    control          BIGINT NOT NULL,
    composition      JSON NOT NULL,            -- by segment and by tag, at creation
    created_at       TIMESTAMP NOT NULL
);

CREATE TABLE audience_members (
    audience_id  INTEGER NOT NULL,
    user_id      VARCHAR NOT NULL,
    segment_key  VARCHAR,                      -- the stratum
    arm          VARCHAR NOT NULL              -- treatment or control
);

CREATE TABLE campaign_readouts (
    run_id       INTEGER PRIMARY KEY,
    audience_id  INTEGER NOT NULL,
    since        TIMESTAMP NOT NULL,           -- UTC: the send
    until        TIMESTAMP NOT NULL,           -- UTC: end of the window (exclusive)
    result       JSON NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE uplift_models (
    run_id       INTEGER PRIMARY KEY,
    audience_id  INTEGER NOT NULL,
    readout_run  INTEGER,                      -- the campaign window it learned from
    method       VARCHAR NOT NULL,             -- two-model, x-learner
    features     JSON NOT NULL,
    metrics      JSON NOT NULL,                -- qini, auuc and their random baselines, on held-out users
    curve        JSON NOT NULL,                -- Qini curve points (share targeted, value) on held-out users
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE uplift_scores (
    run_id   INTEGER NOT NULL,
    user_id  VARCHAR NOT NULL,
    uplift   DOUBLE NOT NULL
);
