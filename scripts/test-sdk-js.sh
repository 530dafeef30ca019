#!/usr/bin/env bash
# The official JavaScript SDK suite (tests/sdk-js): @azure/identity, @azure/keyvault-secrets, -keys and
# -certificates, unmodified, against the strongroom binary at $STRONGROOM_BIN, in direct mode, in transparent mode
# and through `strongroom agent`.
#
#   1. node_modules from tests/sdk-js/package-lock.json with `npm ci`, into a cache outside the clone keyed by the
#      lock file's hash (and Node's major version): $STRONGROOM_CACHE_DIR/sdk-js-<hash>/node_modules, default
#      ~/.cache/strongroom (as scripts/test.sh keeps the az venv). Installed once; reused while the lock is unchanged.
#   2. `node --test` on tests/sdk-js/*.test.js with NODE_PATH pointing at that node_modules. The SDK programs the
#      tests run get only the variables `strongroom env` prints (plus PATH, HOME, NODE_PATH).
#
# Fails (non-zero) on any failing, cancelled, skipped or todo test, and when no test ran.
#
# Environment:
#   STRONGROOM_BIN        the binary under test (required), e.g. target/debug/strongroom
#   STRONGROOM_CACHE_DIR  where the node_modules cache lives (default: ${XDG_CACHE_HOME:-~/.cache}/strongroom)
#   SDK_JS_ARGS           extra arguments for `node --test` (e.g. SDK_JS_ARGS="--test-name-pattern=Certificate")
# Each test file's server, programs and logs go under ${CARGO_TARGET_DIR:-target}/sdk-js (emptied first), kept for
# a look after a failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
SUITE="$ROOT/tests/sdk-js"

step() {
    printf '\n==> %s\n' "$*"
}

if [[ -z "${STRONGROOM_BIN:-}" || ! -x "${STRONGROOM_BIN}" ]]; then
    echo "error: STRONGROOM_BIN must name the strongroom binary (cargo build -p strongroom; STRONGROOM_BIN=target/debug/strongroom)" >&2
    exit 2
fi
STRONGROOM_BIN="$(cd "$(dirname "$STRONGROOM_BIN")" && pwd)/$(basename "$STRONGROOM_BIN")"
export STRONGROOM_BIN

for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
            echo "$tool missing: installing Debian's nodejs and npm"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq nodejs npm
        else
            echo "error: the '$tool' command is missing; install Node.js 20 or later (Debian: nodejs npm)" >&2
            exit 1
        fi
    fi
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
    echo "error: Node.js $(node --version) is too old: the pinned SDKs need 20 or later" >&2
    exit 1
fi

# --- node_modules, cached outside the clone ------------------------------------------------------------------
STEP_START=$SECONDS
CACHE="${STRONGROOM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/strongroom}"
key="$(cat "$SUITE/package-lock.json" <(echo "node $node_major") | sha256sum | cut -c1-16)"
INSTALL="$CACHE/sdk-js-$key"
step "SDK node_modules ($INSTALL)"
if [[ ! -f "$INSTALL/.complete" ]]; then
    rm -rf "$INSTALL"
    mkdir -p "$INSTALL"
    cp "$SUITE/package.json" "$SUITE/package-lock.json" "$INSTALL/"
    (cd "$INSTALL" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    touch "$INSTALL/.complete"
    (cd "$INSTALL" && npm ls --depth=0)
else
    echo "package-lock.json unchanged: reusing it"
fi
printf '(%ds)\n' "$((SECONDS - STEP_START))"

# --- the tests -------------------------------------------------------------------------------------------------
STEP_START=$SECONDS
export NODE_PATH="$INSTALL/node_modules"
export STRONGROOM_SDK_JS_TMP="${CARGO_TARGET_DIR:-$ROOT/target}/sdk-js"
rm -rf "$STRONGROOM_SDK_JS_TMP"
mkdir -p "$STRONGROOM_SDK_JS_TMP"
TAP="$STRONGROOM_SDK_JS_TMP/results.tap"
shopt -s nullglob
test_files=("$SUITE"/*.test.js)
shopt -u nullglob
if ((${#test_files[@]} == 0)); then
    echo "error: no test files in $SUITE" >&2
    exit 1
fi
step "node --test tests/sdk-js (STRONGROOM_BIN=$STRONGROOM_BIN)"
status=0
# One process per file, two at a time: each starts its own server, and they wait on each other's I/O more than on
# the CPU. The spec reporter is for people; the TAP file is read below.
# shellcheck disable=SC2086 # SDK_JS_ARGS is split on purpose
node --test --test-concurrency=2 --test-timeout=180000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$TAP" \
    ${SDK_JS_ARGS:-} "${test_files[@]}" || status=$?
printf '(%ds)\n' "$((SECONDS - STEP_START))"

# The TAP summary: `# pass N`, `# fail N`, `# cancelled N`, `# skipped N`, `# todo N`.
count() {
    sed -n "s/^# $1 \([0-9][0-9]*\)$/\1/p" "$TAP" | tail -n 1
}
pass="$(count pass)"
fail="$(count fail)"
cancelled="$(count cancelled)"
skipped="$(count skipped)"
todo="$(count todo)"
echo "sdk-js: ${pass:-?} passed, ${fail:-?} failed, ${cancelled:-?} cancelled, ${skipped:-?} skipped, ${todo:-?} todo"
if ((status != 0)); then
    echo "error: node --test exited $status (logs under $STRONGROOM_SDK_JS_TMP)" >&2
    exit "$status"
fi
# node marks the tests a --test-name-pattern leaves out as skipped: a filtered run (SDK_JS_ARGS) may skip.
if [[ -n "${SDK_JS_ARGS:-}" && "${skipped:-0}" != "0" ]]; then
    echo "note: a filtered run (SDK_JS_ARGS=$SDK_JS_ARGS): ${skipped} skipped tests are not counted as failures"
    skipped=0
fi
if [[ -z "$pass" || "$pass" == "0" || "${fail:-1}" != "0" || "${cancelled:-1}" != "0" || "${skipped:-1}" != "0" || "${todo:-1}" != "0" ]]; then
    echo "error: every test must run and pass: none may fail, be cancelled, skipped or todo (see $TAP)" >&2
    exit 1
fi
