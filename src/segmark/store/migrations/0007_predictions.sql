-- Predictions: predictive models (churn, propensity, response) with their evaluation, every user's
-- score per scoring run, lifetime-value models and scores, and sales forecasts with their backtest.
-- Grain: prediction_models one row per training run (model_id is its run id); prediction_scores
-- one row per scoring run and user; clv_models one row per fit; clv_scores one row per prediction
-- run and user; forecasts one row per run, group, week and series.
-- Downstream (tags, audiences) read prediction_scores and clv_scores from the latest run of each
-- model: <model_name>_probability, <model_name>_decile, clv, clv_decile, p_alive, ...

CREATE TABLE prediction_models (
    model_id         INTEGER PRIMARY KEY,  -- the training run's id
    name             VARCHAR NOT NULL,     -- what scores are called by (defaults to the target)
    target           VARCHAR NOT NULL,     -- churn, propensity, response
    as_of            TIMESTAMP NOT NULL,   -- the scoring date: training labels all end by it (UTC)
    horizon_days     INTEGER,              -- label window after each cut (log labels)
    label_source     VARCHAR NOT NULL,     -- log, column:<name>, file:<path>
    algorithm        VARCHAR NOT NULL,     -- the chosen candidate: tree, logistic, svm, mlp, hgb, ensemble
    feature_run_id   INTEGER,              -- the feature build scored at as_of (NULL for a plain user table)
    inputs           JSON NOT NULL,        -- {numeric: [...], categorical: [...], attributes: {...}}
    params           JSON NOT NULL,        -- every setting that shaped it (cv, origins, candidates...)
    evaluation       JSON NOT NULL,        -- out-of-fold figures, candidates, baselines, out-of-time test
    importance       JSON NOT NULL,        -- permutation importance by input (drop in ROC-AUC)
    n_train          BIGINT NOT NULL,      -- training rows (users x cuts)
    format           VARCHAR NOT NULL,     -- pickle
    versions         JSON NOT NULL,
    model            BLOB NOT NULL,        -- the fitted pipeline (encoding + classifier), signed below
    signature        VARCHAR NOT NULL,     -- HMAC-SHA256 under the workspace key (pipeline/signing.py)
    created_at       TIMESTAMP NOT NULL
);

CREATE TABLE prediction_scores (
    run_id           INTEGER NOT NULL,     -- the scoring run
    model_name       VARCHAR NOT NULL,
    user_id          VARCHAR NOT NULL,
    probability      DOUBLE NOT NULL,
    decile           TINYINT NOT NULL,     -- 1..10, 10 = highest probability
    as_of            TIMESTAMP NOT NULL
);

CREATE TABLE clv_models (
    run_id           INTEGER PRIMARY KEY,
    model            VARCHAR NOT NULL,     -- bgnbd, pareto-nbd
    unit             VARCHAR NOT NULL,     -- days, weeks: the time unit of the parameters
    as_of            TIMESTAMP NOT NULL,   -- purchases strictly before it, counted in whole local days
    params           JSON NOT NULL,        -- r, alpha, a, b (BG/NBD) or r, alpha, s, beta (Pareto/NBD)
    log_likelihood   DOUBLE NOT NULL,
    spend_params     JSON,                 -- Gamma-Gamma p, q, gamma (NULL without spend)
    metrics          JSON NOT NULL,        -- customers, repeat buyers, holdout tracking...
    format           VARCHAR NOT NULL,
    versions         JSON NOT NULL,
    blob             BLOB NOT NULL,        -- the fitted models and each customer's summary, signed
    signature        VARCHAR NOT NULL,
    created_at       TIMESTAMP NOT NULL
);

CREATE TABLE clv_scores (
    run_id              INTEGER NOT NULL,  -- the prediction run (its params: clv model, horizon, discount)
    user_id             VARCHAR NOT NULL,
    expected_purchases  DOUBLE NOT NULL,   -- in the horizon
    p_alive             DOUBLE NOT NULL,
    expected_spend      DOUBLE,            -- per purchase (Gamma-Gamma); NULL without spend
    clv                 DOUBLE,            -- discounted expected spend in the horizon
    clv_decile          TINYINT,           -- 1..10, 10 = most valuable
    as_of               TIMESTAMP NOT NULL
);

CREATE TABLE forecasts (
    run_id           INTEGER NOT NULL,
    grouping         VARCHAR NOT NULL,     -- total, segment, category
    group_key        VARCHAR NOT NULL,     -- 'all', a segment key, a category
    group_name       VARCHAR,
    group_name_zh    VARCHAR,
    week_start       DATE NOT NULL,        -- local Monday
    series           VARCHAR NOT NULL,     -- actual, forecast, seasonal_naive, backtest, backtest_naive
    revenue          DOUBLE,
    orders           DOUBLE,
    units            DOUBLE
);
