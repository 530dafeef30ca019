"""Fixtures for the browser suite: the real `strongroom` binary, Debian's headless Chromium driven by Playwright.

- The server is the SDK suite's (tests/sdk-python/strongroom_server.py): one `strongroom serve` per session on a
  fresh data directory, `--dev-clock`, `--audit-log`, loopback only, so its transparent proxy needs no credentials.
- Chromium is `/usr/bin/chromium` from Debian (`STRONGROOM_CHROMIUM`), never a browser Playwright downloads. It runs
  with a HOME of its own whose NSS database (`~/.pki/nssdb`, made with `certutil`) trusts the server's local CA, so
  TLS is verified for real (the CA's name constraints included): no `ignore_https_errors`. It is launched with the
  server's listener as its HTTP proxy, so `https://login.microsoftonline.com/...` reaches Strongroom through
  transparent mode as it does for `az`; loopback names (the server's own `localhost` and `*.vault.localhost`, and the
  loopback redirect URIs of public clients, where az and azure-identity listen) bypass the proxy (`LOOPBACK_NAMES`).
- In this process `localhost` and `*.localhost` resolve to 127.0.0.1 (as in the SDK suite), for the in-process SDK
  clients; Chromium resolves them to loopback itself.
- Every test gets a fresh browser context (no cookies, no sign-in session); `new_context()` makes more (two users at
  once). Pages run under the server's real Content-Security-Policy (no `bypass_csp`): a CSP violation or an uncaught
  script error reported by any page fails the test that caused it. A failing test leaves a screenshot and the HTML
  of each open page under `target/browser-failures/`.
- `screenshot(page, name)` saves `target/browser-screenshots/<name>.png` (full page); `check_accessibility(page,
  name)` runs axe-core (`STRONGROOM_AXE`, the pinned `axe.min.js`) in the page, records the result under
  `target/browser-a11y/<name>.json` and fails on any violation of impact serious or critical (listing every
  violation, minor ones too).
- `make_user(prefix, admin=False)` creates a user with `strongroom user create` and returns its UPN, password and
  object id.
- No test may be skipped (the SDK suite's `no_skips` plugin).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sdk-python"))

from strongroom_server import StrongroomServer, running_server, unique_name  # noqa: E402

pytest_plugins = ["no_skips"]

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("STRONGROOM_BROWSER_ARTIFACTS") or REPO_ROOT / "target")
SCREENSHOTS = ARTIFACTS / "browser-screenshots"
A11Y_RESULTS = ARTIFACTS / "browser-a11y"
FAILURES = ARTIFACTS / "browser-failures"

# Playwright's default is 30 s per action; our pages answer in milliseconds, so a wait this long means a failure.
ACTION_TIMEOUT_MS = 15_000
# axe impacts that fail a test; `moderate` and `minor` ones are reported in the message and the JSON only.
FAILING_IMPACTS = ("serious", "critical")
# What Chromium reaches without the proxy.
LOOPBACK_NAMES = "localhost,*.localhost,127.0.0.1,[::1]"


# -- the binary and the server ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def strongroom_bin() -> str:
    binary = os.environ.get("STRONGROOM_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.exit("STRONGROOM_BIN must name the strongroom binary: run ./scripts/test-browser.sh", 2)
    return binary


@pytest.fixture(scope="session")
def server(strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    root = tmp_path_factory.mktemp("browser-server")
    # The audit log, read back by the console's "Audit log" tab (test_console.py).
    with running_server(strongroom_bin, root, extra_args=("--dev-clock", "--audit-log", str(root / "audit.log"))) as srv:
        yield srv


@pytest.fixture(scope="session")
def admin_credential(server: StrongroomServer) -> dict[str, str]:
    """The deployment administrator's service principal (admin.json): `clientId`, `clientSecret`, `objectId`."""
    return json.loads((server.data_dir / "admin.json").read_text())


# -- name resolution inside this process (as the SDK suite does it) ---------------------------------------------

