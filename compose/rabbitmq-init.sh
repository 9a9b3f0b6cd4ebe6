#!/usr/bin/env bash
# compose/rabbitmq-init.sh — Kindred's RabbitMQ provisioning: vhost `kindred`, the
# administrator `kindred_admin` and one user per service with least-privilege
# permissions, taken from the environment. The one generator of these definitions:
# scripts/lib/stack.sh calls `print-definitions` for the local stack too.
#
# The permissions come from broker-permissions.tsv beside this script (generated from
# the event registry by `kindred contracts permissions --write`; a test keeps it in step):
# resource permissions per user, and topic permissions on the exchange `kindred` so that
# a service publishes only the event types it produces and binds only those it consumes.
#
# Two uses:
#
#   rabbitmq-init.sh print-definitions
#       Print the definitions JSON on stdout, e.g. for a broker you run yourself:
#         compose/rabbitmq-init.sh print-definitions \
#           | rabbitmqctl import_definitions --format json
#       (rabbitmqctl reads stdin when no file is given; or POST it to the management
#       API /api/definitions). The import is additive and idempotent, and it updates
#       passwords.
#
#   rabbitmq-init.sh rabbitmq-server [ARGS...]      (docker-compose.yml)
#       Entrypoint wrapper for the official `rabbitmq` image (3.10 or later, run as
#       root, as that image starts): writes the definitions to a tmpfs file readable
#       only by the broker, points the node at it (definitions import on every boot,
#       so changed passwords apply on the next restart; on a new node no `guest` user
#       is created), removes the passwords from the environment, and execs the
#       image's own docker-entrypoint.sh with the arguments.
#
# Environment (each password: at least 16 characters from A-Z a-z 0-9 . _ ~ -, so it
# needs no escaping in an amqp:// URL, in JSON or in a libpq string):
#   KINDRED_AMQP_ADMIN_PASSWORD                 kindred_admin (administrator, vhost kindred)
#   KINDRED_AMQP_PASSWORD_GATEWAY ... _MEDIA    kindred_<service>
#   KINDRED_RABBITMQ_DEFINITIONS_DIR            where the wrapper writes the definitions
#                                               (default /run/kindred-rabbitmq, a tmpfs in compose)
#   KINDRED_RABBITMQ_CONF_DIR                   where it writes 90-kindred.conf
#                                               (default /etc/rabbitmq/conf.d)
set -euo pipefail

services=(gateway profile matching notification payment media)
permissions_file=${KINDRED_BROKER_PERMISSIONS_FILE:-$(dirname "${BASH_SOURCE[0]}")/broker-permissions.tsv}

die() {
    printf 'rabbitmq-init: %s\n' "$*" >&2
    exit 1
}

