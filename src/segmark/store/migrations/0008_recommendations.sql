-- Recommendations: each build (its method, how it was chosen, the repurchase policy), its signed
-- model, the latest build's top items per user, the cold-start lists, the repeat rates the policy
-- was measured from, and every evaluation's figures.
-- Grain: recommend_builds one row per build (its id is the runs table's); recommend_models one row
-- per build; recommendations one row per user and rank of the latest build only (older builds'
-- rows are removed when a new one is published); recommendation_fallbacks one row per segment
-- (NULL = the whole shop) and rank per build; recommend_repeat_rates one row per category (NULL =
-- the shop) per build; recommend_evaluations one row per run, method, segment (NULL = all users)
-- and metric.

CREATE TABLE recommend_builds (
    run_id           INTEGER PRIMARY KEY,
    method           VARCHAR NOT NULL,     -- what was built: item-knn, als, item-knn+repeat(first)...
    requested        VARCHAR NOT NULL,     -- what was asked for: auto or a method
    repurchase       VARCHAR NOT NULL,     -- auto, allow, exclude
    as_of            TIMESTAMP NOT NULL,   -- only events strictly before it were used (UTC)
    segmentation_id  INTEGER,              -- the segmentation whose popular items serve cold users
    n_users          BIGINT NOT NULL,
    n_items          BIGINT NOT NULL,
    list_length      INTEGER NOT NULL,     -- items kept per user
    params           JSON NOT NULL,        -- weights, decay, hyper-parameters
    policy           JSON NOT NULL,        -- the repurchase decision's summary
    selection        JSON,                 -- auto: the validation window, every candidate's figures, the pick
    reason           VARCHAR NOT NULL,     -- one sentence: why this method
    created_at       TIMESTAMP NOT NULL
);

-- The fitted model, pickled and signed (HMAC-SHA256 under the workspace's .segmark-key, domain
-- "recommend"): a workspace only loads models it wrote itself.
CREATE TABLE recommend_models (
    run_id           INTEGER PRIMARY KEY,
    format           VARCHAR NOT NULL,
    versions         JSON NOT NULL,
    model            BLOB NOT NULL,
    signature        VARCHAR NOT NULL
);

CREATE TABLE recommendations (
    run_id           INTEGER NOT NULL,
    user_id          VARCHAR NOT NULL,
    item_id          VARCHAR NOT NULL,
    rank             INTEGER NOT NULL,     -- 1 = first
    score            DOUBLE NOT NULL
);

CREATE TABLE recommendation_fallbacks (
    run_id           INTEGER NOT NULL,
    segment_key      VARCHAR,              -- NULL: the whole shop's list
    item_id          VARCHAR NOT NULL,
    rank             INTEGER NOT NULL,
    score            DOUBLE NOT NULL
);

CREATE TABLE recommend_repeat_rates (
    run_id           INTEGER NOT NULL,
    category         VARCHAR,              -- NULL: the whole shop
    pairs            BIGINT NOT NULL,      -- (user, item) pairs bought
    repeated         BIGINT NOT NULL,      -- of those, bought again on another day
    rate             DOUBLE NOT NULL,      -- the rate the decision used (the shop's for small categories)
    allowed          BOOLEAN NOT NULL,     -- bought items of the category may be recommended again
    source           VARCHAR NOT NULL      -- category, shop
);

CREATE TABLE recommend_evaluations (
    run_id           INTEGER NOT NULL,     -- the evaluate run, or the build whose validation it was
    build_run_id     INTEGER,              -- the build the figures are stored with
    kind             VARCHAR NOT NULL,     -- test, validation
    holdout          VARCHAR NOT NULL,     -- "7 days", "last order"
    method           VARCHAR NOT NULL,
    segment_key      VARCHAR,              -- NULL: all users
    metric           VARCHAR NOT NULL,     -- precision@10, recall@20, coverage, users...
    value            DOUBLE
);