_real_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    # `*.vault.localhost` does not resolve through glibc, and `localhost` may resolve to ::1 first while the server
    # listens on 127.0.0.1 only. TLS still sees the original name (SNI and the certificate check). Chromium
    # resolves `*.localhost` to loopback on its own.
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
    if isinstance(name, str) and (name.lower().rstrip(".") == "localhost" or name.lower().rstrip(".").endswith(".localhost")):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def resolve_localhost_names() -> Iterator[None]:
    socket.getaddrinfo = _loopback_getaddrinfo
    saved = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    for name, value in saved.items():
        os.environ[name] = ",".join(filter(None, [value, "localhost", ".localhost", "127.0.0.1"]))
    try:
        yield
    finally:
        socket.getaddrinfo = _real_getaddrinfo
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- users --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    """A user made with `strongroom user create`: what a person types on the sign-in page, and its object id."""

    upn: str
    password: str
    object_id: str
    display_name: str
    admin: bool


def new_password() -> str:
    """8+ characters of all four classes (upper, lower, digit, symbol), unguessable."""
    return f"Sr-{secrets.token_urlsafe(12)}-7q"


# Users' UPN domain: any DNS name with a dot (Graph's rule); `.test` is reserved, so it is nobody's real domain.
UPN_DOMAIN = "strongroom.test"


def upn_for(prefix: str) -> str:
    return f"{unique_name(prefix)}@{UPN_DOMAIN}"


@pytest.fixture(scope="session")
def make_user(server: StrongroomServer) -> Callable[..., User]:
    """`make_user(prefix, admin=False) -> User`: `strongroom user create` with a fresh UPN and password."""

    def make(prefix: str = "user", admin: bool = False) -> User:
        upn = upn_for(prefix)
        password = new_password()
        display_name = f"{prefix.capitalize()} {upn.split('@')[0].rsplit('-', 1)[-1]}"
        args = ["user", "create", "--display-name", display_name, "--password", password, "--user-principal-name", upn]
        created = server.cli_json(*args, *(["--admin"] if admin else []))
        assert created["userPrincipalName"].lower() == upn.lower(), created
        return User(upn, password, str(created["id"]), display_name, admin)

    return make


# -- Chromium ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("STRONGROOM_CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        pytest.exit(f"no Chromium at {path}: run ./scripts/test-browser.sh, which installs Debian's `chromium`", 2)
    return path


