-- The API's rate limits, shared by every api-server on this database: one row per bucket
-- (an API key), holding the GCRA "theoretical arrival time" in microseconds since the Unix
-- epoch and whether the last request fitted. One upsert per request reads and moves it.
CREATE TABLE rate_limit_buckets (
    bucket TEXT PRIMARY KEY NOT NULL,
    tat_us BIGINT NOT NULL,
    allowed BOOLEAN NOT NULL
);
