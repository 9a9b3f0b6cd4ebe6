#!/usr/bin/env bash
# scripts/lib/stack.sh — the local Kindred stack: one PostgreSQL 15 server and one
# RabbitMQ 3.10 node, run as ordinary processes on 127.0.0.1 with all their state
# under $KINDRED_STATE_DIR, plus the databases, roles, vhost, broker users and
# secrets the six services need.
#
# Sourced by scripts/run, scripts/test, scripts/stack and scripts/bench; not meant to be
# executed.
#
# Public functions:
#   kindred_install_packages     apt-get what is missing; stop Debian's own instances
#   kindred_start_stack          start (or reuse) PostgreSQL and RabbitMQ, provision them
#   kindred_stop_stack           stop our RabbitMQ and PostgreSQL
#   kindred_stop_started_stack   stop only what this process's kindred_start_stack started
#   kindred_stack_status
#   kindred_export_env           export every URL/secret variable (tests, developer shell)
#   kindred_env_names            the names kindred_export_env exports
#   kindred_service_env [--print] SERVICE
#                                export (or print as `export` lines) one service's variables
#   kindred_check_http_ports     fail unless the six service HTTP ports (and their admin
#                                ports, + 1000) are free
#   kindred_http_ready_status PORT   the HTTP status of GET /ready ("000" if no answer)
#   kindred_start_broker | kindred_stop_broker | kindred_start_postgres | kindred_stop_postgres
#                                start or stop one server alone (the fault tests' faults)
#
# Configuration (environment, with defaults):
#   KINDRED_STATE_DIR        <repo>/.kindred
#   KINDRED_PG_PORT          5432
#   KINDRED_AMQP_PORT        5672
#   KINDRED_AMQPS_PORT       5671    (the broker's TLS listener, with a local CA made here)
#   KINDRED_AMQP_DIST_PORT   25672   (Erlang distribution port of the RabbitMQ node)
#   KINDRED_AMQP_NODENAME    kindred@localhost
#   KINDRED_<SERVICE>_HTTP_PORT  8080 (gateway) … 8085 (media)
#   KINDRED_S3_PORT          9000    (a local S3-compatible store, moto's server from PyPI,
#                                     which checks SigV4 signatures; the media tests use it)
#
# Nothing here ever connects to, or listens on, anything but 127.0.0.1 (and the
# PostgreSQL unix socket inside the state folder).

set -euo pipefail

# Sourcing twice is harmless.
if [[ -n "${KINDRED_STACK_SH_LOADED:-}" ]]; then
    return 0
fi
KINDRED_STACK_SH_LOADED=1

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

KINDRED_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

: "${KINDRED_STATE_DIR:=$KINDRED_REPO_ROOT/.kindred}"
case "$KINDRED_STATE_DIR" in
    /*) ;;
    *) KINDRED_STATE_DIR="$PWD/$KINDRED_STATE_DIR" ;;
esac
# Collapse a trailing slash so that paths we compare (e.g. in /proc/*/cmdline) match.
KINDRED_STATE_DIR="${KINDRED_STATE_DIR%/}"

: "${KINDRED_PG_PORT:=5432}"
: "${KINDRED_AMQP_PORT:=5672}"
: "${KINDRED_AMQPS_PORT:=5671}"
: "${KINDRED_AMQP_DIST_PORT:=25672}"
: "${KINDRED_AMQP_NODENAME:=kindred@localhost}"
: "${KINDRED_GATEWAY_HTTP_PORT:=8080}"
: "${KINDRED_PROFILE_HTTP_PORT:=8081}"
: "${KINDRED_MATCHING_HTTP_PORT:=8082}"
: "${KINDRED_NOTIFICATION_HTTP_PORT:=8083}"
: "${KINDRED_PAYMENT_HTTP_PORT:=8084}"
: "${KINDRED_MEDIA_HTTP_PORT:=8085}"

# The order is the start order used by scripts/run.
KINDRED_SERVICES=(gateway profile matching notification payment media)

KINDRED_PACKAGES=(
    rabbitmq-server      # the broker (we run it ourselves, not the Debian service)
    librabbitmq-dev      # rabbitmq-c, linked by Shared/CRabbitMQ
    libpq-dev            # libpq, linked by Shared/CLibPQ
    libcurl4-openssl-dev # libcurl, linked by Shared/CCurl
    postgresql-15        # the server binaries (initdb, pg_ctl, postgres)
    postgresql-client-15 # psql, pg_isready
    pkg-config           # SwiftPM finds the three C libraries through it
    curl                 # readiness checks in scripts/run
    iproute2             # `ss`, to tell whether a port is taken
    ca-certificates      # SwiftPM fetches dependencies over HTTPS
    openssl              # the local CA and certificate of the TLS listeners
    tzdata               # IANA time zones: profiles name theirs (Foundation reads /usr/share/zoneinfo)
    libturbojpeg0-dev    # JPEG, linked by Shared/CTurboJPEG (the media service)
    libspng-dev          # PNG, linked by Shared/CSpng
    libwebp-dev          # WebP, linked by Shared/CWebP
)

KINDRED_PG_BIN=/usr/lib/postgresql/15/bin
# The real RabbitMQ scripts. /usr/sbin/rabbitmq-server and /usr/sbin/rabbitmqctl
# are Debian wrappers that, when run as root, `su` to the rabbitmq user, cd to
# /var/lib/rabbitmq and reset HOME — which would lose our state folder and our
# Erlang cookie. The scripts below run fine as root (or any user) as they are.
KINDRED_RABBIT_BIN=/usr/lib/rabbitmq/bin

# Paths inside the state folder.
_k_log_dir="$KINDRED_STATE_DIR/log"
_k_secrets_file="$KINDRED_STATE_DIR/secrets.env"
_k_lock_file="$KINDRED_STATE_DIR/.lock"
_k_pg_data="$KINDRED_STATE_DIR/postgres"
_k_pg_log="$_k_log_dir/postgres.log"
_k_rmq_dir="$KINDRED_STATE_DIR/rabbitmq"
_k_rmq_pid_file="$_k_rmq_dir/rabbitmq.pid"
_k_rmq_running_file="$_k_rmq_dir/running.conf"
_k_rmq_epmd_marker="$_k_rmq_dir/epmd-started-by-kindred"
_k_tls_dir="$KINDRED_STATE_DIR/tls"
_k_s3_dir="$KINDRED_STATE_DIR/s3"
_k_s3_pid_file="$_k_s3_dir/moto.pid"
_k_s3_credentials="$_k_s3_dir/credentials"
KINDRED_S3_PORT=${KINDRED_S3_PORT:-9000}
# moto's server, pinned: a local S3 (and IAM) that checks signatures like AWS does.
KINDRED_S3_MOTO="moto[server]==5.1.22"
KINDRED_S3_BUCKET=kindred-media-test

