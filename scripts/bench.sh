#!/usr/bin/env bash
# Strongroom's benchmarks (not part of the test suite): builds release binaries, then runs the
# crypto micro-benchmarks and the HTTPS load (real server vs a bare rustls endpoint at 64 and
# 32 connections, oha against both if installed, GET over many secrets, key operations over
# REST vs raw aws-lc-rs, secret SET, the store's durable-commit ceiling) and rewrites
# BENCHMARKS.md with the results, the machine and the exact command; then the soak, and GET
# and SET on PostgreSQL (one and two nodes) next to SQLite, with and without the audit log.
#
#   scripts/bench.sh                      # defaults: 64,32 connections, 5 s phases, 5 rounds
#   scripts/bench.sh --duration 10s --rounds 1 --connections 64 --client-threads 2
#
# oha, the second load generator (the secret GET target holds under both), is built once with
# `cargo install` at the pinned version below and cached outside the clone, keyed by that
# version (OHA_CACHE, default ~/.cache/strongroom/oha-VERSION); STRONGROOM_BENCH_NO_OHA=1 skips it.
# The work directory (default target/bench-work) must be on a real disk; tmpfs is refused.
# Extra arguments go to `strongroom-bench all`; then `strongroom-bench soak` (3 minutes by
# default, STRONGROOM_SOAK) adds the soak section, and `strongroom-bench store` the section
# "PostgreSQL, several nodes, and the audit log" (about five minutes). Each of those two
# replaces only its own section. Takes about twenty minutes with the defaults.
# Run it on an otherwise idle machine: the load generator and the server share its CPUs.
#
# PostgreSQL for `store`: by default the benchmark starts a private cluster of its own with
# pg_stat_statements loaded (it counts statements per request), from the binaries
# scripts/with-postgres.sh would use (STRONGROOM_TEST_POSTGRES_BIN, PATH, /usr/local/bin,
# /usr/lib/postgresql/*/bin). With STRONGROOM_TEST_POSTGRES_URL set to a server of your own
# (and STRONGROOM_TEST_POSTGRES_BIN unset: with-postgres.sh sets both for its throwaway cluster,
# which cannot load the library), `store` runs on that server instead, and counts statements
# only if it preloads pg_stat_statements. With neither binaries nor a URL, this script runs
# itself again under scripts/with-postgres.sh, which installs PostgreSQL.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

have_postgres_binaries() {
    local dirs=("${STRONGROOM_TEST_POSTGRES_BIN:-}" /usr/local/bin /usr/lib/postgresql/*/bin)
    if command -v initdb >/dev/null 2>&1; then
        dirs+=("$(dirname "$(command -v initdb)")")
    fi
    local dir
    for dir in "${dirs[@]}"; do
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            return 0
        fi
    done
    return 1
}
if [[ -z "${STRONGROOM_TEST_POSTGRES_URL:-}" ]] && ! have_postgres_binaries; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
store_args=()
if [[ -n "${STRONGROOM_TEST_POSTGRES_URL:-}" && -z "${STRONGROOM_TEST_POSTGRES_BIN:-}" ]]; then
    store_args=(--postgres "$STRONGROOM_TEST_POSTGRES_URL")
fi

cargo build --release -p strongroom -p strongroom-bench
# The in-process secret GET (crypto table) is an example of the HTTP edge's crate.
cargo build --release -p strongroom-api --example pipeline_bench

OHA_VERSION=1.16.0
oha_args=()
explicit_oha=0
for arg in "$@"; do [[ "$arg" == --oha || "$arg" == --oha=* ]] && explicit_oha=1; done
if [[ "${STRONGROOM_BENCH_NO_OHA:-}" != 1 && "$explicit_oha" == 0 ]]; then
    OHA_CACHE="${OHA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/strongroom/oha-$OHA_VERSION}"
    if [[ ! -x "$OHA_CACHE/bin/oha" ]]; then
        echo "building oha $OHA_VERSION into $OHA_CACHE (once)"
        cargo install oha --locked --version "$OHA_VERSION" --root "$OHA_CACHE"
    fi
    oha_args=(--oha "$OHA_CACHE/bin/oha")
fi

target/release/strongroom-bench all \
    "${oha_args[@]}" \
    --server-bin target/release/strongroom \
    --write-markdown BENCHMARKS.md \
    "$@"

# The bounded soak (RSS and open descriptors flat under minutes of load, idle RSS), added to
# the same file. STRONGROOM_SOAK sets its length (default 3m).
target/release/strongroom-bench soak \
    --server-bin target/release/strongroom \
    --soak-duration "${STRONGROOM_SOAK:-3m}" \
    --append-markdown BENCHMARKS.md

# SQLite and PostgreSQL (one node, two nodes), the audit log, the consistency check's price.
target/release/strongroom-bench store \
    --server-bin target/release/strongroom \
    "${store_args[@]}" \
    --append-markdown BENCHMARKS.md
target/release/strongroom-bench signin --server-bin target/release/strongroom --append-markdown BENCHMARKS.md