# check_secret NAME: set, long enough, and made only of URL-safe characters.
check_secret() {
    local name=$1 value=${!1:-}
    [[ -n "$value" ]] || die "$name is not set (see compose/env.example)"
    ((${#value} >= 16)) || die "$name must be at least 16 characters long"
    [[ "$value" =~ ^[A-Za-z0-9._~-]+$ ]] ||
        die "$name may contain only A-Z a-z 0-9 . _ ~ - (e.g. the output of: openssl rand -hex 24)"
}

check_all() {
    local s
    check_secret KINDRED_AMQP_ADMIN_PASSWORD
    for s in "${services[@]}"; do
        check_secret "KINDRED_AMQP_PASSWORD_${s^^}"
    done
}

# One permissions row per service from the file: service, configure, write, read,
# topic_write, topic_read (tab-separated; # lines are comments). Every service must have
# exactly one row, and a regex may hold only characters that need no JSON escaping
# besides the backslash.
declare -A perm_configure=() perm_write=() perm_read=() perm_topic_write=() perm_topic_read=()
load_permissions() {
    local service configure write read topic_write topic_read extra s value
    local allowed='^[][A-Za-z0-9_.|()^$+*?\-]+$'
    [[ -r "$permissions_file" ]] || die "cannot read $permissions_file (it comes with this script)"
    while IFS=$'\t' read -r service configure write read topic_write topic_read extra; do
        [[ -z "$service" || "$service" == \#* ]] && continue
        [[ -z "$extra" && -n "$topic_read" ]] || die "$permissions_file: the row of '$service' must have 6 columns"
        for value in "$configure" "$write" "$read" "$topic_write" "$topic_read"; do
            [[ "$value" =~ $allowed ]] || die "$permissions_file: unexpected characters in the row of '$service'"
        done
        [[ -z "${perm_configure[$service]:-}" ]] || die "$permissions_file: two rows for '$service'"
        perm_configure[$service]=$configure
        perm_write[$service]=$write
        perm_read[$service]=$read
        perm_topic_write[$service]=$topic_write
        perm_topic_read[$service]=$topic_read
    done <"$permissions_file"
    for s in "${services[@]}"; do
        [[ -n "${perm_configure[$s]:-}" ]] || die "$permissions_file has no row for '$s'"
    done
}

json_regex() { printf '%s' "${1//\\/\\\\}"; } # backslashes doubled for JSON

# The definitions document.
definitions() {
    local s pw
    load_permissions
    printf '{\n"vhosts": [{"name": "kindred"}],\n"users": [\n'
    printf '  {"name": "kindred_admin", "password": "%s", "tags": ["administrator"]}' \
        "$KINDRED_AMQP_ADMIN_PASSWORD"
    for s in "${services[@]}"; do
        pw="KINDRED_AMQP_PASSWORD_${s^^}"
        printf ',\n  {"name": "kindred_%s", "password": "%s", "tags": []}' "$s" "${!pw}"
    done
    printf '\n],\n"permissions": [\n'
    printf '  {"user": "kindred_admin", "vhost": "kindred", "configure": ".*", "write": ".*", "read": ".*"}'
    for s in "${services[@]}"; do
        printf ',\n  {"user": "kindred_%s", "vhost": "kindred", "configure": "%s", "write": "%s", "read": "%s"}' "$s" \
            "$(json_regex "${perm_configure[$s]}")" "$(json_regex "${perm_write[$s]}")" \
            "$(json_regex "${perm_read[$s]}")"
    done
    printf '\n],\n"topic_permissions": [\n'
    local first=1
    for s in "${services[@]}"; do
        ((first == 1)) || printf ',\n'
        first=0
        printf '  {"user": "kindred_%s", "vhost": "kindred", "exchange": "kindred", "write": "%s", "read": "%s"}' "$s" \
            "$(json_regex "${perm_topic_write[$s]}")" "$(json_regex "${perm_topic_read[$s]}")"
    done
    printf '\n]\n}\n'
}

unset_secrets() {
    local s
    unset KINDRED_AMQP_ADMIN_PASSWORD
    for s in "${services[@]}"; do
        unset "KINDRED_AMQP_PASSWORD_${s^^}"
    done
}

case "${1:-}" in
    print-definitions)
        check_all
        definitions
        ;;
    "")
        die "usage: rabbitmq-init.sh print-definitions | rabbitmq-init.sh rabbitmq-server [ARGS...]"
        ;;
    *)
        check_all
        ((EUID == 0)) || die "as an entrypoint wrapper this must start as root (the image's entrypoint then drops to the rabbitmq user)"
        id rabbitmq >/dev/null 2>&1 || die "no 'rabbitmq' user here: is this the official rabbitmq image?"
        dir=${KINDRED_RABBITMQ_DEFINITIONS_DIR:-/run/kindred-rabbitmq}
        install -d -m 0700 -o rabbitmq -g rabbitmq "$dir"
        file="$dir/definitions.json"
        (
            umask 077
            definitions >"$file.tmp"
        )
        chown rabbitmq:rabbitmq "$file.tmp"
        mv -f "$file.tmp" "$file"
        # conf.d files load in name order: this one comes after the image's 10-defaults.conf
        # (which lets `guest` log in from anywhere).
        conf_dir=${KINDRED_RABBITMQ_CONF_DIR:-/etc/rabbitmq/conf.d}
        mkdir -p "$conf_dir"
        cat >"$conf_dir/90-kindred.conf" <<EOF
# Written by compose/rabbitmq-init.sh on every container start.
definitions.import_backend = local_filesystem
definitions.local.path = $file
# (Imported on every boot - the default - so changed passwords take effect.)
# If a 'guest' user exists (a node first started without these definitions), it may
# log in from the node itself only.
loopback_users.guest = true
# The services' KINDRED_MAX_MESSAGE_BYTES (16 MiB): a larger message is refused at the door.
max_message_size = 16777216
EOF
        chmod 0644 "$conf_dir/90-kindred.conf"
        unset_secrets
        echo "rabbitmq-init: wrote $file (vhost kindred; users kindred_admin and kindred_<service> for: ${services[*]})" >&2
        exec docker-entrypoint.sh "$@"
        ;;
esac