# The unix socket path (dir + "/.s.PGSQL.<port>") must fit in sun_path (107 bytes).
# Keep it in the state folder unless that is too deep, then fall back to /tmp.
_k_pg_sock="$KINDRED_STATE_DIR/pgsocket"
if ((${#_k_pg_sock} + 18 > 100)); then
    _k_pg_sock="/tmp/kindred-pg-$(printf '%s' "$KINDRED_STATE_DIR" | md5sum | cut -c1-12)"
fi

# Set by kindred_start_stack: 1 when this process started the component, so that
# callers (scripts/test, scripts/run) stop only what they started.
KINDRED_STARTED_PG=0
KINDRED_STARTED_AMQP=0
KINDRED_STARTED_S3=0

# Secrets, loaded from $_k_secrets_file (never exported under these names).
declare -gA _k_secrets=()

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

kindred_log() {
    if [[ -t 2 ]]; then
        printf '\033[1m==>\033[0m %s\n' "$*" >&2
    else
        printf '==> %s\n' "$*" >&2
    fi
}
kindred_warn() { printf 'warning: %s\n' "$*" >&2; }
kindred_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

_k_upper() { printf '%s' "${1^^}"; }

_k_is_service() {
    local s
    for s in "${KINDRED_SERVICES[@]}"; do
        [[ "$s" == "$1" ]] && return 0
    done
    return 1
}

# Run a command as root (directly, or through sudo when we are not root).
_k_as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        kindred_die "this needs root (and sudo is not installed): $*"
    fi
}

# Run a command as the PostgreSQL server's owner. PostgreSQL refuses to run as
# root, so as root we switch to `postgres`; as anyone else the server simply runs
# as that user. `cd /` avoids "could not change directory" noise when our working
# directory is not readable by postgres.
_k_as_pg() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

_k_pg_owner() {
    if ((EUID == 0)); then echo postgres; else id -un; fi
}

# Random lowercase hex with $1 bytes of entropy (2*$1 characters).
_k_random_hex() {
    od -An -vtx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# A serialising lock on the state folder, so that two scripts starting or stopping
# the stack at the same time do not both run initdb or both start a broker.
# fd 9 must not leak into the long-lived servers (or the lock would outlive us):
# every daemon start below closes it with `9>&-`.
_k_lock() {
    mkdir -p "$KINDRED_STATE_DIR"
    exec 9>"$_k_lock_file"
    if ! flock -w 300 9; then
        kindred_die "another Kindred script has held $_k_lock_file for 5 minutes; giving up"
    fi
}
_k_unlock() { exec 9>&-; }

_k_validate_port() { # NAME VALUE
    local name=$1 value=$2
    if ! [[ "$value" =~ ^[0-9]+$ ]] || ((value < 1 || value > 65535)); then
        kindred_die "$name must be a TCP port number (1-65535), not '$value'"
    fi
}

# True when something listens on TCP port $1 (on any address).
kindred_port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]]
    else
        # Fallback: can we connect to it on loopback?
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

_k_require_free_port() { # PORT VARIABLE_NAME
    if kindred_port_in_use "$1"; then
        kindred_die "port $1 is in use by another program; set $2 to a free port"
    fi
}

# Fail when two of the named variables hold the same port.
_k_require_distinct_ports() { # VAR...
    local -A seen=()
    local var value
    for var in "$@"; do
        value=${!var}
        if [[ -n "${seen[$value]:-}" ]]; then
            kindred_die "$var and ${seen[$value]} are both set to port $value; give them different ports"
        fi
        seen[$value]=$var
    done
}

_k_http_port_var() { printf 'KINDRED_%s_HTTP_PORT' "$(_k_upper "$1")"; }

# Used by scripts/run before it starts the services.
kindred_check_http_ports() {
    local s var vars=()
    for s in "${KINDRED_SERVICES[@]}"; do
        var=$(_k_http_port_var "$s")
        _k_validate_port "$var" "${!var}"
        vars+=("$var")
    done
    _k_require_distinct_ports "${vars[@]}" KINDRED_PG_PORT KINDRED_AMQP_PORT KINDRED_AMQP_DIST_PORT
    for var in "${vars[@]}"; do
        _k_require_free_port "${!var}" "$var"
        # The admin listener (/metrics, detailed /ready) of the same service: port + 1000.
        _k_require_free_port "$((${!var} + 1000))" "$var (its admin port is $var + 1000)"
    done
}

# ---------------------------------------------------------------------------
# Packages, and Debian's own broker/database instances
# ---------------------------------------------------------------------------

_k_pkg_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" == "ii " ]]
}

kindred_install_packages() {
    local pkg missing=()
    for pkg in "${KINDRED_PACKAGES[@]}"; do
        _k_pkg_installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]} > 0)); then
        kindred_log "installing ${missing[*]}"
        _k_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        _k_as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "${missing[@]}"
    fi
    # Installing rabbitmq-server / postgresql-15 may have started Debian's own
    # instances (depending on the machine's init/policy-rc.d); they would hold
    # 5672/25672/5432. Check on every run, not only after an install: they may
    # have been started since.
    _k_stop_system_rabbitmq
    _k_stop_system_postgres
}

# PIDs of processes owned by the `rabbitmq` user whose name is one of "$@": the
# Debian service's Erlang VM (beam.smp) and the epmd it started. Ours run as the
# invoking user (normally root).
_k_system_rabbit_pids() {
    local uid p comm want
    uid=$(id -u rabbitmq 2>/dev/null) || return 0
    for p in /proc/[0-9]*; do
        [[ "$(stat -c %u "$p" 2>/dev/null)" == "$uid" ]] || continue
        comm=$(cat "$p/comm" 2>/dev/null) || continue
        for want in "$@"; do
            [[ "$comm" == "$want" ]] && printf '%s\n' "${p#/proc/}"
        done
    done
    return 0
}

