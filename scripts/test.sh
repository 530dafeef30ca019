#!/usr/bin/env bash
# The one test command (README: `./scripts/test.sh`). CI runs it through .ci/run.
#
#   1. cargo fmt --check and clippy -D warnings (cheap, so they fail first), then cargo build of
#      every target
#   2. a venv at target/sdk-venv with the official SDKs' pinned requirements (reinstalled only
#      when tests/sdk-python/requirements.txt changes); they include `cryptography`, which the
#      Rust certs tests also use, through this venv's python (STRONGROOM_TEST_PYTHON)
#   3. cargo test --workspace (the Rust suites, PostgreSQL's included: the store conformance suite
#      on both backends, tests/it/multinode.rs; every failing test binary is reported, not just
#      the first); the certs tests also need the `openssl` command and the commit-order test
#      (crates/strongroom/tests/it/commit_trace.rs) `strace`: installed if missing
#   4. cargo build again (a no-op after step 1; with SKIP_RUST=1 it is what keeps pytest
#      from running a stale binary), then the official-SDK suite: pytest against it
#      (STRONGROOM_BIN). A skipped or xfailed test fails the suite (tests/sdk-python/no_skips.py).
#      Then test_secrets.py again against two nodes on one PostgreSQL database behind a
#      round-robin TCP balancer, one request per connection (STRONGROOM_SDK_NODES=2).
#   5. the Azure CLI suite: the pinned azure-cli (tests/az/requirements.txt) in a venv cached
#      outside the clone (STRONGROOM_CACHE_DIR, default ~/.cache/strongroom), then pytest tests/az:
#      the real `az` through transparent mode (STRONGROOM_AZ).
#   5b. the browser suite (scripts/test-browser.sh): Debian's Chromium and Playwright, sign-in and pages.
#   6. the official JavaScript SDK suite (scripts/test-sdk-js.sh: npm ci into a cache outside the
#      clone keyed by tests/sdk-js/package-lock.json, then node --test), direct, transparent and agent.
#   7. the official Rust SDK suite (scripts/test-sdk-rust.sh: its own Cargo project, built in a
#      target directory cached outside the clone), direct and transparent.
#
# Every cargo command that resolves dependencies runs with --locked: Cargo.lock is used as it is,
# never updated (cargo fmt resolves nothing and takes no --locked).
# Any failure stops the script with a non-zero exit code.
# PostgreSQL: STRONGROOM_TEST_POSTGRES_URL, or a throwaway cluster for the whole run
# (scripts/with-postgres.sh).
# Environment: SKIP_RUST=1 skips steps 1 and 3 (the SDK suite only; the binary is still rebuilt);
# PYTEST_ARGS adds arguments to pytest (e.g. PYTEST_ARGS="-k permissions").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

# PostgreSQL for the store's PostgreSQL tests, the multi-node tests and the two-node SDK run: the
# server STRONGROOM_TEST_POSTGRES_URL names, or else a throwaway cluster that
# scripts/with-postgres.sh starts (installing Debian's postgresql if needed) and removes when
# this script ends.
if [[ -z "${STRONGROOM_TEST_POSTGRES_URL:-}" ]]; then
    exec "$ROOT/scripts/with-postgres.sh" "$ROOT/scripts/test.sh" "$@"
fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Keep the source tree free of __pycache__ directories.
export PYTHONDONTWRITEBYTECODE=1

step() {
    printf '\n==> %s\n' "$*"
}

elapsed() {
    printf '(%ds)\n' "$((SECONDS - STEP_START))"
}

if [[ "${SKIP_RUST:-0}" != "1" ]]; then
    STEP_START=$SECONDS
    step "cargo fmt --all -- --check"
    cargo fmt --all -- --check
    elapsed

    STEP_START=$SECONDS
    step "cargo clippy --locked --workspace --all-targets -- -D warnings"
    cargo clippy --locked --workspace --all-targets -- -D warnings
    elapsed

    STEP_START=$SECONDS
    step "cargo build --locked --workspace --all-targets"
    cargo build --locked --workspace --all-targets
    elapsed
fi

# --- Python venv for the official SDKs ---------------------------------------------------------------
STEP_START=$SECONDS
step "SDK venv (target/sdk-venv)"
PYTHON="${PYTHON:-python3}"
SDK_DIR="$ROOT/tests/sdk-python"
VENV="$ROOT/target/sdk-venv"
REQUIREMENTS="$SDK_DIR/requirements.txt"

if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
        echo "python3 venv/ensurepip missing: installing python3-venv"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq python3-venv
    else
        echo "error: '$PYTHON -m venv' is unavailable; install python3-venv" >&2
        exit 1
    fi
fi

want_stamp="$(cat "$REQUIREMENTS" <("$PYTHON" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.requirements.sha256"
if [[ ! -x "$VENV/bin/python" ]] || [[ "$(cat "$stamp_file" 2>/dev/null || true)" != "$want_stamp" ]] \
    || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS"
    echo "$want_stamp" >"$stamp_file"
    echo "installed: $("$VENV/bin/python" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"
else
    echo "requirements unchanged: reusing $VENV"
fi
elapsed

# --- the Rust tests (the certs tests run `openssl` and the venv's python) ----------------------------
if [[ "${SKIP_RUST:-0}" != "1" ]]; then
    STEP_START=$SECONDS
    step "cargo test --locked --workspace --no-fail-fast"
    # "command Debian-package who-needs-it"
    for tool in "openssl openssl the certs tests" "strace strace the commit-order test (it/commit_trace.rs)"; do
        read -r program package needed_by <<<"$tool"
        if ! command -v "$program" >/dev/null; then
            if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
                echo "$program command missing: installing $package"
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -qq
                apt-get install -y -qq "$package"
            else
                echo "error: the '$program' command is missing ($needed_by); install $package" >&2
                exit 1
            fi
        fi
    done
    export STRONGROOM_TEST_PYTHON="$VENV/bin/python"
    cargo test --locked --workspace --no-fail-fast
    elapsed
