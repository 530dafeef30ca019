#!/usr/bin/env bash
# The official Rust SDK suite (tests/sdk-rust): Microsoft's azure_identity and
# azure_security_keyvault_{secrets,keys,certificates} crates against the real strongroom binary,
# in direct mode and through transparent mode.
#
#   1. cargo fmt --check and clippy -D warnings of the tests/sdk-rust crate
#   2. the strongroom binary: `cargo build --locked -p strongroom --bin strongroom` in the main
#      workspace (a no-op when it is up to date), unless STRONGROOM_BIN names one
#   3. cargo test --locked --no-fail-fast of tests/sdk-rust
#
# tests/sdk-rust is a Cargo project of its own (its own [workspace] and Cargo.lock), built in
# its own target directory, SDK_RUST_TARGET_DIR (default: <target>/sdk-rust, where <target> is
# CARGO_TARGET_DIR or ./target), so it never disturbs the product's build cache.
# Environment: STRONGROOM_BIN (default <target>/debug/strongroom, built here), SDK_RUST_TARGET_DIR,
# SDK_RUST_TEST_ARGS (extra arguments to `cargo test`, e.g. "-- transparent"), SDK_RUST_SKIP_LINT=1
# (skips step 1).
# Any failure stops the script with a non-zero exit code and says which step failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
SDK_DIR="$ROOT/tests/sdk-rust"
MAIN_TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
SDK_TARGET="${SDK_RUST_TARGET_DIR:-$MAIN_TARGET/sdk-rust}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

TOTAL_START=$SECONDS
CURRENT_STEP="start"
trap 'status=$?; if [[ $status -ne 0 ]]; then printf "\nFAILED: %s (exit %d) after %ds\n" "$CURRENT_STEP" "$status" "$((SECONDS - TOTAL_START))" >&2; fi' EXIT

step() {
    CURRENT_STEP="$*"
    STEP_START=$SECONDS
    printf '\n==> %s\n' "$*"
}

elapsed() {
    printf '(%ds)\n' "$((SECONDS - STEP_START))"
}

# cargo in tests/sdk-rust, with its own target directory.
sdk_cargo() {
    (cd "$SDK_DIR" && CARGO_TARGET_DIR="$SDK_TARGET" cargo "$@")
}

if [[ "${SDK_RUST_SKIP_LINT:-0}" != "1" ]]; then
    step "cargo fmt --check (tests/sdk-rust)"
    sdk_cargo fmt -- --check
    elapsed

    # Cold, clippy's own pass over the dependencies is about half of this script's time.
    step "cargo clippy --locked --all-targets -- -D warnings (tests/sdk-rust, target $SDK_TARGET)"
    sdk_cargo clippy --locked --all-targets -- -D warnings
    elapsed
fi

if [[ -z "${STRONGROOM_BIN:-}" ]]; then
    step "cargo build --locked -p strongroom --bin strongroom"
    cargo build --locked -p strongroom --bin strongroom
    elapsed
    STRONGROOM_BIN="$MAIN_TARGET/debug/strongroom"
fi
CURRENT_STEP="STRONGROOM_BIN check"
if [[ ! -x "$STRONGROOM_BIN" ]]; then
    echo "error: STRONGROOM_BIN=$STRONGROOM_BIN is not an executable" >&2
    exit 1
fi
# The tests run in tests/sdk-rust: a relative path would point elsewhere there.
STRONGROOM_BIN="$(realpath "$STRONGROOM_BIN")"
export STRONGROOM_BIN

step "cargo test --locked --no-fail-fast (tests/sdk-rust, STRONGROOM_BIN=$STRONGROOM_BIN)"
# shellcheck disable=SC2086 # SDK_RUST_TEST_ARGS is split on purpose
sdk_cargo test --locked --no-fail-fast ${SDK_RUST_TEST_ARGS:-}
elapsed

CURRENT_STEP="done"
printf '\nRust SDK suite passed in %ds\n' "$((SECONDS - TOTAL_START))"
