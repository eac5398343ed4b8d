-- +goose Up
-- The per-IP event budgets (RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE) shared by
-- every gateway instance: the same shape as rate_limit_buckets (a token
-- bucket stored as its deficit, keyed by an HMAC of the client IP), in a
-- table of its own because a table's rows are decayed and purged at one
-- restore rate. See internal/ratelimit.
CREATE TABLE event_rate_limit_buckets (
    key        text             PRIMARY KEY,
    debt       double precision NOT NULL CHECK (debt >= 0),
    updated_at timestamptz      NOT NULL
);
CREATE INDEX event_rate_limit_buckets_updated_at ON event_rate_limit_buckets (updated_at);

-- A seller that becomes SUSPENDED is announced on the channel
-- seller_suspended (its id) when the transaction commits, whatever wrote
-- the row: every gateway instance closes the seller's open websockets.
-- +goose StatementBegin
CREATE FUNCTION sellers_notify_suspended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('seller_suspended', NEW.id::text);
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER sellers_notify_suspended AFTER UPDATE OF status ON sellers
    FOR EACH ROW WHEN (NEW.status = 'SUSPENDED' AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION sellers_notify_suspended();

-- +goose Down
DROP TRIGGER sellers_notify_suspended ON sellers;
DROP FUNCTION sellers_notify_suspended();
DROP TABLE event_rate_limit_buckets;
