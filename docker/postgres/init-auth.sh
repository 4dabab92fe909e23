#!/bin/sh
# First start of the auth PostgreSQL (official image's initdb hook): the
# same role and database scripts/pg-local makes.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE gophkeeper_auth LOGIN PASSWORD '$GK_AUTH_PASSWORD';
CREATE DATABASE gophkeeper_auth OWNER gophkeeper_auth;
REVOKE ALL ON DATABASE gophkeeper_auth FROM PUBLIC;
SQL
