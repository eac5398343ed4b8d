-- Run by the postgres image on its first start (after 10-roles.sql, the
-- repository's scripts/dev_roles.sql): lets gateway_owner create the
-- gateway's objects in the database, as scripts/db.sh roles does for
-- make run. gateway_app gets its privileges from `gateway migrate up`.
SELECT format('GRANT CREATE ON DATABASE %I TO gateway_owner', current_database()) \gexec
GRANT CREATE ON SCHEMA public TO gateway_owner;
-- The optional RUM index of listing search needs the extension created by
-- a superuser; where the image has no RUM, the gateway searches without it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'rum') THEN
        CREATE EXTENSION IF NOT EXISTS rum;
    END IF;
END $$;
