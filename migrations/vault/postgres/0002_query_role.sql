-- The query service's database user: it may read records and revision
-- counters and nothing else, so that the read side has no way to write even
-- when pointed at the primary by mistake (on the replica every write is
-- refused anyway).
--
-- Roles belong to the whole server, not to this database, and need a
-- password, so the bootstrap creates `gophkeeper_query` before the first
-- migration, as a superuser (scripts/pg-local shows the exact statements):
--
--   CREATE ROLE gophkeeper_query LOGIN PASSWORD '...';
--   ALTER ROLE gophkeeper_query SET default_transaction_read_only = on;
--
-- If it is missing, a migrating user allowed to create roles makes it
-- (without login); anyone else gets a clear error here rather than a query
-- service that fails later with "permission denied".
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gophkeeper_query') THEN
        BEGIN
            CREATE ROLE gophkeeper_query NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'role gophkeeper_query does not exist and % may not create it', current_user
                USING HINT = 'create it first as a superuser; see migrations/vault/postgres/0002_query_role.sql';
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO gophkeeper_query;
GRANT SELECT ON user_revisions, records TO gophkeeper_query;
