"""The web console (issue 12) in headless Chromium, as people use it: an administrator signs in (authorization code +
PKCE through the real sign-in page), creates a vault, sets a secret and reveals it, creates a key, creates a
certificate and waits for its issuance, downloads it, grants a colleague (a user who is not an administrator) read
access to the vault's secrets, and signs out; the colleague then signs in, is refused the vault list by Resource
Manager (the console says so and offers to open a vault by name), opens the vault, reads the secret, is refused its
keys and the audit log (an administrator's), and signs out. The administrator's audit log tab shows what they did
and filters it (operation, caller, result) from the keyboard. The authorization code comes back in the URL's fragment
and never reaches a server.

Every main page is screenshotted (target/browser-screenshots/console-*.png) and passes the accessibility check
(axe-core: no serious or critical violation); every page runs under the server's real Content-Security-Policy (the
harness fails a test on any CSP violation or uncaught script error). The keyboard alone reaches the skip link, and
each navigation moves focus to the new page's heading.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import BrowserContext, Page, expect

from conftest import User
from signin import complete_sign_in
from strongroom_server import StrongroomServer, unique_name

Check = Callable[[Page, str], Any]
# Issuing a certificate is a long operation the console polls; it finishes in well under a second here.
CERTIFICATE_TIMEOUT_MS = 60_000


class Console:
    """One person's console tab: navigation by the names a person reads, and a screenshot plus the accessibility
    check of each page shown."""

    def __init__(self, server: StrongroomServer, page: Page, screenshot: Check, check_accessibility: Check) -> None:
        self.server = server
        self.page = page
        self.screenshot = screenshot
        self.check_accessibility = check_accessibility
        self.origin = f"https://{server.domain}:{server.port}"
        # Every URL this tab requested with an authorization code in its query string: none may, the console asks
        # for the code in the fragment (`response_mode=fragment`), which never leaves the browser.
        self.codes_sent: list[str] = []
        page.on("request", lambda request: self._watch(request.url))

    def _watch(self, url: str) -> None:
        if "code" in parse_qs(urlsplit(url).query):
            self.codes_sent.append(url)

    def heading(self, name: str) -> None:
        """Waits for the page whose heading is `name`, which has focus (the console moves it there)."""
        title = self.page.locator("#page-title")
        expect(title).to_have_text(name)
        expect(title).to_be_focused()

    def record(self, name: str) -> None:
        self.record_page(self.page, f"console-{name}")

    def record_page(self, page: Page, name: str) -> None:
        # The last actions' notifications ("Secret created.", gone after a few seconds) would cover the page.
        page.evaluate("() => document.querySelectorAll('#toast .toast').forEach((toast) => toast.remove())")
        self.screenshot(page, name)
        self.check_accessibility(page, name)

    def sign_in(self, user: User, prefix: str) -> None:
        """From the signed-out landing page through the sign-in page and back."""
        self.heading("Sign in to Strongroom")
        self.page.get_by_role("button", name="Sign in").click()
        complete_sign_in(self.page, user, on_step=self.record_page, prefix=prefix)
        expect(self.page.locator("#account")).to_contain_text(user.display_name)
        # The code came back in the fragment, was read and cleared from the address bar (and the history entry).
        assert not self.codes_sent, f"an authorization code reached a server: {self.codes_sent}"
        address = urlsplit(self.page.url)
        assert address.query == "" and address.fragment.startswith("/"), self.page.url

    def open_landing(self) -> None:
        """A fresh visit: the console tries a silent sign-in, finds no session and shows its landing page."""
        self.page.goto(f"{self.origin}/")
        self.heading("Sign in to Strongroom")

    def tab(self, name: str) -> None:
        self.page.get_by_role("navigation", name="Vault").get_by_role("link", name=name, exact=True).click()

    def alert(self) -> str:
        alert = self.page.get_by_role("alert")
        expect(alert).to_be_visible()
        return alert.inner_text()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        self.heading("Sign in to Strongroom")
        expect(self.page.locator("#account")).to_be_empty()


def console_for(
    server: StrongroomServer, context: BrowserContext, screenshot: Check, check_accessibility: Check
) -> Console:  # fmt: skip
    return Console(server, context.new_page(), screenshot, check_accessibility)


def test_console_administrator_then_colleague(
    server: StrongroomServer,
    new_context: Callable[..., BrowserContext],
    make_user: Callable[..., User],
    screenshot: Check,
    check_accessibility: Check,
) -> None:
    admin = make_user("operator", admin=True)
    colleague = make_user("colleague")
    vault = unique_name("console")[:24].rstrip("-")
    secret_value = f"s3cret-{unique_name('v')}"

    # -- the administrator -----------------------------------------------------------------------------------------
    console = console_for(server, new_context(accept_downloads=True), screenshot, check_accessibility)
    page = console.page
    console.open_landing()
    console.record("signed-out")
    # The console's own headers: the page is framed by nobody and runs only its own scripts.
    headers = page.evaluate(
        """async () => { const r = await fetch("/", { cache: "no-store" });
            return [r.headers.get("content-security-policy"), r.headers.get("x-frame-options")]; }"""
    )
    assert "script-src 'self'" in headers[0] and "frame-ancestors 'none'" in headers[0], headers
    assert headers[1] == "DENY", headers

    console.sign_in(admin, "console-admin-sign-in")
    console.heading("Key vaults")
    # The keyboard: the skip link is the stop before the banner's first link, and moves focus to the page's heading.
    page.locator(".brand").focus()
    page.keyboard.press("Shift+Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#page-title")).to_be_focused()
    console.record("vaults-empty")

    page.get_by_role("link", name="Create vault").click()
    console.heading("Create a key vault")
    page.get_by_label("Vault name").fill(vault)
    console.record("vault-create")
    page.get_by_role("button", name="Create", exact=True).click()
    console.heading(f"Secrets in {vault}")

    # A secret: set, then revealed only on request.
    page.get_by_role("link", name="Generate/Import").click()
    console.heading("Create a secret")
    page.get_by_label("Name", exact=True).fill("db-password")
    page.get_by_label("Secret value").fill(secret_value)
    page.get_by_label("Tags").fill("env=test")
    console.record("secret-create")
    page.get_by_role("button", name="Create", exact=True).click()
    console.heading("db-password")
    assert secret_value not in page.content(), "the value is shown before the user asked for it"
    page.get_by_role("button", name="Show secret value").click()
    expect(page.get_by_role("textbox", name="Value of db-password")).to_have_value(secret_value)
    console.record("secret")
    console.tab("Secrets")
    console.heading(f"Secrets in {vault}")
    expect(page.get_by_role("link", name="db-password")).to_be_visible()
    console.record("secrets")

    # A key.
    console.tab("Keys")
    console.heading(f"Keys in {vault}")
    page.get_by_role("link", name="Generate/Import").click()
    console.heading("Create a key")
    page.get_by_label("Name", exact=True).fill("signing")
    page.get_by_label("Key type").select_option("EC")
    page.get_by_label("Elliptic curve").select_option("P-384")
    console.record("key-create")
    page.get_by_role("button", name="Create", exact=True).click()
    console.heading("signing")
    expect(page.get_by_text("EC P-384")).to_be_visible()
    console.record("key")

    # A certificate: issuance is a long operation; the console polls it, then shows the certificate.
    console.tab("Certificates")
    console.heading(f"Certificates in {vault}")
    page.get_by_role("link", name="Generate/Import").click()
    console.heading("Create a certificate")
    page.get_by_label("Certificate name").fill("web")
    page.get_by_label("Subject").fill("CN=web.example.test")
    page.get_by_label("DNS names (optional)").fill("web.example.test, www.example.test")
    console.record("certificate-create")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#page-title")).to_have_text("web", timeout=CERTIFICATE_TIMEOUT_MS)
    console.heading("web")
    expect(page.get_by_text("CN=web.example.test").first).to_be_visible()
    console.record("certificate")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download in PFX format").click()
    assert download.value.suggested_filename == "web.pfx"
    pfx = download.value.path().read_bytes()
    assert pfx[:1] == b"\x30" and len(pfx) > 1000, "a PFX is a DER SEQUENCE of a few kilobytes"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download in CER format").click()
    assert download.value.suggested_filename == "web.cer"

    # The colleague gets secret get/list (the form's defaults) and no key permission.
    console.tab("Access policies")
    console.heading(f"Access policies of {vault}")
    page.get_by_label("Principal (object id)").fill(colleague.object_id)
    console.record("access-policies")
    page.get_by_role("button", name="Add", exact=True).click()
    console.heading(f"Access policies of {vault}")
    policies = page.get_by_role("table", name="Access policies")
    expect(policies).to_contain_text(colleague.object_id)
    console.record("access-policies-granted")

    console.tab("Deleted objects")
    console.heading(f"Deleted objects in {vault}")
    console.record("deleted-objects")

    # The audit log (the server runs with --audit-log): what was just done, newest first, then filtered with the
    # keyboard alone (type an operation, Enter submits); the filters ride in the address.
    console.tab("Audit log")
    console.heading(f"Audit log of {vault}")
    events = page.get_by_role("table", name=f"Audit events of {vault}, newest first")
    for operation in ("SecretSet", "SecretGet", "KeyCreate", "CertificateCreate"):
        expect(events).to_contain_text(operation)
    console.record("audit-log")
    page.get_by_label("Operation").focus()
    page.keyboard.type("SecretGet")
    page.keyboard.press("Tab")
    page.keyboard.type(admin.object_id)
    page.keyboard.press("Enter")
    console.heading(f"Audit log of {vault}")
    assert "operation=SecretGet" in page.url, page.url
    filtered = page.get_by_role("table", name=f"Audit events of {vault}, newest first (filtered)")
    expect(filtered).to_be_visible()
    operations = filtered.locator("tbody tr td:nth-child(2)")
    expect(operations.first).to_have_text("SecretGet")
    assert set(operations.all_inner_texts()) == {"SecretGet"}, operations.all_inner_texts()
    expect(filtered).to_contain_text(f"{admin.object_id} (you)")
    console.record("audit-log-filtered")
    expect(page.get_by_label("Operation")).to_have_value("SecretGet")
    page.get_by_label("Result").select_option("failure")
    page.get_by_role("button", name="Apply filters").click()
    console.heading(f"Audit log of {vault}")
    expect(page.get_by_text("No event matches these filters.")).to_be_visible()
    page.get_by_role("link", name="Clear filters").click()
    console.heading(f"Audit log of {vault}")
    expect(page.get_by_role("table", name=f"Audit events of {vault}, newest first")).to_contain_text("KeyCreate")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Principals").click()
    console.heading("Principals")
    expect(page.get_by_role("table", name="Users")).to_contain_text(colleague.upn)
    console.record("principals")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Managed identities").click()
    console.heading("Managed identities")
    console.record("identities")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Key vaults").click()
    console.heading("Key vaults")
    expect(page.get_by_role("link", name=vault, exact=True)).to_be_visible()
    console.record("vaults")
    console.sign_out()

    # -- the colleague: a data-plane access policy only ------------------------------------------------------------
    other = console_for(server, new_context(), screenshot, check_accessibility)
    other.open_landing()
    other.sign_in(colleague, "console-colleague-sign-in")
    other.heading("Key vaults")
    assert "AuthorizationFailed" in other.alert()
    other.record("colleague-vaults-refused")
    other.page.get_by_label("Vault name").fill(vault)
    other.page.get_by_role("button", name="Open vault").click()
    other.heading(f"Secrets in {vault}")
    other.page.get_by_role("link", name="db-password").click()
    other.heading("db-password")
    other.page.get_by_role("button", name="Show secret value").click()
    expect(other.page.get_by_role("textbox", name="Value of db-password")).to_have_value(secret_value)
    other.record("colleague-secret")
    other.tab("Keys")
    other.heading(f"Keys in {vault}")
    assert "does not have keys list permission" in other.alert()
    other.record("colleague-keys-refused")
    # The audit log is for deployment administrators: the console shows the API's refusal.
    other.tab("Audit log")
    other.heading(f"Audit log of {vault}")
    refusal = other.alert()
    assert "AuthorizationFailed" in refusal and colleague.object_id in refusal, refusal
    other.record("colleague-audit-refused")
    other.sign_out()
