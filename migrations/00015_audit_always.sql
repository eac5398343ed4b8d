-- +goose Up
-- The append-only triggers of audit_events fire in every replication mode:
-- an ordinary trigger is skipped while a session runs with
-- session_replication_role = replica, which any superuser (and the owner of
-- a logical replication setup) may set, and a DELETE then went through.
-- ENABLE ALWAYS makes them fire whatever the mode. The serving role is also
-- granted neither UPDATE, DELETE nor TRUNCATE on the table (gateway migrate
-- up, database.GrantServing), so it is refused before any trigger runs.
ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update_delete;
ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_truncate;

-- +goose Down
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate;
