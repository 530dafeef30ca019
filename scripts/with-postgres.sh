#!/usr/bin/env bash
# Runs a command with a PostgreSQL server for the tests: `scripts/with-postgres.sh CMD ARGS…`.
#
# With STRONGROOM_TEST_POSTGRES_URL already set, the command runs against that server as it is.
# Otherwise a throwaway cluster is made for the command's life:
#   - the binaries (initdb, pg_ctl, postgres) from PATH, /usr/local/bin or
#     /usr/lib/postgresql/*/bin (newest first); if there are none, Debian's `postgresql`
#     package is installed (apt-get, through sudo when not root);
#   - initdb refuses to run as root, so as root the cluster belongs to `nobody`;
#   - a temporary directory holds the data, the log and the unix socket; the server listens on
#     127.0.0.1 only, on a free port, with trust authentication (local connections only) and
#     fsync on, as production runs;
#   - STRONGROOM_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres and
#     STRONGROOM_TEST_POSTGRES_BIN=<the binaries' directory> are exported to the command.
# The cluster is stopped and its directory removed however the command ends (trap), and the
# command's exit status is this script's.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARGS…]" >&2
    exit 2
fi

if [[ -n "${STRONGROOM_TEST_POSTGRES_URL:-}" ]]; then
    exec "$@"
fi

has_binaries() {
    [[ -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" ]]
}

find_binaries() {
    local candidates=()
    if command -v initdb >/dev/null 2>&1; then
        candidates+=("$(dirname "$(command -v initdb)")")
    fi
    candidates+=(/usr/local/bin)
    # Newest major version first.
    while IFS= read -r dir; do
        candidates+=("$dir")
    done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -V -r)
    for dir in "${candidates[@]}"; do
        if has_binaries "$dir"; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

if ! BIN_DIR="$(find_binaries)"; then
    echo "with-postgres: no PostgreSQL binaries found: installing Debian's postgresql package" >&2
    SUDO=()
    if [[ "$(id -u)" != "0" ]]; then
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq postgresql >&2
    if ! BIN_DIR="$(find_binaries)"; then
        echo "with-postgres: the postgresql package installed no initdb/pg_ctl/postgres" >&2
        exit 1
    fi
fi

# As root, run the cluster as `nobody` (initdb and postgres refuse root).
AS_USER=()
if [[ "$(id -u)" == "0" ]]; then
    AS_USER=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/strongroom-pg.XXXXXX")"
chmod 0700 "$WORK_DIR"
if [[ "$(id -u)" == "0" ]]; then
    chown nobody:nogroup "$WORK_DIR"
fi
DATA_DIR="$WORK_DIR/data"

cleanup() {
    if [[ -f "$DATA_DIR/postmaster.pid" ]]; then
        "${AS_USER[@]}" "$BIN_DIR/pg_ctl" -D "$DATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${AS_USER[@]}" "$BIN_DIR/initdb" -D "$DATA_DIR" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$WORK_DIR/initdb.log" 2>&1 || {
    cat "$WORK_DIR/initdb.log" >&2
    exit 1
}
# Trust only on the loopback address and the socket in the private directory.
cat >"$DATA_DIR/pg_hba.conf" <<'EOF'
local all all trust
host  all all 127.0.0.1/32 trust
EOF

port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

started=0
for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    port_is_free "$PORT" || continue
    if "${AS_USER[@]}" "$BIN_DIR/pg_ctl" -D "$DATA_DIR" -l "$WORK_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $WORK_DIR -c max_connections=400 -c fsync=on" \
        start >/dev/null; then
        started=1
        break
    fi
done
if [[ "$started" != "1" ]]; then
    echo "with-postgres: the server did not start; its log:" >&2
    cat "$WORK_DIR/server.log" >&2 || true
    exit 1
fi

export STRONGROOM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
export STRONGROOM_TEST_POSTGRES_BIN="$BIN_DIR"
echo "with-postgres: PostgreSQL $("$BIN_DIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2

status=0
"$@" || status=$?
exit "$status"
