-- +goose Up
-- The analysts' query-cost budgets (RATE_LIMIT_POINTS_PER_MINUTE_ANALYST),
-- shared by every gateway instance: the same shape as rate_limit_buckets, in
-- a table of its own because a table's rows are decayed and purged at one
-- restore rate. See internal/ratelimit.
--
-- Expand only: a gateway built before this migration never reads the
-- table, so it keeps serving while newer instances roll out (see README.md
-- in this directory).
CREATE TABLE analyst_rate_limit_buckets (
    key        text             PRIMARY KEY,
    debt       double precision NOT NULL CHECK (debt >= 0),
    updated_at timestamptz      NOT NULL
);
CREATE INDEX analyst_rate_limit_buckets_updated_at ON analyst_rate_limit_buckets (updated_at);

-- +goose Down
DROP TABLE analyst_rate_limit_buckets;
