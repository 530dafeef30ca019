"""What SDKs never send: raw HTTP against the real binary.

`requests` (with the server's CA) for ordinary requests, `http.client` for what `requests` would normalise away
(dot segments, odd methods, byte-exact bodies) and a raw TLS socket for a 30 MB upload. Every response in this
module is checked to be below 500, and the server must still answer `/healthz` at the end.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import time
from typing import Any, Iterator

import pytest
import requests

from strongroom_server import StrongroomServer, Vault, unique_name

API = "2026-04-01"
UNAUTHORIZED_BODY = {
    "error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}
}


class Raw:
    """Raw access to one vault and to the identity host, asserting no 5xx on every response."""

    def __init__(self, server: StrongroomServer, vault: Vault, token: str):
        self.server = server
        self.vault_host = f"{vault.name}.vault.{server.domain}"
        self.vault_url = vault.url.rstrip("/")
        self.token = token
        self.seen: list[tuple[str, str, int]] = []

    def _record(self, method: str, target: str, status: int, body: bytes) -> None:
        self.seen.append((method, target, status))
        assert status < 500, f"{method} {target} -> {status} {body[:500]!r}"

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, url: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            headers.update(self.auth())
        res = requests.request(method, url, headers=headers, verify=self.server.ca_file, timeout=60, **kwargs)
        self._record(method, url, res.status_code, res.content)
        return res

    def vault(self, method: str, path_and_query: str, **kwargs: Any) -> requests.Response:
        return self.request(method, f"{self.vault_url}{path_and_query}", **kwargs)

    def exact(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        *,
        host: str | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send `target` byte for byte with http.client (no URL normalisation)."""
        host = host or self.vault_host
        context = ssl.create_default_context(cafile=self.server.ca_file)
        conn = http.client.HTTPSConnection(host, self.server.port, context=context, timeout=60)
        try:
            all_headers = {"Accept": "application/json"}
            if auth:
                all_headers.update(self.auth())
            if body is not None:
                all_headers.setdefault("Content-Type", "application/json")
            all_headers.update(headers or {})
            conn.request(method, target, body=body, headers=all_headers)
            res = conn.getresponse()
            data = res.read()
            response_headers = {k.lower(): v for k, v in res.getheaders()}
        finally:
            conn.close()
        self._record(method, target, res.status, data)
        return res.status, response_headers, data


def assert_error_envelope(body: bytes | str, code: str | None = None) -> dict[str, Any]:
    parsed = json.loads(body)
    assert isinstance(parsed, dict) and isinstance(parsed.get("error"), dict), f"not an Azure error envelope: {body!r}"
    assert isinstance(parsed["error"].get("code"), str) and parsed["error"]["code"], parsed
    assert isinstance(parsed["error"].get("message"), str), parsed
    if code is not None:
        assert parsed["error"]["code"] == code, parsed
    return parsed


@pytest.fixture(scope="module")
def vault(make_vault) -> Vault:
    return make_vault("raw")


@pytest.fixture(scope="module")
def raw(server: StrongroomServer, vault: Vault, admin_token) -> Iterator[Raw]:
    client = Raw(server, vault, admin_token(f"{server.vault_audience}/.default"))
    yield client
    # After everything this module sent, the server is alive and healthy.
    server.assert_running()
    res = requests.get(f"{server.authority_host}/healthz", verify=server.ca_file, timeout=30)
    assert res.status_code == 200 and res.json() == {"status": "ok"}


# -- identity ------------------------------------------------------------------------------------------------