fi

# Always: with SKIP_RUST=1 nothing else has built the binary, and pytest must not run a stale one.
# The same selection as step 1 (the workspace, every target), so the features cargo unifies are
# the same and this is a no-op after it: building the binary alone would leave out the test
# support features the workspace's dev-dependencies turn on, and rebuild the crates below it.
STEP_START=$SECONDS
step "cargo build --locked --workspace --all-targets (the binary under test)"
cargo build --locked --workspace --all-targets
elapsed
STRONGROOM_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/strongroom"
export STRONGROOM_BIN

# --- the SDK suite -----------------------------------------------------------------------------------
STEP_START=$SECONDS
step "pytest tests/sdk-python (STRONGROOM_BIN=$STRONGROOM_BIN)"
# The whole suite (no PYTEST_ARGS) also checks that each operation it performs left its audit line.
# shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose
STRONGROOM_AUDIT_WHOLE_SUITE="$([[ -z "${PYTEST_ARGS:-}" ]] && echo 1 || echo 0)" \
    "$VENV/bin/python" -m pytest "$SDK_DIR" ${PYTEST_ARGS:-}
elapsed

STEP_START=$SECONDS
step "pytest tests/sdk-python/test_secrets.py on two nodes (one PostgreSQL database)"
# The Secrets suite again, against two nodes on a fresh database of STRONGROOM_TEST_POSTGRES_URL
# behind a round-robin TCP balancer, every request on a connection of its own, so that consecutive
# requests alternate between the nodes; the session fails unless each node served its share and
# each node's audit log is sound (tests/sdk-python/conftest.py). Always the whole file (it takes
# seconds): a PYTEST_ARGS selection meant for the suite could select none of it.
STRONGROOM_SDK_NODES=2 "$VENV/bin/python" -m pytest "$SDK_DIR/test_secrets.py"
elapsed

# --- the real Azure CLI ------------------------------------------------------------------------------
# azure-cli and its ~150 dependencies take minutes to install: the venv lives outside the clone,
# keyed by the frozen requirements and the Python version, and is rebuilt only when either changes.
STEP_START=$SECONDS
AZ_REQUIREMENTS="$ROOT/tests/az/requirements.txt"
AZ_CACHE="${STRONGROOM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/strongroom}"
az_key="$(cat "$AZ_REQUIREMENTS" <("$PYTHON" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
AZ_VENV="$AZ_CACHE/az-venv-$az_key"
step "Azure CLI venv ($AZ_VENV)"
if [[ ! -f "$AZ_VENV/.complete" ]]; then
    rm -rf "$AZ_VENV"
    mkdir -p "$AZ_CACHE"
    "$PYTHON" -m venv "$AZ_VENV"
    "$AZ_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$AZ_REQUIREMENTS"
    touch "$AZ_VENV/.complete"
else
    echo "requirements unchanged: reusing it"
fi
elapsed

STEP_START=$SECONDS
step "pytest tests/az (STRONGROOM_AZ=$AZ_VENV/bin/az)"
# shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose
STRONGROOM_AZ="$AZ_VENV/bin/az" "$VENV/bin/python" -m pytest "$ROOT/tests/az" ${PYTEST_ARGS:-}
elapsed

# --- the browser suite -------------------------------------------------------------------------------
# Debian's headless Chromium driven by Playwright: interactive sign-in with the SDK's credentials and the
# real az, screenshots and accessibility checks (scripts/test-browser.sh; Chromium installed when missing,
# its venv and axe-core cached outside the clone like the az venv).
STEP_START=$SECONDS
step "tests/browser (scripts/test-browser.sh)"
STRONGROOM_AZ="$AZ_VENV/bin/az" "$ROOT/scripts/test-browser.sh"
elapsed

# --- the official JavaScript SDKs ---------------------------------------------------------------------
# node_modules from tests/sdk-js/package-lock.json, cached outside the clone like the az venv.
STEP_START=$SECONDS
step "tests/sdk-js (scripts/test-sdk-js.sh)"
"$ROOT/scripts/test-sdk-js.sh"
elapsed

# --- the official Rust SDK crates ---------------------------------------------------------------------
# tests/sdk-rust is a project of its own; its build cache lives outside the clone like the venvs,
# keyed by its Cargo.lock and the toolchain, so a fresh clone compiles the SDK crates only once per
# machine (older keys are removed: a target directory is large).
STEP_START=$SECONDS
sdk_rust_key="$(cat "$ROOT/tests/sdk-rust/Cargo.lock" <(rustc -V) | sha256sum | cut -c1-16)"
SDK_RUST_TARGET_DIR="$AZ_CACHE/sdk-rust-target-$sdk_rust_key"
for stale in "$AZ_CACHE"/sdk-rust-target-*; do
    [[ -d "$stale" && "$stale" != "$SDK_RUST_TARGET_DIR" ]] && rm -rf "$stale"
done
step "tests/sdk-rust (scripts/test-sdk-rust.sh, target $SDK_RUST_TARGET_DIR)"
SDK_RUST_TARGET_DIR="$SDK_RUST_TARGET_DIR" "$ROOT/scripts/test-sdk-rust.sh"
elapsed
