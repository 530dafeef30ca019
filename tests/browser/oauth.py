"""The OAuth 2.0 side of interactive sign-in, as a public client speaks it (for the raw protocol tests).

- `Pkce.new()`: a verifier (43 characters of the unreserved set, as MSAL makes them) and its S256 challenge.
- `authorize_url(...)`: `{origin}/{tenant}/oauth2/v2.0/authorize?...` with PKCE, state and nonce.
- `RedirectCatcher`: answers, inside the browser context, every request to a redirect URI (GET with the code in the
  query, or the POST of `response_mode=form_post`), and records what it carried; nothing listens on that port.
- `token(...)`: a POST to the token endpoint with `requests`, trusting the server's CA.
- `Background`: runs a blocking client call (an SDK credential, which waits for the browser) in a thread while the
  test's own thread drives Playwright (whose sync API belongs to the thread that started it).
"""

from __future__ import annotations

import base64
import hashlib
import queue
import random
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from playwright.sync_api import BrowserContext, Page, Route

from strongroom_server import StrongroomServer

# The Azure CLI's public client (azure-identity's default client id, too): a public client whose redirect URIs are
# loopback `http://localhost[:port]`.
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> "Pkce":
        verifier = secrets.token_urlsafe(32)[:43]
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def vault_scope(server: StrongroomServer) -> str:
    return f"{server.vault_audience}/.default"


def authorize_url(
    server: StrongroomServer,
    *,
    redirect_uri: str,
    pkce: Pkce,
    state: str,
    scope: str,
    client_id: str = AZURE_CLI_CLIENT_ID,
    origin: str | None = None,
    tenant: str | None = None,
    **extra: str,
) -> str:
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "nonce": secrets.token_hex(16),
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{origin or server.authority_host}/{tenant or server.tenant_id}/oauth2/v2.0/authorize?{urlencode(params)}"


@dataclass
class CaughtRedirect:
    method: str
    url: str
    params: dict[str, str]


@dataclass
class RedirectCatcher:
    """Answers every request whose URL starts with `redirect_uri` in `context` with a small page, recording it."""

    context: BrowserContext
    redirect_uri: str
    caught: list[CaughtRedirect] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.route(lambda url: url.startswith(self.redirect_uri), self._answer)

    def _answer(self, route: Route) -> None:
        request = route.request
        params = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
        if request.method == "POST":
            params.update(parse_qsl(request.post_data or "", keep_blank_values=True))
        self.caught.append(CaughtRedirect(request.method, request.url, params))
        route.fulfill(status=200, content_type="text/html",
                      body="<!doctype html><html lang='en'><title>Signed in</title><p>Caught by the test.</p></html>")  # fmt: skip

    def wait(self, page: Page, timeout_ms: int = 15_000) -> CaughtRedirect:
        """The first redirect that carried a code or an error (the browser got there by GET or form_post)."""
        deadline_step = 100
        waited = 0
        while waited < timeout_ms:
            for caught in self.caught:
                if "code" in caught.params or "error" in caught.params:
                    return caught
            page.wait_for_timeout(deadline_step)
            waited += deadline_step
        raise AssertionError(
            f"no redirect to {self.redirect_uri} within {timeout_ms} ms; caught {self.caught}; the page is at "
            f"{page.url}:\n{page_text(page)}"
        )


def loopback_redirect_uri() -> str:
    return f"http://localhost:{random.randrange(20_000, 60_000)}"


@dataclass
class Flow:
    """One authorization request: what the client keeps (verifier, state) and what the browser brought back."""

    redirect_uri: str
    pkce: Pkce
    state: str
    scope: str
    catcher: RedirectCatcher
    url: str

    def redeem(self, server: StrongroomServer, code: str, **changes: str) -> requests.Response:
        return redeem(server, code, changes.get("redirect_uri", self.redirect_uri),
                      changes.get("verifier", self.pkce.verifier), self.scope)  # fmt: skip


def start_flow(server: StrongroomServer, context: BrowserContext, scope: str | None = None, **extra: str) -> Flow:
    redirect_uri = loopback_redirect_uri()
    pkce = Pkce.new()
    state = secrets.token_urlsafe(16)
    scope = scope or f"{vault_scope(server)} openid profile offline_access"
    url = authorize_url(server, redirect_uri=redirect_uri, pkce=pkce, state=state, scope=scope, **extra)
    return Flow(redirect_uri, pkce, state, scope, RedirectCatcher(context, redirect_uri), url)


def page_text(page: Page, limit: int = 2000) -> str:
    try:
        return page.inner_text("body")[:limit]
    except Exception as err:  # the page is mid-navigation or gone
        return f"(no text: {err})"


def token(server: StrongroomServer, data: dict[str, str], origin: str | None = None) -> requests.Response:
    return requests.post(
        f"{origin or server.authority_host}/{server.tenant_id}/oauth2/v2.0/token",
        data=data,
        verify=server.ca_file,
        timeout=30,
    )


def redeem(
    server: StrongroomServer, code: str, redirect_uri: str, verifier: str, scope: str,
    client_id: str = AZURE_CLI_CLIENT_ID,
) -> requests.Response:  # fmt: skip
    return token(server, {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "scope": scope,
    })  # fmt: skip


def assert_entra_error(response: requests.Response, error: str, status: int = 400) -> dict[str, Any]:
    """Entra's error shape: `error`, `error_description` starting with an AADSTS code, `error_codes`."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert body.get("error") == error, body
    assert str(body.get("error_description", "")).startswith("AADSTS"), body
    assert isinstance(body.get("error_codes"), list) and body["error_codes"], body
    return body


T = TypeVar("T")


class Background(Generic[T]):
    """`fn()` in a daemon thread; `result()` re-raises what it raised."""

    def __init__(self, fn: Callable[[], T], name: str = "client"):
        self._result: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._run, args=(fn,), name=name, daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], T]) -> None:
        try:
            self._result.put((True, fn()))
        except BaseException as err:  # handed to the test's thread
            self._result.put((False, err))

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout_s: float = 60) -> T:
        try:
            ok, value = self._result.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"the client call did not finish within {timeout_s} s") from None
        if not ok:
            raise value
        return value
