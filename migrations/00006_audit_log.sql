-- +goose Up
-- audit_events is the append-only audit log: one row per change made by an
-- admin or a seller (written in the transaction of the change) and per admin
-- read of a lead's personal data. changes holds before/after values of
-- non-personal fields only. ip is the client's network, never its address:
-- an IPv4 /24 or an IPv6 /48 in CIDR notation (the CHECK refuses anything
-- finer). The triggers below refuse UPDATE, DELETE and TRUNCATE for every
-- role, superusers and the table's owner included (privileges alone do not
-- stop them); only DROP TABLE (the Down migration) removes rows.
CREATE TABLE audit_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    actor_id    text,
    actor_role  text,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text,
    changes     jsonb,
    request_id  text,
    ip          text CHECK (ip IS NULL OR masklen(ip::cidr) = CASE family(ip::cidr) WHEN 4 THEN 24 ELSE 48 END),
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Newest first, alone and under each filter of the auditEvents query.
CREATE INDEX audit_events_newest_idx ON audit_events (created_at DESC, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, created_at DESC, id DESC);
CREATE INDEX audit_events_action_idx ON audit_events (action, created_at DESC, id DESC);
CREATE INDEX audit_events_target_idx ON audit_events (target_type, target_id, created_at DESC, id DESC);

-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- +goose Down
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
