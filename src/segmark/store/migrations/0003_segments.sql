-- Segmentations: RFM or clustering runs over one feature build, their segments, every user's
-- segment, segment profiles, the model-selection candidates and the fitted model.
-- Grain: segmentations one row per run (its id is the runs table's); segments one row per run and
-- segment; segment_members one row per run and user (kept unique by the pipeline, which replaces
-- a user's row when `segments assign` places the user again); segment_profiles one row per run,
-- segment and feature; segment_candidates one row per candidate model tried; segment_models one
-- row per run.

CREATE TABLE segmentations (
    segmentation_id  INTEGER PRIMARY KEY,
    kind             VARCHAR NOT NULL,     -- rfm, cluster
    method           VARCHAR NOT NULL,     -- rfm, or the clustering method that won
    feature_run_id   INTEGER NOT NULL,     -- the feature build it was fitted on
    as_of            TIMESTAMP NOT NULL,   -- that build's as_of (UTC)
    n_segments       INTEGER NOT NULL,
    n_users          BIGINT NOT NULL,
    features         JSON NOT NULL,        -- feature columns used
    params           JSON NOT NULL,        -- every setting that shaped it
    metrics          JSON NOT NULL,        -- silhouette, stability, surrogate fidelity...
    selection        JSON,                 -- clustering: winner, thresholds, reason
    reason           VARCHAR NOT NULL,     -- one sentence: why this segmentation
    created_at       TIMESTAMP NOT NULL
);

CREATE TABLE segments (
    segmentation_id  INTEGER NOT NULL,
    segment_id       INTEGER NOT NULL,     -- cluster: 0 = largest at fit; rfm: rule order
    key              VARCHAR NOT NULL,     -- stable name key: champions, cart_abandoners...
    name             VARCHAR NOT NULL,     -- English
    name_zh          VARCHAR NOT NULL,
    name_source      VARCHAR NOT NULL,     -- rule, archetype, description, override
    size             BIGINT NOT NULL,      -- users at fit time
    share            DOUBLE NOT NULL,
    revenue          DOUBLE,               -- net spend, negative balances as 0
    revenue_share    DOUBLE,
    top_categories   JSON,                 -- [[category, share of the segment's users], ...]
    definition       VARCHAR,              -- rfm: the score ranges of the rule
    rules            JSON,                 -- surrogate-tree rules: [{text, text_zh, users, precision, coverage}]
    PRIMARY KEY (segmentation_id, segment_id)
);

CREATE TABLE segment_members (
    segmentation_id  INTEGER NOT NULL,
    user_id          VARCHAR NOT NULL,
    segment_id       INTEGER NOT NULL,
    r_score          TINYINT,              -- rfm only
    f_score          TINYINT,
    m_score          TINYINT,
    source           VARCHAR NOT NULL,     -- fit, assign
    feature_run_id   INTEGER NOT NULL      -- the feature build this placement used
);

CREATE TABLE segment_profiles (
    segmentation_id  INTEGER NOT NULL,
    segment_id       INTEGER NOT NULL,
    feature          VARCHAR NOT NULL,
    median           DOUBLE,
    mean             DOUBLE,
    overall_median   DOUBLE,
    overall_mean     DOUBLE,
    lift             DOUBLE,               -- segment mean / overall mean
    effect           DOUBLE                -- mean difference in overall standard deviations (log scale)
);

CREATE TABLE segment_candidates (
    segmentation_id       INTEGER NOT NULL,
    method                VARCHAR NOT NULL,
    k                     INTEGER,         -- NULL for methods that find their own number
    n_clusters            INTEGER NOT NULL,
    silhouette            DOUBLE,
    reference_silhouette  DOUBLE,
    gain                  DOUBLE,
    calinski_harabasz     DOUBLE,
    davies_bouldin        DOUBLE,
    stability             DOUBLE,
    min_share             DOUBLE,
    max_share             DOUBLE,
    noise_share           DOUBLE,
    peak                  BOOLEAN,
    status                VARCHAR NOT NULL,  -- winner, eligible, rejected
    reason                VARCHAR
);

-- The fitted model (preprocessing, estimator, assignment, surrogate tree, or the RFM cut points),
-- pickled. 0004 adds its signature: a workspace only loads models signed with its own key.
CREATE TABLE segment_models (
    segmentation_id  INTEGER PRIMARY KEY,
    format           VARCHAR NOT NULL,     -- pickle
    versions         JSON NOT NULL,        -- library versions it was written with
    model            BLOB NOT NULL
);
