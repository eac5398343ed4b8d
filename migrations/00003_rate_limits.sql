-- +goose Up
-- The per-principal query-cost budgets (internal/ratelimit), shared by every
-- gateway instance. One row per budget key: debt is the points spent and not
-- yet restored as of updated_at (a token bucket stored as its deficit:
-- remaining = budget - debt, and debt decays at the restore rate). key is an
-- HMAC of the principal key (role and subject, seller id, or client IP),
-- never the raw value. Instances push their spend about once a second; see
-- internal/ratelimit.
CREATE TABLE rate_limit_buckets (
    key        text             PRIMARY KEY,
    debt       double precision NOT NULL CHECK (debt >= 0),
    updated_at timestamptz      NOT NULL
);
CREATE INDEX rate_limit_buckets_updated_at ON rate_limit_buckets (updated_at);

-- +goose Down
DROP TABLE rate_limit_buckets;
