-- The API's rate limits, shared by every api-server on this database: one row per bucket
-- (an API key), holding the GCRA "theoretical arrival time" in microseconds since the Unix
-- epoch and whether the last request fitted. One upsert per request reads and moves it.
-- UNLOGGED: no WAL, so no commit waits for a disk flush (5.4 ms a request logged, 0.18 ms
-- unlogged, on the CI machine); after a crash or on a promoted standby the buckets start
-- empty, which only means full buckets once.
CREATE UNLOGGED TABLE rate_limit_buckets (
    bucket TEXT PRIMARY KEY NOT NULL,
    tat_us BIGINT NOT NULL,
    allowed BOOLEAN NOT NULL
);
