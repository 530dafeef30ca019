#!/usr/bin/env bash
# The browser suite (tests/browser): Debian's headless Chromium driven by Playwright for Python against the
# strongroom binary at $STRONGROOM_BIN: interactive sign-in (authorization code + PKCE, device code, refresh tokens)
# with the Python SDK's InteractiveBrowserCredential / DeviceCodeCredential and the real `az` ($STRONGROOM_AZ), the
# protocol's refusals, and a screenshot and an accessibility check of each page.
#
#   1. Chromium: Debian's `chromium` package (/usr/bin/chromium), and `certutil` (libnss3-tools) to make it trust
#      the server's CA, installed with apt-get when missing (as root). Playwright's own browser builds are never
#      downloaded (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1; nothing runs `playwright install`).
#   2. A venv from tests/browser/requirements.txt (Playwright, pinned, and the SDK suite's pins as constraints) in a
#      cache outside the clone keyed by both requirement files and the Python version:
#      $STRONGROOM_CACHE_DIR/browser-venv-<hash> (default ~/.cache/strongroom, like the az venv). Rebuilt only when
#      a key changes or the venv is missing.
#   3. axe-core from tests/browser/package-lock.json with `npm ci`, cached the same way (browser-axe-<hash>).
#   4. pytest tests/browser. Screenshots under target/browser-screenshots, axe results under target/browser-a11y,
#      a failing test's screenshots and HTML under target/browser-failures (all emptied first).
#
# Environment:
#   STRONGROOM_BIN        the binary under test (required), e.g. target/debug/strongroom
#   STRONGROOM_AZ         the pinned `az` (required; scripts/test.sh installs it: $STRONGROOM_CACHE_DIR/az-venv-*/bin/az)
#   STRONGROOM_CACHE_DIR  where the venv and node_modules live (default: ${XDG_CACHE_HOME:-~/.cache}/strongroom)
#   PYTHON                the Python the venv is made from (default python3)
#   BROWSER_PYTEST_ARGS   extra arguments for pytest (e.g. BROWSER_PYTEST_ARGS="-k device")
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
SUITE="$ROOT/tests/browser"
PYTHON="${PYTHON:-python3}"

step() {
    printf '\n==> %s\n' "$*"
}

for var in STRONGROOM_BIN STRONGROOM_AZ; do
    if [[ -z "${!var:-}" || ! -x "${!var}" ]]; then
        echo "error: $var must name an executable (run ./scripts/test.sh, which builds strongroom and installs az)" >&2
        exit 2
    fi
done
STRONGROOM_BIN="$(cd "$(dirname "$STRONGROOM_BIN")" && pwd)/$(basename "$STRONGROOM_BIN")"
export STRONGROOM_BIN STRONGROOM_AZ

# --- Chromium and certutil from Debian ---------------------------------------------------------------------------
STEP_START=$SECONDS
step "Chromium (Debian's chromium package)"
# "command Debian-package"
missing=()
for tool in "/usr/bin/chromium chromium" "certutil libnss3-tools" "npm npm"; do
    read -r program package <<<"$tool"
    command -v "$program" >/dev/null || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
        echo "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "error: missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
        exit 1
    fi
fi
# The launcher script may print a harmless shell warning from /etc/chromium.d; keep only the version line.
CHROMIUM_VERSION="$(/usr/bin/chromium --version 2>/dev/null | tail -n 1)"
echo "$CHROMIUM_VERSION"
export STRONGROOM_CHROMIUM=/usr/bin/chromium
printf '(%ds)\n' "$((SECONDS - STEP_START))"

# --- the venv, cached outside the clone ---------------------------------------------------------------------------
STEP_START=$SECONDS
CACHE="${STRONGROOM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/strongroom}"
venv_key="$(cat "$SUITE/requirements.txt" "$ROOT/tests/sdk-python/requirements.txt" \
    <("$PYTHON" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
VENV="$CACHE/browser-venv-$venv_key"
step "browser venv ($VENV)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [[ ! -f "$VENV/.complete" ]] || ! "$VENV/bin/python" -c 'import playwright' >/dev/null 2>&1; then
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$SUITE/requirements.txt"
    touch "$VENV/.complete"
    echo "installed: $("$VENV/bin/python" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"
else
    echo "requirements unchanged: reusing it"
fi
printf '(%ds)\n' "$((SECONDS - STEP_START))"

# --- axe-core, cached outside the clone ---------------------------------------------------------------------------
STEP_START=$SECONDS
axe_key="$(sha256sum "$SUITE/package-lock.json" | cut -c1-16)"
AXE_INSTALL="$CACHE/browser-axe-$axe_key"
step "axe-core ($AXE_INSTALL)"
if [[ ! -f "$AXE_INSTALL/.complete" ]]; then
    rm -rf "$AXE_INSTALL"
    mkdir -p "$AXE_INSTALL"
    cp "$SUITE/package.json" "$SUITE/package-lock.json" "$AXE_INSTALL/"
    (cd "$AXE_INSTALL" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    touch "$AXE_INSTALL/.complete"
else
    echo "package-lock.json unchanged: reusing it"
fi
export STRONGROOM_AXE="$AXE_INSTALL/node_modules/axe-core/axe.min.js"
test -f "$STRONGROOM_AXE"
printf '(%ds)\n' "$((SECONDS - STEP_START))"

# --- the tests ----------------------------------------------------------------------------------------------------
STEP_START=$SECONDS
export STRONGROOM_BROWSER_ARTIFACTS="${CARGO_TARGET_DIR:-$ROOT/target}"
rm -rf "$STRONGROOM_BROWSER_ARTIFACTS"/browser-{screenshots,a11y,failures}
step "pytest tests/browser ($CHROMIUM_VERSION, STRONGROOM_BIN=$STRONGROOM_BIN)"
# Keep the source tree free of __pycache__ directories.
# shellcheck disable=SC2086 # BROWSER_PYTEST_ARGS is split on purpose
PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" -m pytest "$SUITE" ${BROWSER_PYTEST_ARGS:-}
printf '(%ds)\n' "$((SECONDS - STEP_START))"
