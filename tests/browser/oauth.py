"""The OAuth 2.0 side of interactive sign-in, as a public client speaks it (for the raw protocol tests).

- `Pkce.new()`: a verifier (43 characters of the unreserved set, as MSAL makes them) and its S256 challenge.
- `authorize_url(...)`: `{origin}/{tenant}/oauth2/v2.0/authorize?...` with PKCE, state and nonce.
- `LoopbackReceiver`: the loopback listener a public client runs at its redirect URI `http://localhost:PORT`; it
  records what each request carried (the code in the query, or the POST of `response_mode=form_post`).
- `start_flow(...)`: a `Flow` (PKCE, state, scope, a receiver) and its authorization URL.
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
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from playwright.sync_api import BrowserContext, Page

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


class LoopbackReceiver:
    """What a public client runs to receive the code: an HTTP listener on 127.0.0.1 (as msal's and azure-identity's
    are), whose redirect URI is `http://localhost:PORT`. It answers every request with a small page and records
    the query (a redirect) or the form (`response_mode=form_post`). A real listener, not Playwright's request
    interception: Playwright offers only the first request of a redirect chain to a route, and the code arrives
    on a redirect."""

    def __init__(self) -> None:
        self.caught: list[CaughtRedirect] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self, form: str) -> None:
                params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
                params.update(parse_qsl(form, keep_blank_values=True))
                receiver.caught.append(CaughtRedirect(self.command, self.path, params))
                body = b"<!doctype html><html lang='en'><title>Signed in</title><p>Received by the test.</p></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self._record("")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self._record(self.rfile.read(length).decode("utf-8", "replace"))

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.redirect_uri = f"http://localhost:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="loopback-receiver", daemon=True).start()

    def wait(self, page: Page, timeout_ms: int = 15_000) -> CaughtRedirect:
        """The first request that carried a code or an error (the browser got there by redirect or form_post)."""
        step_ms = 100
        for _ in range(timeout_ms // step_ms):
            for caught in self.caught:
                if "code" in caught.params or "error" in caught.params:
                    return caught
            page.wait_for_timeout(step_ms)
        raise AssertionError(
            f"nothing reached {self.redirect_uri} within {timeout_ms} ms (received {self.caught}); the page is at "
            f"{page.url}:\n{page_text(page)}"
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def loopback_redirect_uri() -> str:
    """A loopback redirect URI that nothing listens on (for requests whose redirect must never happen)."""
    return f"http://localhost:{random.randrange(20_000, 60_000)}"


@dataclass
class Flow:
    """One authorization request: what the client keeps (verifier, state) and what the browser brought back."""

    redirect_uri: str
    pkce: Pkce
    state: str
    scope: str
    receiver: LoopbackReceiver
    url: str

    def redeem(self, server: StrongroomServer, code: str, **changes: str) -> requests.Response:
        return redeem(server, code, changes.get("redirect_uri", self.redirect_uri),
                      changes.get("verifier", self.pkce.verifier), self.scope)  # fmt: skip


def start_flow(server: StrongroomServer, context: BrowserContext, scope: str | None = None, **extra: str) -> Flow:
    """An authorization request whose code comes back to a fresh loopback receiver (closed with the context)."""
    receiver = LoopbackReceiver()
    context.on("close", lambda _: receiver.close())
    redirect_uri = receiver.redirect_uri
    pkce = Pkce.new()
    state = secrets.token_urlsafe(16)
    scope = scope or f"{vault_scope(server)} openid profile offline_access"
    url = authorize_url(server, redirect_uri=redirect_uri, pkce=pkce, state=state, scope=scope, **extra)
    return Flow(redirect_uri, pkce, state, scope, receiver, url)


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
