#!/bin/sh
# First start of the vault primary: replication, writer and read-only query
# roles, as scripts/pg-local makes them. The writer's first migration grants
# the query role SELECT (migrations/vault/postgres/0002_query_role.sql).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE gophkeeper_replication LOGIN REPLICATION PASSWORD '$GK_REPLICATION_PASSWORD';
CREATE ROLE gophkeeper_vault LOGIN PASSWORD '$GK_VAULT_PASSWORD';
CREATE ROLE gophkeeper_query LOGIN PASSWORD '$GK_QUERY_PASSWORD';
ALTER ROLE gophkeeper_query SET default_transaction_read_only = on;
CREATE DATABASE gophkeeper_vault OWNER gophkeeper_vault;
REVOKE ALL ON DATABASE gophkeeper_vault FROM PUBLIC;
GRANT CONNECT ON DATABASE gophkeeper_vault TO gophkeeper_query;
SQL
echo "host replication gophkeeper_replication all scram-sha-256" >> "$PGDATA/pg_hba.conf"
