#!/usr/bin/env bash
# compose/postgres-init.sh — Kindred's PostgreSQL provisioning: for each service a login
# role kindred_<service> that owns database kindred_<service>, which no other role may
# connect to (REVOKE ALL ON DATABASE ... FROM PUBLIC) and whose public schema no other
# role may use (REVOKE ALL ON SCHEMA public FROM PUBLIC). The same SQL as
# scripts/lib/stack.sh (_k_pg_role_db_sql) runs for the local stack.
#
# Idempotent: run it after every change of a password (it sets them again) or of the
# service list. In docker-compose.yml it is the one-shot `postgres-init` container that
# the services wait for; against any other server run it wherever psql is installed:
#
#   PGHOST=db.example PGUSER=admin PGPASSWORD=... PGSSLMODE=require \
#   KINDRED_PG_PASSWORD_GATEWAY=... (one per service) compose/postgres-init.sh
#
# Environment:
#   PGHOST, PGPORT, PGUSER, PGPASSWORD, PGSSLMODE, ...  libpq's own variables: how to
#       reach the server as a role that may create roles and databases (a superuser, or
#       CREATEROLE + CREATEDB; then it also needs to be able to SET log_min_error_statement,
#       which only superusers can: set KINDRED_PG_QUIET_LOG=0 to skip that).
#   PGDATABASE                     the maintenance database to connect to (default postgres)
#   KINDRED_PG_PASSWORD_GATEWAY ... _MEDIA    password of role kindred_<service>: at least
#       16 characters from A-Z a-z 0-9 . _ ~ - (no quoting needed in SQL, in a libpq
#       string or in a URL).
#   KINDRED_PG_WAIT_SECONDS        how long to wait for the server (default 60)
set -euo pipefail

services=(gateway profile matching notification payment media)

die() {
    printf 'postgres-init: %s\n' "$*" >&2
    exit 1
}

check_secret() {
    local name=$1 value=${!1:-}
    [[ -n "$value" ]] || die "$name is not set (see compose/env.example)"
    ((${#value} >= 16)) || die "$name must be at least 16 characters long"
    [[ "$value" =~ ^[A-Za-z0-9._~-]+$ ]] ||
        die "$name may contain only A-Z a-z 0-9 . _ ~ - (e.g. the output of: openssl rand -hex 24)"
}

for s in "${services[@]}"; do
    check_secret "KINDRED_PG_PASSWORD_${s^^}"
done
command -v psql >/dev/null 2>&1 || die "psql is not installed"
: "${PGDATABASE:=postgres}"
export PGDATABASE

# Wait for the server (compose already waits for the healthcheck; elsewhere it helps).
wait_seconds=${KINDRED_PG_WAIT_SECONDS:-60}
for ((i = 0; ; i++)); do
    if pg_isready -q -t 2 >/dev/null 2>&1; then
        break
    fi
    ((i < wait_seconds)) || die "PostgreSQL at ${PGHOST:-<socket>}:${PGPORT:-5432} did not answer within ${wait_seconds} s"
    sleep 1
done

# Keep statements that carry passwords out of the server log, even if one fails (by
# default a failing statement is logged in full).
quiet_log() {
    if [[ "${KINDRED_PG_QUIET_LOG:-1}" == 1 ]]; then
        echo "SET log_min_error_statement = panic;"
        echo "SET log_statement = 'none';"
    fi
}

role_db_sql() { # NAME PASSWORD
    local n=$1 pw=$2
    cat <<EOF
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$n') THEN CREATE ROLE $n; END IF;
END\$\$;
ALTER ROLE $n WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '$pw';
SELECT 'CREATE DATABASE $n OWNER $n' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$n')
\\gexec
ALTER DATABASE $n OWNER TO $n;
REVOKE ALL ON DATABASE $n FROM PUBLIC;
\\connect $n
EOF
    quiet_log
    cat <<EOF
REVOKE ALL ON SCHEMA public FROM PUBLIC;
\\connect $PGDATABASE
EOF
    quiet_log
}

# The SQL goes through stdin, never on a command line; -X ignores any ~/.psqlrc.
{
    quiet_log
    for s in "${services[@]}"; do
        pw="KINDRED_PG_PASSWORD_${s^^}"
        role_db_sql "kindred_$s" "${!pw}"
    done
} | psql -X -q -v ON_ERROR_STOP=1 >/dev/null || die "provisioning failed (see the messages above)"

echo "postgres-init: roles and databases kindred_<service> ready for: ${services[*]}" >&2