@pytest.fixture(scope="session")
def browser_home(server: StrongroomServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME for Chromium whose NSS database trusts the server's local CA (as `certutil -A -t C,,` would for a
    person who trusts it), and nothing else of the machine's user."""
    home = tmp_path_factory.mktemp("chromium-home")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for args in (
        ["-N", "--empty-password"],
        ["-A", "-n", "Strongroom local CA", "-t", "C,,", "-i", server.ca_file],
    ):
        done = subprocess.run(["certutil", "-d", f"sql:{nssdb}", *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"certutil {args}: {done.stderr}"
    return home


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(
    playwright: Playwright, chromium_path: str, browser_home: Path, server: StrongroomServer
) -> Iterator[Browser]:
    env = {
        "HOME": str(browser_home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        # Chromium's crash reporter and fontconfig want these; nothing else of the test's environment goes in.
        "XDG_CONFIG_HOME": str(browser_home / ".config"),
        "XDG_CACHE_HOME": str(browser_home / ".cache"),
    }
    browser = playwright.chromium.launch(
        executable_path=chromium_path,
        headless=True,
        env=env,
        # Transparent mode: Azure's names (login.microsoftonline.com) reach Strongroom through its listener, which
        # is loopback-only here and so takes proxy requests without credentials. Loopback names go direct, as in a
        # browser with a proxy configured: the server's own names and the loopback redirect URIs of public clients
        # (`http://localhost:PORT`, where az and azure-identity listen). Playwright would otherwise send loopback
        # through the proxy too (it adds Chromium's `<-loopback>` rule), and the proxy forwards no plain HTTP.
        proxy={"server": f"http://{server.info['listen']}", "bypass": LOOPBACK_NAMES},
    )
    try:
        yield browser
    finally:
        browser.close()


# -- contexts and pages -----------------------------------------------------------------------------------------


class Problems:
    """What pages reported that no page of ours may cause: CSP violations and uncaught script errors."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, context: BrowserContext) -> None:
        def on_console(message: Any) -> None:
            text = message.text
            if message.type == "error" and "Content Security Policy" in text:
                self.items.append(f"CSP violation on {message.location.get('url', '?')}: {text}")

        def on_page(page: Page) -> None:
            page.on("pageerror", lambda error: self.items.append(f"uncaught script error on {page.url}: {error}"))

        context.on("console", on_console)
        context.on("page", on_page)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:150]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _save_failure_artifacts(request: pytest.FixtureRequest, contexts: list[BrowserContext]) -> None:
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    FAILURES.mkdir(parents=True, exist_ok=True)
    stem = _safe_name(request.node.nodeid)
    for c_index, context in enumerate(contexts):
        for p_index, page in enumerate(context.pages):
            base = FAILURES / f"{stem}-{c_index}-{p_index}"
            try:
                page.screenshot(path=f"{base}.png", full_page=True, timeout=5_000)
                Path(f"{base}.html").write_text(f"<!-- {page.url} -->\n{page.content()}")
            except Exception as err:  # a crashed or closed page: note it, keep the other artifacts
                Path(f"{base}.txt").write_text(f"{page.url}: no artifacts ({err})")


@pytest.fixture
def new_context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., BrowserContext]]:
    """`new_context(**options) -> BrowserContext`: a fresh profile (own cookies), closed after the test."""
    made: list[BrowserContext] = []
    problems = Problems()

    def make(**options: Any) -> BrowserContext:
        options.setdefault("locale", "en-US")
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        problems.watch(context)
        made.append(context)
        return context

    yield make
    _save_failure_artifacts(request, made)
    for context in made:
        context.close()
    assert not problems.items, "pages reported problems:\n" + "\n".join(problems.items)


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# -- artifacts: screenshots and the accessibility check ---------------------------------------------------------


def save_screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{_safe_name(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def screenshot() -> Callable[[Page, str], Path]:
    """`screenshot(page, name)`: `target/browser-screenshots/<name>.png`, the full page."""
    return save_screenshot


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = os.environ.get("STRONGROOM_AXE")
    if not path or not os.path.isfile(path):
        pytest.exit("STRONGROOM_AXE must name the pinned axe.min.js: run ./scripts/test-browser.sh", 2)
    return Path(path).read_text()


# axe's own summary of each violation, and which elements it found (selector and the reason, shortened).
_AXE_RUN = """async () => {
    const results = await window.axe.run(document, { resultTypes: ["violations"] });
    return {
        url: results.url,
        engine: results.testEngine.version,
        passes: results.passes.length,
        incomplete: results.incomplete.map(r => r.id),
        violations: results.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({ target: n.target.join(" "), summary: (n.failureSummary || "").slice(0, 300) })),
        })),
    };
}"""


def run_axe(page: Page, axe_source: str) -> dict[str, Any]:
    """axe-core's violations for the page as it is now. axe is evaluated through the DevTools protocol (as a test
    harness evaluates anything), which the page's CSP does not govern; the page itself keeps its real CSP."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {axe_source}\n;return typeof window.axe; }}")
    return page.evaluate(_AXE_RUN)


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {node['target']}: {node['summary']}".replace("\n", " "))
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def check_accessibility(axe_source: str) -> Callable[[Page, str], dict[str, Any]]:
    """`check_accessibility(page, name)`: run axe-core on the page, write `target/browser-a11y/<name>.json`, fail on
    a serious or critical violation (the message lists every violation, whatever its impact)."""

    def check(page: Page, name: str) -> dict[str, Any]:
        result = run_axe(page, axe_source)
        A11Y_RESULTS.mkdir(parents=True, exist_ok=True)
        (A11Y_RESULTS / f"{_safe_name(name)}.json").write_text(json.dumps(result, indent=2) + "\n")
        failing = [v for v in result["violations"] if v["impact"] in FAILING_IMPACTS]
        assert not failing, (
            f"axe-core {result['engine']} on {name} ({result['url']}): {len(failing)} serious or critical "
            f"violation(s); all violations:\n{format_violations(result['violations'])}"
        )
        return result

    return check
