-- dev_roles.sql: the database roles of development and tests, created when
-- missing (idempotent; run as a superuser or a role with CREATEROLE by
-- scripts/db.sh and internal/testdb):
--   gateway_owner  owns the schema's objects; migrations and the demo seed
--                  run as it (MIGRATE_DATABASE_URL)
--   gateway_app    serves (DATABASE_URL): owns nothing, holds the
--                  privileges `gateway migrate up` grants it
-- Their passwords are their names: development only, like the rest of the
-- private cluster. Each block stands alone, so that a process racing
-- another to create a role still creates the other.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateway_owner') THEN
        CREATE ROLE gateway_owner LOGIN PASSWORD 'gateway_owner';
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateway_app') THEN
        CREATE ROLE gateway_app LOGIN PASSWORD 'gateway_app';
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;
-- Whatever they were given since, they skip no row-level security.
ALTER ROLE gateway_owner NOSUPERUSER NOBYPASSRLS;
ALTER ROLE gateway_app NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
