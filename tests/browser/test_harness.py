"""The harness itself: the browser is Debian's Chromium, it trusts the server's CA for real, reaches Strongroom
directly and through transparent mode, and the accessibility check and the CSP watch work under a strict CSP.
Without these, a failure of the sign-in tests could be the harness's; with them, it is the server's."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

from conftest import Problems, run_axe
from strongroom_server import StrongroomServer

STRICT_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'"


def serve(context: BrowserContext, url: str, html: str, csp: str = STRICT_CSP) -> None:
    def fulfil(route: Route) -> None:
        route.fulfill(status=200, body=html, headers={"Content-Type": "text/html; charset=utf-8",
                                                      "Content-Security-Policy": csp})  # fmt: skip

    context.route(url, fulfil)


def test_the_browser_is_debians_chromium(browser: Browser, chromium_path: str) -> None:
    assert chromium_path == "/usr/bin/chromium" or chromium_path.startswith("/usr/")
    major = int(browser.version.split(".")[0])
    assert major >= 120, browser.version


def test_the_browser_trusts_the_local_ca_at_the_service_host(page: Page, server: StrongroomServer) -> None:
    response = page.goto(f"{server.authority_host}/healthz")
    assert response is not None and response.status == 200
    assert json.loads(page.inner_text("body")) == {"status": "ok"}
    assert response.security_details() is not None, "not HTTPS"


def test_login_microsoftonline_com_reaches_strongroom_through_transparent_mode(
    page: Page, server: StrongroomServer
) -> None:
    response = page.goto(f"https://login.microsoftonline.com/{server.tenant_id}/v2.0/.well-known/openid-configuration")
    assert response is not None and response.status == 200
    document = json.loads(page.inner_text("body"))
    assert document["authorization_endpoint"] == (
        f"https://login.microsoftonline.com/{server.tenant_id}/oauth2/v2.0/authorize"
    )
    details = response.security_details()
    assert details is not None and details.get("subjectName") == "login.microsoftonline.com", details


def test_an_untrusted_name_is_refused(page: Page) -> None:
    """The CA is trusted only for what it vouches for, and the proxy forwards nothing else."""
    with pytest.raises(Exception, match="ERR_"):
        page.goto("https://www.example.com/")


def test_axe_runs_under_a_strict_csp_and_finds_a_violation(
    context: BrowserContext, page: Page, axe_source: str, check_accessibility: Callable[[Page, str], Any]
) -> None:
    serve(context, "https://harness.invalid/good", (
        "<!doctype html><html lang='en'><head><title>Good</title></head>"
        "<body><main><h1>Good</h1><form><label for='a'>Name</label><input id='a' name='a'></form></main></body></html>"
    ))  # fmt: skip
    serve(context, "https://harness.invalid/bad", (
        "<!doctype html><html><head><title>Bad</title></head>"
        "<body><main><h1>Bad</h1><form><input id='a' name='a'></form><img src='x.png'></main></body></html>"
    ))  # fmt: skip
    page.goto("https://harness.invalid/good")
    result = check_accessibility(page, "harness-good")
    assert result["violations"] == [], result
    page.goto("https://harness.invalid/bad")
    found = {v["id"]: v["impact"] for v in run_axe(page, axe_source)["violations"]}
    assert found.get("image-alt") == "critical", found
    assert found.get("label") == "critical", found
    assert "html-has-lang" in found, found


def test_csp_violations_are_noticed(browser: Browser) -> None:
    problems = Problems()
    context = browser.new_context()
    try:
        problems.watch(context)
        serve(context, "https://harness.invalid/inline", (
            "<!doctype html><html lang='en'><head><title>Inline</title></head>"
            "<body><script>document.title = 'ran'</script></body></html>"
        ))  # fmt: skip
        page = context.new_page()
        page.goto("https://harness.invalid/inline")
        page.wait_for_timeout(200)
        assert page.title() == "Inline"
    finally:
        context.close()
    assert any("CSP violation" in item and "inline" in item for item in problems.items), problems.items
