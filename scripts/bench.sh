#!/usr/bin/env bash
# Strongroom's benchmarks (not part of the test suite): builds release binaries, then runs the
# crypto micro-benchmarks and the HTTPS load (real server vs a bare rustls endpoint, secret GET
# and SET, the store's durable-commit ceiling) and rewrites BENCHMARKS.md with the results, the
# machine and the exact command.
#
#   scripts/bench.sh                      # defaults: 32 connections, 10 s per phase, 3 rounds
#   scripts/bench.sh --duration 5s --rounds 1 --connections 64 --client-threads 2
#
# Extra arguments go to `strongroom-bench all`. Takes about two minutes with the defaults.
# Run it on an otherwise idle machine: the load generator and the server share its CPUs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

cargo build --release -p strongroom -p strongroom-bench

exec target/release/strongroom-bench all \
    --server-bin target/release/strongroom \
    --write-markdown BENCHMARKS.md \
    "$@"