def test_token_response_shape(server: StrongroomServer, sdk_env):
    for tenant in (server.tenant_id, "adfs", "organizations"):
        res = requests.post(
            f"{server.authority_host}/{tenant}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sdk_env["AZURE_CLIENT_ID"],
                "client_secret": sdk_env["AZURE_CLIENT_SECRET"],
                "scope": f"{server.vault_audience}/.default",
                "client_info": "1",
                "claims": '{"access_token": {"xms_cc": {"values": ["CP1"]}}}',
            },
            verify=server.ca_file,
            timeout=30,
        )
        assert res.status_code == 200, res.text
        body = res.json()
        assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}, body.keys()
        assert body["token_type"] == "Bearer"
        assert isinstance(body["expires_in"], int) and body["expires_in"] >= 300
        assert isinstance(body["ext_expires_in"], int)
        assert body["access_token"].count(".") == 2, "a JWT"


def test_v1_token_endpoint(server: StrongroomServer, sdk_env):
    res = requests.post(
        f"{server.authority_host}/{server.tenant_id}/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sdk_env["AZURE_CLIENT_ID"],
            "client_secret": sdk_env["AZURE_CLIENT_SECRET"],
            "resource": server.vault_audience,
        },
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["resource"] == server.vault_audience
    assert isinstance(body["expires_on"], str) and isinstance(body["not_before"], str)


def test_wrong_client_secret_is_aadsts7000215(server: StrongroomServer, sdk_env):
    res = requests.post(
        f"{server.authority_host}/{server.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sdk_env["AZURE_CLIENT_ID"],
            "client_secret": "definitely-not-the-secret",
            "scope": f"{server.vault_audience}/.default",
        },
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code == 401, res.text
    body = res.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith("AADSTS7000215"), body
    assert 7000215 in body["error_codes"]
    assert "definitely-not-the-secret" not in res.text