_k_stop_system_rabbitmq() {
    local pids pid i
    pids=$(_k_system_rabbit_pids beam beam.smp)
    if [[ -n "$pids" ]]; then
        kindred_log "stopping Debian's own rabbitmq-server (it holds the ports our node needs)"
        _k_as_root service rabbitmq-server stop >/dev/null 2>&1 || true
        for ((i = 0; i < 30; i++)); do
            pids=$(_k_system_rabbit_pids beam beam.smp)
            [[ -n "$pids" ]] || break
            sleep 1
        done
        # The init script could not stop it (e.g. no working init system): signal it.
        for pid in $pids; do _k_as_root kill -TERM "$pid" 2>/dev/null || true; done
        for ((i = 0; i < 20 && ${#pids} > 0; i++)); do
            sleep 1
            pids=$(_k_system_rabbit_pids beam beam.smp)
        done
        for pid in $pids; do _k_as_root kill -KILL "$pid" 2>/dev/null || true; done
    fi
    # The epmd that node started outlives it and listens on all interfaces. Ask it
    # to exit so that ours starts on loopback only; `epmd -kill` refuses while any
    # node is still registered, so this never cuts off a live node.
    if [[ -n "$(_k_system_rabbit_pids epmd)" ]]; then
        epmd -kill >/dev/null 2>&1 || true
    fi
}

# Debian's clusters (pg_lsclusters: /etc/postgresql/...) are never ours — ours lives
# in the state folder and is not registered there. Stop any that is online on the
# port we want.
_k_stop_system_postgres() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    local ver name port status _rest
    while read -r ver name port status _rest; do
        [[ "$status" == online* && "$port" == "$KINDRED_PG_PORT" ]] || continue
        kindred_log "stopping Debian's PostgreSQL cluster $ver/$name (it holds port $port)"
        _k_as_root pg_ctlcluster "$ver" "$name" stop || kindred_warn "could not stop cluster $ver/$name"
    done < <(pg_lsclusters -h 2>/dev/null || true)
}

# ---------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------

# name → number of random bytes
_k_secret_specs() {
    local s
    echo "KINDRED_PG_ADMIN_PASSWORD 24"
    echo "KINDRED_AMQP_ADMIN_PASSWORD 24"
    echo "KINDRED_PG_TEST_PASSWORD 24"
    for s in "${KINDRED_SERVICES[@]}"; do
        echo "KINDRED_PG_PASSWORD_$(_k_upper "$s") 24"
        echo "KINDRED_AMQP_PASSWORD_$(_k_upper "$s") 24"
    done
    echo "KINDRED_JWT_SECRET 32"
    echo "KINDRED_MEDIA_URL_SECRET 32"
}

# kindred_load_secrets [--create]: read $_k_secrets_file into _k_secrets; with
# --create, generate whatever is missing (first run, or a service added since).
# The file is parsed, not sourced, and only NAME=hex lines are accepted.
kindred_load_secrets() {
    local create=0 name bytes value
    [[ "${1:-}" == "--create" ]] && create=1
    _k_secrets=()
    if [[ -f "$_k_secrets_file" ]]; then
        if [[ ! -r "$_k_secrets_file" ]]; then
            kindred_die "cannot read $_k_secrets_file (it belongs to $(stat -c %U "$_k_secrets_file"))"
        fi
        while IFS='=' read -r name value; do
            if [[ "$name" =~ ^KINDRED_[A-Z0-9_]+$ && "$value" =~ ^[0-9a-f]+$ ]]; then
                _k_secrets[$name]=$value
            fi
        done <"$_k_secrets_file"
    elif ((create == 0)); then
        kindred_die "no secrets yet ($_k_secrets_file); run scripts/stack start first"
    fi
    local -a new=()
    while read -r name bytes; do
        [[ -n "${_k_secrets[$name]:-}" ]] && continue
        ((create == 1)) || kindred_die "$_k_secrets_file has no $name; run scripts/stack start"
        _k_secrets[$name]=$(_k_random_hex "$bytes")
        new+=("$name")
    done < <(_k_secret_specs)
    if ((${#new[@]} > 0)); then
        # shellcheck disable=SC2094 # the test only checks whether the file exists yet
        (
            umask 077
            if [[ ! -f "$_k_secrets_file" ]]; then
                printf '# Kindred local-stack secrets, generated %s by scripts/lib/stack.sh.\n' "$(date -u +%FT%TZ)"
                printf '# Reused on every start. Delete this file together with the rest of %s\n' "$KINDRED_STATE_DIR"
                printf '# to start over (the databases and broker users hold these passwords).\n'
            fi
            for name in "${new[@]}"; do
                printf '%s=%s\n' "$name" "${_k_secrets[$name]}"
            done
        ) >>"$_k_secrets_file"
    fi
    if [[ -f "$_k_secrets_file" && -O "$_k_secrets_file" ]]; then
        chmod 600 "$_k_secrets_file"
    fi
}

_k_secret() {
    local v=${_k_secrets[$1]:-}
    [[ -n "$v" ]] || kindred_die "secret $1 is not loaded"
    printf '%s' "$v"
}

# ---------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------

# A private CA and a certificate for localhost and 127.0.0.1 signed by it, made once: the
# broker's TLS listener and PostgreSQL's ssl serve it, and clients verify it against
# $_k_tls_dir/ca.pem (KINDRED_TLS_CA_FILE). It is good for this machine's loopback only.
_k_tls_ensure() {
    [[ -s "$_k_tls_dir/ca.pem" && -s "$_k_tls_dir/server.pem" && -s "$_k_tls_dir/server.key" ]] && return 0
    mkdir -p "$_k_tls_dir"
    chmod 700 "$_k_tls_dir"
    local curve=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    (
        cd "$_k_tls_dir"
        umask 077
        openssl req -x509 "${curve[@]}" -days 3650 -subj "/CN=Kindred local CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout ca.key -out ca.pem
        openssl req "${curve[@]}" -subj "/CN=localhost" -keyout server.key -out server.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
            >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile server.ext -out server.pem
        rm -f server.csr server.ext
        chmod 644 ca.pem server.pem
    ) >/dev/null 2>&1 || kindred_die "cannot make the local TLS certificates in $_k_tls_dir (is openssl installed?)"
}

# ---------------------------------------------------------------------------
# Connection strings
# ---------------------------------------------------------------------------

# libpq keyword/value string. Passwords are hex, so no quoting is needed.
_k_pg_conninfo() { # DBNAME USER PASSWORD
    printf 'host=127.0.0.1 port=%s dbname=%s user=%s password=%s' "$KINDRED_PG_PORT" "$1" "$2" "$3"
}

_k_amqp_url() { # USER PASSWORD
    printf 'amqp://%s:%s@127.0.0.1:%s/kindred' "$1" "$2" "$KINDRED_AMQP_PORT"
}

# The names kindred_export_env exports, in a stable order.
kindred_env_names() {
    local s u
    for s in "${KINDRED_SERVICES[@]}"; do
        u=$(_k_upper "$s")
        echo "KINDRED_DATABASE_URL_$u"
        echo "KINDRED_AMQP_URL_$u"
    done
    echo KINDRED_TEST_DATABASE_URL
    echo KINDRED_ADMIN_DATABASE_URL
    echo KINDRED_ADMIN_AMQP_URL
    echo KINDRED_JWT_SECRET
    echo KINDRED_MEDIA_URL_KEYS
    echo KINDRED_TLS_CA_FILE
    echo KINDRED_AMQPS_PORT
    echo KINDRED_TEST_S3_URL
    echo KINDRED_TEST_S3_BUCKET
    echo KINDRED_TEST_S3_ACCESS_KEY
    echo KINDRED_TEST_S3_SECRET_KEY
}

kindred_export_env() {
    ((${#_k_secrets[@]} > 0)) || kindred_load_secrets
    local s u
    for s in "${KINDRED_SERVICES[@]}"; do
        u=$(_k_upper "$s")
        export "KINDRED_DATABASE_URL_$u=$(_k_pg_conninfo "kindred_$s" "kindred_$s" "$(_k_secret "KINDRED_PG_PASSWORD_$u")")"
        export "KINDRED_AMQP_URL_$u=$(_k_amqp_url "kindred_$s" "$(_k_secret "KINDRED_AMQP_PASSWORD_$u")")"
    done
    KINDRED_TEST_DATABASE_URL=$(_k_pg_conninfo kindred_test kindred_test "$(_k_secret KINDRED_PG_TEST_PASSWORD)")
    KINDRED_ADMIN_DATABASE_URL=$(_k_pg_conninfo postgres kindred_admin "$(_k_secret KINDRED_PG_ADMIN_PASSWORD)")
    KINDRED_ADMIN_AMQP_URL=$(_k_amqp_url kindred_admin "$(_k_secret KINDRED_AMQP_ADMIN_PASSWORD)")
    KINDRED_JWT_SECRET=$(_k_secret KINDRED_JWT_SECRET)
    KINDRED_MEDIA_URL_KEYS="k1:$(_k_secret KINDRED_MEDIA_URL_SECRET)"
    KINDRED_TLS_CA_FILE="$_k_tls_dir/ca.pem"
    export KINDRED_TEST_DATABASE_URL KINDRED_ADMIN_DATABASE_URL KINDRED_ADMIN_AMQP_URL KINDRED_JWT_SECRET
    export KINDRED_MEDIA_URL_KEYS
    export KINDRED_TLS_CA_FILE KINDRED_AMQPS_PORT
    KINDRED_TEST_S3_URL="http://127.0.0.1:$KINDRED_S3_PORT"
    KINDRED_TEST_S3_BUCKET=$KINDRED_S3_BUCKET
    KINDRED_TEST_S3_ACCESS_KEY=""
    KINDRED_TEST_S3_SECRET_KEY=""
    if [[ -r "$_k_s3_credentials" ]]; then
        read -r KINDRED_TEST_S3_ACCESS_KEY KINDRED_TEST_S3_SECRET_KEY <"$_k_s3_credentials" || true
    fi
    export KINDRED_TEST_S3_URL KINDRED_TEST_S3_BUCKET KINDRED_TEST_S3_ACCESS_KEY KINDRED_TEST_S3_SECRET_KEY
}

# Print `export NAME='value'` lines (values never contain a single quote: they are
# made of hex, digits, letters, '=', ':', '/', '@', '.' and spaces).
_k_print_exports() { # NAME...
    local name
    for name in "$@"; do
        if [[ "${!name}" == *"'"* ]]; then
            printf 'export %s=%q\n' "$name" "${!name}"
        else
            printf "export %s='%s'\n" "$name" "${!name}"
        fi
    done
}

# kindred_service_env [--print] SERVICE
# Exports (into the current shell — call it in a subshell) exactly what one service
# reads: KINDRED_DATABASE_URL, KINDRED_AMQP_URL, KINDRED_HTTP_PORT, for the gateway
# KINDRED_JWT_SECRET and KINDRED_MEDIA_PUBLIC_URL, and for the gateway and media
# KINDRED_MEDIA_URL_KEYS. With --print, prints `export` lines instead.
# shellcheck disable=SC2034 # the variables are exported/printed by name
kindred_service_env() {
    local print=0
    if [[ "${1:-}" == "--print" ]]; then
        print=1
        shift
    fi
    local s=${1:?usage: kindred_service_env [--print] SERVICE}
    _k_is_service "$s" || kindred_die "unknown service '$s' (one of: ${KINDRED_SERVICES[*]})"
    ((${#_k_secrets[@]} > 0)) || kindred_load_secrets
    local u port_var names
    u=$(_k_upper "$s")
    port_var=$(_k_http_port_var "$s")
    KINDRED_DATABASE_URL=$(_k_pg_conninfo "kindred_$s" "kindred_$s" "$(_k_secret "KINDRED_PG_PASSWORD_$u")")
    KINDRED_AMQP_URL=$(_k_amqp_url "kindred_$s" "$(_k_secret "KINDRED_AMQP_PASSWORD_$u")")
    KINDRED_HTTP_PORT=${!port_var}
    names=(KINDRED_DATABASE_URL KINDRED_AMQP_URL KINDRED_HTTP_PORT)
    if [[ "$s" == gateway ]]; then
        KINDRED_JWT_SECRET=$(_k_secret KINDRED_JWT_SECRET)
        # Where clients fetch photos: media's own port unless a CDN is named.
        KINDRED_MEDIA_PUBLIC_URL=${KINDRED_MEDIA_PUBLIC_URL:-http://127.0.0.1:$KINDRED_MEDIA_HTTP_PORT}
        names+=(KINDRED_JWT_SECRET KINDRED_MEDIA_PUBLIC_URL)
    fi
    # The signing keys of photo URLs: the gateway mints them, media checks them.
    if [[ "$s" == gateway || "$s" == media ]]; then
        KINDRED_MEDIA_URL_KEYS="k1:$(_k_secret KINDRED_MEDIA_URL_SECRET)"
        names+=(KINDRED_MEDIA_URL_KEYS)
    fi
    if ((print == 1)); then
        _k_print_exports "${names[@]}"
    else
        # Drop every other service's credentials this shell may have inherited
        # (e.g. from `eval "$(scripts/stack env)"`): a service sees only its own.
        local other
        for other in $(kindred_env_names); do
            [[ " ${names[*]} " == *" $other "* ]] || unset "$other"
        done
        # shellcheck disable=SC2163 # exporting the variables named in the array
        export "${names[@]}"
    fi
}

# ---------------------------------------------------------------------------
# State folder
# ---------------------------------------------------------------------------

_k_prepare_state_dir() {
    local owner
    owner=$(_k_pg_owner)
    mkdir -p "$KINDRED_STATE_DIR" "$_k_log_dir" "$_k_rmq_dir"
    # postgres must be able to traverse the state folder to reach its data,
    # socket and log; the secrets file inside stays 0600.
    chmod 755 "$KINDRED_STATE_DIR" "$_k_log_dir"
    mkdir -p "$_k_pg_data" "$_k_pg_sock"
    if ((EUID == 0)); then
        chown postgres:postgres "$_k_pg_data" "$_k_pg_sock"
        touch "$_k_pg_log"
        chown postgres:postgres "$_k_pg_log"
    else
        touch "$_k_pg_log"
    fi
    chmod 700 "$_k_pg_data"
    chmod 755 "$_k_pg_sock"
    if ! _k_as_pg test -w "$_k_pg_data" -a -w "$_k_pg_sock" -a -w "$_k_pg_log"; then
        kindred_die "user $owner cannot reach $KINDRED_STATE_DIR (a parent folder is not searchable?); set KINDRED_STATE_DIR to a folder it can reach, e.g. /var/tmp/kindred"
    fi
    _k_tls_ensure
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

_k_pg_running() {
    [[ -f "$_k_pg_data/postmaster.pid" ]] || return 1
    _k_as_pg "$KINDRED_PG_BIN/pg_ctl" status -D "$_k_pg_data" >/dev/null 2>&1
}

# Port of the running server (line 4 of postmaster.pid).
_k_pg_running_port() {
    sed -n 4p "$_k_pg_data/postmaster.pid" 2>/dev/null
}

_k_pg_init() {
    [[ -f "$_k_pg_data/PG_VERSION" ]] && return 0
    if [[ -n "$(ls -A "$_k_pg_data" 2>/dev/null)" ]]; then
        kindred_die "$_k_pg_data is not empty but holds no PostgreSQL cluster; remove it (or all of $KINDRED_STATE_DIR) and retry"
    fi
    kindred_log "creating the PostgreSQL cluster in $_k_pg_data"
    # peer for the local superuser (how these scripts provision), passwords for TCP.
    if ! _k_as_pg "$KINDRED_PG_BIN/initdb" -D "$_k_pg_data" --username=postgres \
        --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
        >>"$_k_pg_log" 2>&1; then
        tail -n 20 "$_k_pg_log" >&2
        kindred_die "initdb failed (full log: $_k_pg_log)"
    fi
    # Our settings live in kindred.conf, rewritten on every start.
    printf "\n# Added by scripts/lib/stack.sh\ninclude_if_exists = 'kindred.conf'\n" >>"$_k_pg_data/postgresql.conf"
}

# Rewritten before every start so that a changed KINDRED_PG_PORT takes effect.
_k_pg_write_config() {
    local osuser
    osuser=$(_k_pg_owner)
    _k_as_pg tee "$_k_pg_data/kindred.conf" >/dev/null <<EOF
# Written by scripts/lib/stack.sh before every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $KINDRED_PG_PORT
unix_socket_directories = '$_k_pg_sock'
password_encryption = 'scram-sha-256'
# Six services with connection pools plus the test suite.
max_connections = 300
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
# TLS with the local CA's certificate: clients may ask for sslmode=verify-full.
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
EOF
    _k_as_pg tee "$_k_pg_data/server.crt" >/dev/null <"$_k_tls_dir/server.pem"
    _k_as_pg tee "$_k_pg_data/server.key" >/dev/null <"$_k_tls_dir/server.key"
    _k_as_pg chmod 600 "$_k_pg_data/server.key"
    # Local socket: only the OS user that owns the server, as superuser `postgres`
    # (peer). TCP: 127.0.0.1 only, passwords for every role. Nothing else.
    _k_as_pg tee "$_k_pg_data/pg_hba.conf" >/dev/null <<EOF
# Written by scripts/lib/stack.sh before every start; edit the script, not this file.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer map=kindred
local   all       all                      scram-sha-256
host    all       all       127.0.0.1/32   scram-sha-256
EOF
    _k_as_pg tee "$_k_pg_data/pg_ident.conf" >/dev/null <<EOF
# Written by scripts/lib/stack.sh before every start.
# MAPNAME  SYSTEM-USERNAME  PG-USERNAME
kindred    postgres         postgres
kindred    $osuser          postgres
EOF
}

_k_pg_ensure_running() {
    if _k_pg_running; then
        local port
        port=$(_k_pg_running_port)
        if [[ "$port" != "$KINDRED_PG_PORT" ]]; then
            kindred_die "our PostgreSQL is already running on port $port, but KINDRED_PG_PORT is $KINDRED_PG_PORT; run scripts/stack stop first (or use port $port)"
        fi
        kindred_log "reusing the running PostgreSQL on 127.0.0.1:$port"
        return 0
    fi
    _k_require_free_port "$KINDRED_PG_PORT" KINDRED_PG_PORT
    _k_pg_init
    _k_pg_write_config
    kindred_log "starting PostgreSQL on 127.0.0.1:$KINDRED_PG_PORT (log: $_k_pg_log)"
    # pg_ctl detaches the postmaster into its own session, so Ctrl-C in the
    # terminal that ran us does not reach it. 9>&- : do not leak the lock.
    if ! _k_as_pg "$KINDRED_PG_BIN/pg_ctl" start -D "$_k_pg_data" -l "$_k_pg_log" -w -t 60 \
        >/dev/null 2>&1 9>&-; then
        tail -n 20 "$_k_pg_log" >&2
        kindred_die "PostgreSQL did not start (full log: $_k_pg_log)"
    fi
    KINDRED_STARTED_PG=1
}

_k_pg_stop() {
    if ! _k_pg_running; then
        return 0
    fi
    kindred_log "stopping PostgreSQL"
    _k_as_pg "$KINDRED_PG_BIN/pg_ctl" stop -D "$_k_pg_data" -m fast -w -t 60 >/dev/null
}

# psql as superuser postgres over the unix socket; SQL on stdin.
_k_psql_super() {
    _k_as_pg "$KINDRED_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$_k_pg_sock" -p "$KINDRED_PG_PORT" -U postgres -d postgres
}

# SQL for one service-style role + database: nobody but the role (and superusers)
# may connect to the database or use its public schema.
_k_pg_role_db_sql() { # NAME PASSWORD
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
SET log_min_error_statement = panic;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
\\connect postgres
SET log_min_error_statement = panic;
EOF
}

_k_pg_provision() {
    local s
    {
        # The SQL carries passwords: keep it out of the server log even if a
        # statement fails (by default a failing statement is logged in full).
        echo "SET log_min_error_statement = panic;"
        echo "SET log_statement = 'none';"
        cat <<EOF
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kindred_admin') THEN CREATE ROLE kindred_admin; END IF;
END\$\$;
ALTER ROLE kindred_admin WITH LOGIN SUPERUSER PASSWORD '$(_k_secret KINDRED_PG_ADMIN_PASSWORD)';
EOF
        for s in "${KINDRED_SERVICES[@]}"; do
            _k_pg_role_db_sql "kindred_$s" "$(_k_secret "KINDRED_PG_PASSWORD_$(_k_upper "$s")")"
        done
        _k_pg_role_db_sql kindred_test "$(_k_secret KINDRED_PG_TEST_PASSWORD)"
    } | _k_psql_super >/dev/null || kindred_die "provisioning PostgreSQL failed (log: $_k_pg_log)"
}

# ---------------------------------------------------------------------------
# RabbitMQ
# ---------------------------------------------------------------------------

# The environment of our node, for the server and for every CLI call. Call it in a
# subshell: it changes HOME.
_k_rmq_env() {
    export HOME="$_k_rmq_dir/home" # the Erlang cookie lives here
    export RABBITMQ_MNESIA_BASE="$_k_rmq_dir/mnesia"
    export RABBITMQ_LOG_BASE="$_k_rmq_dir/log"
    export RABBITMQ_NODENAME="$KINDRED_AMQP_NODENAME"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT="$KINDRED_AMQP_PORT"
    export RABBITMQ_DIST_PORT="$KINDRED_AMQP_DIST_PORT"
    export RABBITMQ_PID_FILE="$_k_rmq_pid_file"
    # Ignore the machine's /etc/rabbitmq/{rabbitmq-env.conf,rabbitmq.conf,
    # advanced.config,enabled_plugins}: use ours (the advanced file does not exist).
    export RABBITMQ_CONF_ENV_FILE="$_k_rmq_dir/rabbitmq-env.conf"
    export RABBITMQ_CONFIG_FILE="$_k_rmq_dir/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$_k_rmq_dir/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$_k_rmq_dir/enabled_plugins"
    export ERL_CRASH_DUMP="$_k_rmq_dir/log/erl_crash.dump"
    # epmd is started by the first Erlang VM that needs it (the server or a CLI
    # call) and inherits this: listen on loopback only.
    export ERL_EPMD_ADDRESS=127.0.0.1
    # Erlang distribution (node and CLI) on loopback only, too.
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

kindred_rabbitmqctl() {
    (
        _k_rmq_env
        exec "$KINDRED_RABBIT_BIN/rabbitmqctl" -n "$KINDRED_AMQP_NODENAME" "$@"
    )
}

# The pid in our pid file, if that process is alive and is our node (its Erlang
# command line carries `-home <our home>`); nothing otherwise.
_k_rmq_pid() {
    local pid
    [[ -f "$_k_rmq_pid_file" ]] || return 1
    pid=$(tr -dc '0-9' <"$_k_rmq_pid_file")
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-home $_k_rmq_dir/home " || return 1
    printf '%s' "$pid"
}

_k_rmq_running() { _k_rmq_pid >/dev/null; }

_k_rmq_write_config() {
    mkdir -p "$_k_rmq_dir/home" "$_k_rmq_dir/mnesia" "$_k_rmq_dir/log"
    chmod 700 "$_k_rmq_dir/home" "$_k_rmq_dir/mnesia"
    # Our own cookie, so that the server and the CLI agree from the first call.
    if [[ ! -s "$_k_rmq_dir/home/.erlang.cookie" ]]; then
        (umask 077 && _k_random_hex 20 | tr 'a-f' 'A-F' >"$_k_rmq_dir/home/.erlang.cookie")
        chmod 400 "$_k_rmq_dir/home/.erlang.cookie"
    fi
    : >"$_k_rmq_dir/rabbitmq-env.conf"
    echo '[].' >"$_k_rmq_dir/enabled_plugins"
    cat >"$_k_rmq_dir/rabbitmq.conf" <<EOF
# Written by scripts/lib/stack.sh before every start; edit the script, not this file.
# Address and port come from RABBITMQ_NODE_IP_ADDRESS / RABBITMQ_NODE_PORT.
# TLS (amqps://) on loopback too, with the local CA's certificate; client certificates
# are not asked for (users log in with passwords).
listeners.ssl.1 = 127.0.0.1:$KINDRED_AMQPS_PORT
ssl_options.cacertfile = $_k_tls_dir/ca.pem
ssl_options.certfile = $_k_tls_dir/server.pem
ssl_options.keyfile = $_k_tls_dir/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
# 'guest' is deleted after start; until then it may only log in from loopback.
loopback_users.guest = true
log.file.level = info
log.console = false
# The services' KINDRED_MAX_MESSAGE_BYTES (16 MiB): a larger message is refused at the door.
max_message_size = 16777216
EOF
}

# Launch the node in the background; _k_rmq_wait waits for it. Split in two so
# that PostgreSQL starts and is provisioned while the broker boots (~5-10 s).
_k_rmq_launch() {
    if _k_rmq_running; then
        local want="$KINDRED_AMQP_PORT $KINDRED_AMQP_DIST_PORT $KINDRED_AMQP_NODENAME $KINDRED_AMQPS_PORT"
        local have
        have=$(cat "$_k_rmq_running_file" 2>/dev/null || true)
        if [[ -n "$have" && "$have" != "$want" ]]; then
            kindred_die "our RabbitMQ is already running with port/dist port/node '$have', but the settings now say '$want'; run scripts/stack stop first"
        fi
        kindred_log "reusing the running RabbitMQ on 127.0.0.1:$KINDRED_AMQP_PORT"
        return 0
    fi
    rm -f "$_k_rmq_pid_file" # stale (crash, reboot)
    _k_require_free_port "$KINDRED_AMQP_PORT" KINDRED_AMQP_PORT
    _k_require_free_port "$KINDRED_AMQP_DIST_PORT" KINDRED_AMQP_DIST_PORT
    _k_require_free_port "$KINDRED_AMQPS_PORT" KINDRED_AMQPS_PORT
    # Another Erlang node with our name (e.g. another checkout's stack) would make
    # ours fail to start with an obscure message.
    local short=${KINDRED_AMQP_NODENAME%@*}
    if epmd -names 2>/dev/null | grep -q "^name $short at port"; then
        kindred_die "an Erlang node named '$short' is already running on this machine; set KINDRED_AMQP_NODENAME (e.g. kindred2@localhost)"
    fi
    # If no epmd runs yet, ours will start it; remember that, to stop it again.
    # (A marker left by a node of ours that crashed stays: that epmd is ours too.)
    if ! epmd -names >/dev/null 2>&1; then
        touch "$_k_rmq_epmd_marker"
    fi
    _k_rmq_write_config
    kindred_log "starting RabbitMQ node $KINDRED_AMQP_NODENAME on 127.0.0.1:$KINDRED_AMQP_PORT (logs: $_k_rmq_dir/log)"
    # setsid -f: a new session (Ctrl-C in our terminal does not reach it) and not
    # our child (so `wait` in scripts/run never waits for it). 9>&-: no lock leak.
    (
        _k_rmq_env
        cd "$_k_rmq_dir"
        exec setsid -f "$KINDRED_RABBIT_BIN/rabbitmq-server" \
            >>"$_k_rmq_dir/log/startup.log" 2>&1 </dev/null 9>&-
    )
    echo "$KINDRED_AMQP_PORT $KINDRED_AMQP_DIST_PORT $KINDRED_AMQP_NODENAME $KINDRED_AMQPS_PORT" >"$_k_rmq_running_file"
    KINDRED_STARTED_AMQP=1
}

_k_rmq_wait() {
    # Blocks until the pid file appears and the `rabbit` application runs.
    if ! kindred_rabbitmqctl wait --timeout 90 "$_k_rmq_pid_file" >/dev/null 2>&1; then
        tail -n 20 "$_k_rmq_dir/log/startup.log" >&2 || true
        tail -n 20 "$_k_rmq_dir/log/$KINDRED_AMQP_NODENAME.log" >&2 2>/dev/null || true
        kindred_die "RabbitMQ did not start (logs: $_k_rmq_dir/log)"
    fi
}

_k_rmq_stop() {
    local pid i
    pid=$(_k_rmq_pid) || {
        rm -f "$_k_rmq_pid_file" "$_k_rmq_running_file"
        return 0
    }
    kindred_log "stopping RabbitMQ"
    # `stop PIDFILE` returns once the OS process has exited.
    if ! kindred_rabbitmqctl stop "$_k_rmq_pid_file" >/dev/null 2>&1; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 30; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$_k_rmq_pid_file" "$_k_rmq_running_file"
    # Stop epmd if our node started it. `epmd -kill` refuses while any node is
    # still registered, so another user's Erlang node is never cut off.
    if [[ -f "$_k_rmq_epmd_marker" ]]; then
        (export ERL_EPMD_ADDRESS=127.0.0.1 && epmd -kill >/dev/null 2>&1) || true
        rm -f "$_k_rmq_epmd_marker"
    fi
}

# Broker users, vhost and permissions as one definitions import (a single CLI
# call instead of ~25; each takes ~0.5 s). put-user semantics make it idempotent,
# and it updates passwords. The document comes from compose/rabbitmq-init.sh, the one
# generator of it (containers use the same), which reads the permissions generated from
# the event registry (compose/broker-permissions.tsv). Passwords reach it through its
# environment and the import through stdin: never a command line or a file.
_k_rmq_definitions_json() {
    (
        local s name
        # `export` is a builtin: the passwords never appear in a process's arguments.
        export KINDRED_AMQP_ADMIN_PASSWORD
        KINDRED_AMQP_ADMIN_PASSWORD=$(_k_secret KINDRED_AMQP_ADMIN_PASSWORD)
        for s in "${KINDRED_SERVICES[@]}"; do
            name="KINDRED_AMQP_PASSWORD_$(_k_upper "$s")"
            export "${name?}"
            printf -v "$name" '%s' "$(_k_secret "$name")"
        done
        exec bash "$KINDRED_REPO_ROOT/compose/rabbitmq-init.sh" print-definitions
    )
}

_k_rmq_provision() {
    if ! _k_rmq_definitions_json | kindred_rabbitmqctl import_definitions --format json >/dev/null; then
        kindred_die "importing the RabbitMQ users/permissions failed (logs: $_k_rmq_dir/log)"
    fi
    # The CLI calls the import asynchronous; make sure it has landed.
    local i listing s ok
    for ((i = 0; i < 60; i++)); do
        listing=$(kindred_rabbitmqctl list_permissions -q -p kindred 2>/dev/null || true)
        ok=1
        for s in admin "${KINDRED_SERVICES[@]}"; do
            grep -q "^kindred_${s}[[:space:]]" <<<"$listing" || ok=0
        done
        ((ok == 1)) && break
        sleep 0.5
    done
    ((ok == 1)) || kindred_die "RabbitMQ users/permissions did not appear after the import"
    if kindred_rabbitmqctl list_users -q 2>/dev/null | grep -q '^guest[[:space:]]'; then
        kindred_rabbitmqctl delete_user guest >/dev/null
    fi
}

# ---------------------------------------------------------------------------
# The local S3-compatible store (moto's server)
# ---------------------------------------------------------------------------

_k_s3_pid() {
    local pid
    pid=$(cat "$_k_s3_pid_file" 2>/dev/null) || return 1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *moto_server* ]] || return 1
    echo "$pid"
}

# A virtual environment of its own under the state folder, made once.
_k_s3_install() {
    [[ -x "$_k_s3_dir/venv/bin/moto_server" ]] && return 0
    kindred_log "installing $KINDRED_S3_MOTO (a local S3-compatible store) into $_k_s3_dir/venv"
    mkdir -p "$_k_s3_dir"
    python3 -m venv "$_k_s3_dir/venv" || kindred_die "python3 -m venv failed"
    "$_k_s3_dir/venv/bin/pip" install -q --disable-pip-version-check "$KINDRED_S3_MOTO" ||
        kindred_die "pip could not install $KINDRED_S3_MOTO"
}

# Starts moto's server on loopback with signature checks on: the first three requests
# (an IAM user, its access key and its policy) are the only ones it takes unsigned. The
# user's keys go to $_k_s3_credentials (mode 600), and the test bucket is made.
_k_s3_launch() {
    _k_s3_pid >/dev/null && return 0
    _k_validate_port KINDRED_S3_PORT "$KINDRED_S3_PORT"
    _k_require_free_port "$KINDRED_S3_PORT" KINDRED_S3_PORT
    _k_s3_install
    rm -f "$_k_s3_credentials"
    (
        export INITIAL_NO_AUTH_ACTION_COUNT=3
        # 9>&-: the server must not hold the stack's lock for as long as it runs.
        cd "$_k_s3_dir" && exec setsid "$_k_s3_dir/venv/bin/moto_server" -H 127.0.0.1 -p "$KINDRED_S3_PORT" \
            >>"$_k_log_dir/s3.log" 2>&1 </dev/null 9>&-
    ) 9>&- &
    echo $! >"$_k_s3_pid_file"
    local i
    for i in $(seq 1 100); do
        curl --noproxy '*' -s -o /dev/null --max-time 1 "http://127.0.0.1:$KINDRED_S3_PORT/moto-api/" && break
        ((i < 100)) || kindred_die "the local S3 store did not start (log: $_k_log_dir/s3.log)"
        sleep 0.2
    done
    (
        umask 077
        "$_k_s3_dir/venv/bin/python" - "$KINDRED_S3_PORT" "$KINDRED_S3_BUCKET" >"$_k_s3_credentials" <<'PYEOF'
import json, sys
import boto3
port, bucket = sys.argv[1], sys.argv[2]
endpoint = f"http://127.0.0.1:{port}"
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="kindred-media")
key = iam.create_access_key(UserName="kindred-media")["AccessKey"]
iam.put_user_policy(UserName="kindred-media", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
s3.create_bucket(Bucket=bucket)
print(key["AccessKeyId"], key["SecretAccessKey"])
PYEOF
    ) || kindred_die "could not provision the local S3 store (log: $_k_log_dir/s3.log)"
    KINDRED_STARTED_S3=1
}

_k_s3_stop() {
    local pid
    if pid=$(_k_s3_pid); then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$_k_s3_pid_file" "$_k_s3_credentials"
}

# ---------------------------------------------------------------------------
# The stack
# ---------------------------------------------------------------------------

kindred_start_stack() {
    _k_validate_port KINDRED_PG_PORT "$KINDRED_PG_PORT"
    _k_validate_port KINDRED_AMQP_PORT "$KINDRED_AMQP_PORT"
    _k_validate_port KINDRED_AMQP_DIST_PORT "$KINDRED_AMQP_DIST_PORT"
    _k_validate_port KINDRED_AMQPS_PORT "$KINDRED_AMQPS_PORT"
    _k_require_distinct_ports KINDRED_PG_PORT KINDRED_AMQP_PORT KINDRED_AMQP_DIST_PORT KINDRED_AMQPS_PORT
    [[ "$KINDRED_AMQP_NODENAME" == ?*@?* ]] || kindred_die "KINDRED_AMQP_NODENAME must look like name@host, not '$KINDRED_AMQP_NODENAME'"

    _k_lock
    _k_prepare_state_dir
    kindred_load_secrets --create
    _k_rmq_launch
    _k_pg_ensure_running
    _k_pg_provision
    _k_rmq_wait
    _k_rmq_provision
    _k_s3_launch
    _k_unlock
    kindred_log "stack ready: PostgreSQL 127.0.0.1:$KINDRED_PG_PORT, RabbitMQ amqp://127.0.0.1:$KINDRED_AMQP_PORT/kindred, S3 http://127.0.0.1:$KINDRED_S3_PORT"
}

# kindred_stop_stack: stop our RabbitMQ and PostgreSQL, if running.
# kindred_stop_started_stack: stop only what kindred_start_stack started in this
# process (scripts/test and scripts/run leave a stack they found running alone).
# Neither ever touches a server that is not ours.
kindred_stop_stack() { _k_stop_stack 0; }

kindred_start_broker() {
    _k_lock
    _k_prepare_state_dir
    kindred_load_secrets
    _k_rmq_launch
    _k_rmq_wait
    _k_unlock
}

kindred_stop_broker() {
    _k_lock
    _k_rmq_stop
    _k_unlock
}

kindred_start_postgres() {
    _k_lock
    _k_prepare_state_dir
    _k_pg_ensure_running
    _k_unlock
}

kindred_stop_postgres() {
    _k_lock
    _k_pg_stop
    _k_unlock
}

kindred_http_ready_status() { # PORT → HTTP status of GET /ready ("000" if no answer)
    curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 \
        "http://127.0.0.1:$1/ready" 2>/dev/null || true
}
kindred_stop_started_stack() { _k_stop_stack 1; }

_k_stop_stack() { # ONLY_STARTED(0|1)
    local only_started=$1
    [[ -d "$KINDRED_STATE_DIR" ]] || return 0
    _k_lock
    if ((only_started == 0 || KINDRED_STARTED_AMQP == 1)); then
        _k_rmq_stop
        KINDRED_STARTED_AMQP=0
    fi
    if ((only_started == 0 || KINDRED_STARTED_PG == 1)); then
        _k_pg_stop
        KINDRED_STARTED_PG=0
    fi
    if ((only_started == 0 || KINDRED_STARTED_S3 == 1)); then
        _k_s3_stop
        KINDRED_STARTED_S3=0
    fi
    _k_unlock
}

kindred_stack_status() {
    local pid
    if _k_pg_running; then
        echo "PostgreSQL: running on 127.0.0.1:$(_k_pg_running_port) (data: $_k_pg_data)"
    else
        echo "PostgreSQL: stopped"
    fi
    if pid=$(_k_rmq_pid); then
        echo "RabbitMQ:   running, pid $pid, node $KINDRED_AMQP_NODENAME ($(cat "$_k_rmq_running_file" 2>/dev/null || echo '?'))"
    else
        echo "RabbitMQ:   stopped"
    fi
    if pid=$(_k_s3_pid); then
        echo "S3 (moto):  running, pid $pid, http://127.0.0.1:$KINDRED_S3_PORT"
    else
        echo "S3 (moto):  stopped"
    fi
}
