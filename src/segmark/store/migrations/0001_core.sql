-- Canonical tables, ingestion bookkeeping and the run log.
-- Grain: events one row per accepted event; users/items one row per id (latest wins).

CREATE SEQUENCE source_id_seq START 1;
CREATE SEQUENCE run_id_seq START 1;

-- One row per ingestion of one file into one table.
CREATE TABLE sources (
    source_id     INTEGER PRIMARY KEY,
    run_id        INTEGER,
    table_name    VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    mapping       VARCHAR,
    rows_read     BIGINT,
    accepted      BIGINT,
    quarantined   BIGINT,
    duplicates    BIGINT,
    ingested_at   TIMESTAMP NOT NULL
);

CREATE TABLE events (
    event_key     UHUGEINT NOT NULL,   -- identity used for de-duplication
    user_id       VARCHAR,             -- NULL: guest event, never counted towards a user
    event_type    VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,  -- UTC
    item_id       VARCHAR,
    category      VARCHAR,
    price         DOUBLE,
    quantity      DOUBLE,
    amount        DOUBLE,
    order_id      VARCHAR,
    session_id    VARCHAR,
    channel       VARCHAR,
    event_id      VARCHAR,
    source_id     INTEGER NOT NULL,
    line          BIGINT NOT NULL
);

CREATE TABLE users (
    user_id       VARCHAR PRIMARY KEY,
    signup_date   DATE,
    gender        VARCHAR,
    birth_date    DATE,
    age           INTEGER,
    city          VARCHAR,
    member_level  VARCHAR,
    attributes    JSON,                -- every non-canonical column, as given
    row_hash      UBIGINT NOT NULL,
    source_id     INTEGER NOT NULL,
    line          BIGINT NOT NULL
);

CREATE TABLE items (
    item_id       VARCHAR PRIMARY KEY,
    category      VARCHAR,
    brand         VARCHAR,
    price         DOUBLE,
    attributes    JSON,
    row_hash      UBIGINT NOT NULL,
    source_id     INTEGER NOT NULL,
    line          BIGINT NOT NULL
);

-- Rejected input rows: nothing is dropped silently.
CREATE TABLE quarantine (
    source_id     INTEGER NOT NULL,
    table_name    VARCHAR NOT NULL,
    file          VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    line          BIGINT NOT NULL,     -- record number in the file, the header being line 1
    column_name   VARCHAR,
    reason        VARCHAR NOT NULL,
    value         VARCHAR,
    raw           VARCHAR              -- the whole source row, as JSON or text
);

-- Every step run: what, when, with which parameters, and its figures.
CREATE TABLE runs (
    run_id        INTEGER PRIMARY KEY,
    step          VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,    -- running, ok, failed
    as_of         TIMESTAMP,
    params        JSON,
    metrics       JSON,
    message       VARCHAR,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP
);