@pytest.mark.parametrize(
    ("form", "status", "error_fragment"),
    [
        ({"client_id": "00000000-0000-0000-0000-000000000000", "client_secret": "x"}, 400, "AADSTS700016"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_errors(server: StrongroomServer, sdk_env, form, status, error_fragment):
    data = {
        "grant_type": "client_credentials",
        "client_id": sdk_env["AZURE_CLIENT_ID"],
        "client_secret": sdk_env["AZURE_CLIENT_SECRET"],
        "scope": f"{server.vault_audience}/.default",
        **form,
    }
    res = requests.post(
        f"{server.authority_host}/{server.tenant_id}/oauth2/v2.0/token", data=data, verify=server.ca_file, timeout=30
    )
    assert res.status_code == status, res.text
    body = res.json()
    assert error_fragment in json.dumps(body)


def test_unknown_tenant_is_aadsts90002(server: StrongroomServer, sdk_env):
    res = requests.post(
        f"{server.authority_host}/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sdk_env["AZURE_CLIENT_ID"],
            "client_secret": sdk_env["AZURE_CLIENT_SECRET"],
            "scope": f"{server.vault_audience}/.default",
        },
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code == 400, res.text
    assert "AADSTS90002" in res.json()["error_description"]


@pytest.mark.parametrize(
    "path", ["/{tenant}/v2.0/.well-known/openid-configuration", "/adfs/.well-known/openid-configuration"]
)
def test_openid_configuration(server: StrongroomServer, path: str):
    res = requests.get(
        f"{server.authority_host}{path.format(tenant=server.tenant_id)}", verify=server.ca_file, timeout=30
    )
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["authorization_endpoint"]
    tenant = "adfs" if path.startswith("/adfs") else server.tenant_id
    assert doc["token_endpoint"] == f"{server.authority_host}/{tenant}/oauth2/v2.0/token"


# -- the challenge -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/secrets/some-name/", None),
        ("GET", "/secrets", None),
        ("PUT", "/secrets/some-name", b""),  # the SDK's bodiless first attempt
        ("POST", "/deletedsecrets/some-name/recover", b""),
        ("DELETE", "/secrets", None),  # authentication runs before routing
        ("GET", "/no/such/route", None),
    ],
)
def test_challenge_without_token(raw: Raw, server: StrongroomServer, method: str, path: str, body: bytes | None):
    status, headers, data = raw.exact(method, f"{path}?api-version={API}", body, auth=False)
    assert status == 401
    assert headers["www-authenticate"] == (
        f'Bearer authorization="https://{server.domain}:{server.port}/{server.tenant_id}", '
        f'resource="https://vault.{server.domain}:{server.port}"'
    )
    assert headers["content-type"].startswith("application/json")
    assert data == json.dumps(UNAUTHORIZED_BODY, separators=(",", ":")).encode()


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0."])
def test_invalid_token_gets_the_challenge(raw: Raw, token: str):
    status, headers, data = raw.exact(
        "GET", f"/secrets?api-version={API}", auth=False, headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 401
    assert headers["www-authenticate"].startswith('Bearer authorization="')
    assert_error_envelope(data, "Unauthorized")


def test_token_for_another_audience_is_refused(raw: Raw, admin_token):
    token = admin_token("https://management.azure.com/.default")
    status, headers, data = raw.exact(
        "GET", f"/secrets?api-version={API}", auth=False, headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 401
    assert "www-authenticate" in headers
    assert_error_envelope(data, "Unauthorized")


def test_vault_accepts_the_public_audience(raw: Raw, admin_token):
    token = admin_token("https://vault.azure.net/.default")
    res = raw.vault("GET", f"/secrets?api-version={API}", auth=False, headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 200, res.text


# -- query parsing and api-version ---------------------------------------------------------------------------


def test_percent_encoded_query_name(raw: Raw):
    res = raw.vault("GET", "/secrets?api%2Dversion=2025-07-01")
    assert res.status_code == 200, res.text
    assert "value" in res.json()


def test_unknown_api_version_is_bad_parameter(raw: Raw):
    res = raw.vault("GET", "/secrets?api-version=1999-01-01-nonsense")
    assert res.status_code == 400, res.text
    body = assert_error_envelope(res.content, "BadParameter")
    assert "1999-01-01-nonsense" in body["error"]["message"]


def test_missing_api_version_is_bad_request(raw: Raw):
    res = raw.vault("GET", "/secrets")
    assert res.status_code == 400, res.text
    assert_error_envelope(res.content, "BadParameter")


def test_nextlink_is_absolute_and_carries_api_version(raw: Raw):
    for i in range(3):
        assert raw.vault("PUT", f"/secrets/nextlink-{i}?api-version=7.4", json={"value": "v"}).status_code == 200
    res = raw.vault("GET", "/secrets?api-version=7.4&maxresults=1")
    assert res.status_code == 200
    body = res.json()
    assert len(body["value"]) == 1
    link = body["nextLink"]
    assert link.startswith(f"{raw.vault_url}/secrets?"), link
    assert "api-version=7.4" in link and "maxresults=1" in link
    follow = raw.request("GET", link)
    assert follow.status_code == 200 and len(follow.json()["value"]) == 1


def test_maxresults_out_of_range_is_bad_parameter(raw: Raw):
    for bad in ("0", "26", "abc"):
        res = raw.vault("GET", f"/secrets?api-version={API}&maxresults={bad}")
        assert res.status_code == 400, (bad, res.text)
        assert_error_envelope(res.content, "BadParameter")


# -- bodies ----------------------------------------------------------------------------------------------------


def test_set_and_get_by_raw_requests(raw: Raw):
    name = unique_name("raw")
    res = raw.vault("PUT", f"/secrets/{name}?api-version={API}", json={"value": "raw value", "tags": {"k": "v"}})
    assert res.status_code == 200, res.text
    created = res.json()
    assert created["value"] == "raw value"
    assert created["id"].startswith(f"{raw.vault_url}/secrets/{name}/")
    assert isinstance(created["attributes"]["created"], int), "timestamps are Unix epoch numbers"
    assert created["attributes"]["recoveryLevel"].startswith("Recoverable")
    assert raw.vault("GET", f"/secrets/{name}?api-version={API}").json()["value"] == "raw value"


@pytest.mark.parametrize(
    "body",
    [
        b'{"value": ',
        b"not json at all",
        b"[1, 2, 3]",
        b'{"value": 42}',
        b"{}",
        b'{"tags": {}}',
        b'{"value": "v", "tags": "x"}',
    ],
)
def test_malformed_json_is_bad_request(raw: Raw, body: bytes):
    status, _headers, data = raw.exact("PUT", f"/secrets/{unique_name('badjson')}?api-version={API}", body)
    assert status == 400, data
    assert_error_envelope(data)


def test_invalid_utf8_is_bad_request(raw: Raw):
    status, _headers, data = raw.exact(
        "PUT", f"/secrets/{unique_name('badutf8')}?api-version={API}", b'{"value":"\xff\xfe\xc3"}'
    )
    assert status == 400, data
    assert_error_envelope(data)


def test_empty_body_on_set_is_bad_request(raw: Raw):
    status, _headers, data = raw.exact("PUT", f"/secrets/{unique_name('nobody')}?api-version={API}", b"")
    assert status == 400, data
    assert_error_envelope(data)


def _upload(
    server: StrongroomServer, host: str, head: bytes, body: bytes, timeout_s: float = 60.0
) -> tuple[bytes, str]:
    """Send `head` then `body` on one TLS connection, reading whenever the server has something to say.

    One thread and non-blocking I/O: a server that refuses a large body answers before reading it, and the
    answer must be read as soon as it arrives (an SSL object must not be used from two threads at once).
    Returns the response head (empty if none arrived) and a note on how the exchange ended.
    """
    context = ssl.create_default_context(cafile=server.ca_file)
    plain = socket.create_connection((host, server.port), timeout=timeout_s)
    tls = context.wrap_socket(plain, server_hostname=host)
    try:
        tls.setblocking(False)
        outgoing = memoryview(head + body)
        sent = 0
        response = b""
        ended = "timeout"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            sending = sent < len(outgoing) and not response
            readable, writable, _ = select.select([tls], [tls] if sending else [], [], 0.5)
            if readable or tls.pending():
                try:
                    piece = tls.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    piece = None
                except OSError as err:
                    ended = f"receive failed: {err!r}"
                    break
                if piece == b"":
                    ended = "closed by the server"
                    break
                if piece:
                    response += piece
                    if b"\r\n\r\n" in response:
                        ended = "response"
                        break
            if writable and sending:
                try:
                    sent += tls.send(outgoing[sent : sent + 256 * 1024])
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass
                except OSError as err:
                    # The server stopped reading; whatever it answered is still to be read.
                    sent = len(outgoing)
                    ended = f"send failed after {sent} bytes: {err!r}"
        return response, f"{ended}; sent {sent} of {len(outgoing)} bytes"
    finally:
        tls.close()


def _huge_put_head(raw: Raw, server: StrongroomServer, size: int, *extra_headers: str) -> bytes:
    lines = [
        f"PUT /secrets/{unique_name('huge')}?api-version={API} HTTP/1.1",
        f"Host: {raw.vault_host}:{server.port}",
        f"Authorization: Bearer {raw.token}",
        "Content-Type: application/json",
        f"Content-Length: {size}",
        *extra_headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1])


HUGE_BODY = b'{"value":"' + b"A" * (30 * 1024 * 1024 - 12) + b'"}'


def test_30mb_body_is_refused_without_5xx(raw: Raw, server: StrongroomServer):
    """The whole 30 MB sent at once: a 4xx, and the server stays healthy."""
    head = _huge_put_head(raw, server, len(HUGE_BODY), "Connection: close")
    response, how = _upload(server, raw.vault_host, head, HUGE_BODY)
    assert response, f"no response to a 30 MB PUT ({how})"
    status = _status(response)
    raw._record("PUT", "30 MB body", status, response)
    assert 400 <= status < 500, response[:500]

    server.assert_running()
    res = raw.request("GET", f"{server.authority_host}/healthz", auth=False)
    assert res.status_code == 200


# -- paths and methods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/secrets/../../etc/passwd",
        "/secrets/%2e%2e/%2e%2e/etc/passwd",
        "/secrets/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/../../../etc/passwd",
        "/secrets/name%00nul",
        "/secrets/a/b/c/d",
    ],
)
def test_path_traversal_is_a_json_4xx(raw: Raw, target: str):
    sep = "&" if "?" in target else "?"
    status, _headers, data = raw.exact("GET", f"{target}{sep}api-version={API}")
    assert 400 <= status < 500, (status, data)
    assert_error_envelope(data)
    assert b"root:" not in data


def test_unknown_route_is_json_404(raw: Raw):
    status, _headers, data = raw.exact("GET", f"/no-such-collection/x?api-version={API}")
    assert status == 404, data
    assert_error_envelope(data)


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/secrets"), ("POST", "/secrets"), ("PUT", "/secrets/"), ("PATCH", "/deletedsecrets/x")],
)
def test_wrong_method_is_405(raw: Raw, method: str, path: str):
    status, _headers, data = raw.exact(method, f"{path}?api-version={API}", b"{}" if method != "DELETE" else None)
    assert status == 405, data
    assert (
        data
        == json.dumps(
            {"error": {"code": "MethodNotAllowed", "message": f"HTTP {method} not allowed"}}, separators=(",", ":")
        ).encode()
    )


