"""A person signs in through the Python SDK's interactive credentials, unmodified, and the browser does the rest.

- `InteractiveBrowserCredential`: the authorization-code flow with PKCE. azure-identity opens "a browser" with
  `webbrowser.open(auth_uri)` and waits on its own loopback server (`http://localhost:84xx`) for the redirect
  (`response_mode=form_post`); here `webbrowser.open` hands the URL to Playwright, which signs in on Strongroom's
  page, and the page sends the code to the credential's server as a real browser would.
- `DeviceCodeCredential`: `prompt_callback` hands the verification URI and user code to Playwright, which opens the
  page, enters the code, signs in and approves, while the credential polls the token endpoint.

The credential's token then reads a secret from a vault whose access policy names the user's object id; a user
without a policy gets 403. The SDK call runs in a thread (it blocks until the sign-in completes) while the test's
thread drives the browser.
"""

from __future__ import annotations

import queue
import webbrowser
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import DeviceCodeCredential, InteractiveBrowserCredential
from azure.keyvault.secrets import SecretClient
from playwright.sync_api import BrowserContext

from conftest import User
from oauth import AZURE_CLI_CLIENT_ID, Background
from signin import approve_device_code, complete_sign_in
from strongroom_server import StrongroomServer
from vaults import jwt_claims, vault_with_secret

TIMEOUT_S = 60


def next_from(items: "queue.Queue[Any]", call: Background[Any], what: str) -> Any:
    """The next item the client hands over, or the client's own failure if it ends first."""
    for _ in range(TIMEOUT_S * 10):
        try:
            return items.get(timeout=0.1)
        except queue.Empty:
            if call.done():
                call.result(1)  # raises the client's error
                raise AssertionError(f"the client finished without asking for {what}")
    raise AssertionError(f"the client asked for no {what} within {TIMEOUT_S} s")


@pytest.fixture
def opened_urls(monkeypatch: pytest.MonkeyPatch) -> "queue.Queue[str]":
    """What azure-identity opens in "the browser" (it calls `webbrowser.open` at the moment of sign-in)."""
    urls: queue.Queue[str] = queue.Queue()

    def open_in_playwright(url: str, *args: Any, **kwargs: Any) -> bool:
        urls.put(url)
        return True

    monkeypatch.setattr(webbrowser, "open", open_in_playwright)
    return urls


def interactive_credential(server: StrongroomServer) -> InteractiveBrowserCredential:
    return InteractiveBrowserCredential(
        tenant_id=server.tenant_id,
        authority=server.authority_host,
        disable_instance_discovery=True,
        connection_verify=server.ca_file,
        timeout=TIMEOUT_S,
    )


def sign_in_interactively(
    server: StrongroomServer,
    opened_urls: "queue.Queue[str]",
    context: BrowserContext,
    user: User,
    client_call: Callable[[], Any],
) -> tuple[Any, str]:
    """Run `client_call` (which signs in through an InteractiveBrowserCredential) and complete the sign-in in
    `context` as `user`; returns the call's result and the authorize URL the credential opened."""
    call = Background(client_call, "interactive-credential")
    url = next_from(opened_urls, call, "a browser")
    page = context.new_page()
    page.goto(url)
    assert complete_sign_in(page, user) == "form", "a fresh browser has no session: the sign-in form comes first"
    result = call.result(TIMEOUT_S)
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    page.wait_for_url(lambda current: current.startswith(redirect_uri), wait_until="commit")
    return result, url


def test_interactive_browser_credential_signs_a_user_in_with_pkce_and_reads_a_granted_secret(
    server: StrongroomServer,
    make_user: Callable[..., User],
    new_context: Callable[..., BrowserContext],
    opened_urls: "queue.Queue[str]",
) -> None:
    user = make_user("alice")
    vault = vault_with_secret(server, "interactive", user)
    credential = interactive_credential(server)
    client = SecretClient(vault.url, credential, connection_verify=server.ca_file)

    secret, url = sign_in_interactively(
        server, opened_urls, new_context(), user, lambda: client.get_secret(vault.secret_name)
    )
    assert secret.value == vault.secret_value

    # What azure-identity asked of our authorization endpoint: the code flow with PKCE (S256), a loopback redirect.
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == server.authority_host
    assert parts.path == f"/{server.tenant_id}/oauth2/v2.0/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["client_id"] == AZURE_CLI_CLIENT_ID
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["redirect_uri"].startswith("http://localhost:")

    # The token names the user, and the credential reuses it (or refreshes silently): no second browser. The Key
    # Vault clients ask with enable_cae=True, which azure-identity serves from a cache of its own, so ask the same.
    token = credential.get_token(f"{server.vault_audience}/.default", enable_cae=True)
    claims = jwt_claims(token.token)
    assert claims["oid"] == user.object_id
    assert claims["tid"] == server.tenant_id
    assert client.get_secret(vault.secret_name).value == vault.secret_value
    assert opened_urls.empty(), "the signed-in credential opened the browser again"


def test_a_user_without_an_access_policy_is_forbidden(
    server: StrongroomServer,
    make_user: Callable[..., User],
    new_context: Callable[..., BrowserContext],
    opened_urls: "queue.Queue[str]",
) -> None:
    granted, other = make_user("granted"), make_user("stranger")
    vault = vault_with_secret(server, "forbidden", granted)
    client = SecretClient(vault.url, interactive_credential(server), connection_verify=server.ca_file)

    def read() -> Any:
        try:
            return client.get_secret(vault.secret_name)
        except HttpResponseError as err:
            return err

    outcome, _ = sign_in_interactively(server, opened_urls, new_context(), other, read)
    assert isinstance(outcome, HttpResponseError), f"a user without a policy read the secret: {outcome}"
    assert outcome.status_code == 403, outcome
    assert outcome.error is not None and outcome.error.code == "Forbidden", outcome
    # As Azure words it for a user: the caller's object id, and what it lacks.
    assert f"oid={other.object_id}" in outcome.error.message, outcome.error.message
    assert "does not have secrets get permission" in outcome.error.message, outcome.error.message


def test_device_code_credential_completes_when_the_code_is_approved_in_the_browser(
    server: StrongroomServer,
    make_user: Callable[..., User],
    new_context: Callable[..., BrowserContext],
) -> None:
    user = make_user("bob")
    vault = vault_with_secret(server, "devicecode", user)
    prompts: queue.Queue[tuple[str, str, Any]] = queue.Queue()
    credential = DeviceCodeCredential(
        tenant_id=server.tenant_id,
        authority=server.authority_host,
        disable_instance_discovery=True,
        connection_verify=server.ca_file,
        prompt_callback=lambda uri, code, expires_on: prompts.put((uri, code, expires_on)),
        timeout=TIMEOUT_S,
    )
    client = SecretClient(vault.url, credential, connection_verify=server.ca_file)

    call = Background(lambda: client.get_secret(vault.secret_name), "device-code-credential")
    verification_uri, user_code, _expires_on = next_from(prompts, call, "a device code prompt")
    # The page is on the origin the client reached.
    assert verification_uri == f"{server.authority_host}/devicelogin"
    done_text = approve_device_code(new_context().new_page(), verification_uri, user_code, user)
    assert "close" in done_text.lower(), done_text

    secret = call.result(TIMEOUT_S)
    assert secret.value == vault.secret_value
    claims = jwt_claims(credential.get_token(f"{server.vault_audience}/.default", enable_cae=True).token)
    assert claims["oid"] == user.object_id
