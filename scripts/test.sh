#!/usr/bin/env bash
# The one test command (README: `./scripts/test.sh`). CI runs it through .ci/run.
#
#   1. cargo fmt --check and clippy -D warnings (cheap, so they fail first), then cargo build of
#      every target
#   2. a venv at target/sdk-venv with the official SDKs' pinned requirements (reinstalled only
#      when tests/sdk-python/requirements.txt changes); they include `cryptography`, which the
#      Rust certs tests also use, through this venv's python (STRONGROOM_TEST_PYTHON)
#   3. cargo test --workspace (the Rust suites; every failing test binary is reported, not just
#      the first); the certs tests also need the `openssl` command, installed if missing
#   4. the official-SDK suite: pytest against the binary we just built (STRONGROOM_BIN).
#
# Any failure stops the script with a non-zero exit code.
# Environment: SKIP_RUST=1 skips steps 1 and 3 (SDK suite only, against an existing build);
# PYTEST_ARGS adds arguments to pytest (e.g. PYTEST_ARGS="-k permissions").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
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
    step "cargo clippy --workspace --all-targets -- -D warnings"
    cargo clippy --workspace --all-targets -- -D warnings
    elapsed

    STEP_START=$SECONDS
    step "cargo build --workspace --all-targets"
    cargo build --workspace --all-targets
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
    step "cargo test --workspace --no-fail-fast"
    if ! command -v openssl >/dev/null; then
        if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
            echo "openssl command missing: installing openssl"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq openssl
        else
            echo "error: the certs tests need the 'openssl' command; install openssl" >&2
            exit 1
        fi
    fi
    export STRONGROOM_TEST_PYTHON="$VENV/bin/python"
    cargo test --workspace --no-fail-fast
    elapsed
fi

STRONGROOM_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/strongroom"
if [[ ! -x "$STRONGROOM_BIN" ]]; then
    step "cargo build -p strongroom"
    cargo build -p strongroom
fi
export STRONGROOM_BIN

# --- the SDK suite -----------------------------------------------------------------------------------
STEP_START=$SECONDS
step "pytest tests/sdk-python (STRONGROOM_BIN=$STRONGROOM_BIN)"
# shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose
"$VENV/bin/python" -m pytest "$SDK_DIR" ${PYTEST_ARGS:-}
elapsed