def test_trailing_slash_means_latest(raw: Raw):
    name = unique_name("slash")
    first = raw.vault("PUT", f"/secrets/{name}?api-version={API}", json={"value": "one"}).json()
    second = raw.vault("PUT", f"/secrets/{name}?api-version={API}", json={"value": "two"}).json()
    assert first["id"] != second["id"]
    for path in (f"/secrets/{name}/", f"/secrets/{name}"):
        res = raw.vault("GET", f"{path}?api-version={API}")
        assert res.status_code == 200, res.text
        assert res.json()["id"] == second["id"]
        assert res.json()["value"] == "two"
    version = first["id"].rsplit("/", 1)[1]
    assert raw.vault("GET", f"/secrets/{name}/{version}?api-version={API}").json()["value"] == "one"


def test_name_is_case_insensitive_like_azure(raw: Raw):
    name = unique_name("Case")
    raw.vault("PUT", f"/secrets/{name}?api-version={API}", json={"value": "mixed"})
    res = raw.vault("GET", f"/secrets/{name.upper()}?api-version={API}")
    assert res.status_code == 200, res.text
    assert res.json()["value"] == "mixed"


def test_unknown_vault_host_is_a_json_4xx(raw: Raw, server: StrongroomServer):
    host = f"novault{unique_name('x').replace('-', '')}.vault.{server.domain}"
    status, _headers, data = raw.exact("GET", f"/secrets?api-version={API}", host=host)
    assert 400 <= status < 500, (status, data)
    assert_error_envelope(data)
    status, _headers, data = raw.exact("GET", f"/secrets?api-version={API}", host=host, auth=False)
    assert 400 <= status < 500, (status, data)


def test_healthz_on_any_host(raw: Raw, server: StrongroomServer):
    for host in (server.domain, raw.vault_host, "127.0.0.1"):
        status, _headers, data = raw.exact("GET", "/healthz", host=host, auth=False)
        assert status == 200, (host, status, data)
        assert json.loads(data) == {"status": "ok"}


def test_request_ids(raw: Raw):
    res = raw.vault("GET", f"/secrets?api-version={API}", headers={"x-ms-client-request-id": "abc-123"})
    assert res.headers.get("x-ms-client-request-id") == "abc-123"
    assert res.headers.get("x-ms-request-id")


def test_no_5xx_anywhere(raw: Raw):
    # Every response above went through Raw._record, which fails on >= 500; this pins that checks ran.
    assert raw.seen, "no raw requests were recorded"
    assert all(status < 500 for _m, _t, status in raw.seen)
