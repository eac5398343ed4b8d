-- +goose Up
-- Fixed-window counters of the abuse limits of submitLead and reportListing,
-- shared by every gateway instance. key is an HMAC of the client IP or
-- email, never the raw value.
CREATE TABLE abuse_counters (
    kind         text        NOT NULL,
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    count        integer     NOT NULL,
    PRIMARY KEY (kind, key, window_start)
);
CREATE INDEX abuse_counters_expires_at ON abuse_counters (expires_at);

-- +goose Down
DROP TABLE abuse_counters;
