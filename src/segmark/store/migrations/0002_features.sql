-- User feature tables: one build per run, each as of its own date, so several dates coexist.
-- Grain: feature_runs one row per build; feature_columns one row per build and column; the
-- values of build N live in table features_run_N (one row per user, one column per feature).

CREATE TABLE feature_runs (
    run_id        INTEGER PRIMARY KEY,   -- the runs table's id of the build
    as_of         TIMESTAMP NOT NULL,    -- UTC; only events strictly before it count
    as_of_local   TIMESTAMP NOT NULL,    -- the same instant on the shop's wall clock
    timezone      VARCHAR NOT NULL,      -- the shop's zone the local times were read in
    windows       JSON NOT NULL,         -- activity windows, days
    table_name    VARCHAR NOT NULL,      -- where the values are: features_run_<run_id>
    n_users       BIGINT NOT NULL,
    n_events      BIGINT NOT NULL,       -- identified users' events before as_of
    params        JSON,                  -- every other parameter of the build
    query_sql     VARCHAR NOT NULL,      -- the composed query, for audit and re-runs
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE feature_columns (
    run_id        INTEGER NOT NULL,
    position      INTEGER NOT NULL,      -- column order in the table, from 1
    name          VARCHAR NOT NULL,
    family        VARCHAR NOT NULL,      -- rfm, activity, funnel, preference, time, attributes, custom
    kind          VARCHAR NOT NULL,      -- count, sum, number, text
    unit          VARCHAR,
    label_zh      VARCHAR,
    description   VARCHAR,
    template      VARCHAR,               -- the catalog entry it was expanded from (views_{W}d)
    PRIMARY KEY (run_id, name)
);
