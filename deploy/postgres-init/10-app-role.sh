#!/bin/sh
# The role Tessera's web app, worker and beat log in as (DATABASE_URL): it may read and write
# rows (the migrate service grants that, as the owner), but it is not a superuser, owns nothing
# and has no BYPASSRLS, so PostgreSQL's row-level security holds for it.
# The postgres image runs this once, when the database volume is first created; on a volume made
# before, create the role by hand (README, "Database roles").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE tessera_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
    PASSWORD :'app_password';
SQL
