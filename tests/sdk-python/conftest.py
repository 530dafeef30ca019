"""Fixtures for the official-SDK suite: the real `strongroom` binary, driven by Microsoft's clients.

- One server per session (`server`), started from `$STRONGROOM_BIN` (set by scripts/test.sh); see
  strongroom_server.py for the process, its readiness line and the CLI.
- `*.vault.localhost` and `localhost` resolve to 127.0.0.1 inside this test process only, by wrapping
  `socket.getaddrinfo`. /etc/hosts is never touched.
- The SDK credential is built from `strongroom env --vault V` output alone: its `export` lines go into
  `os.environ`, then `DefaultAzureCredential()` and `SecretClient(AZURE_KEYVAULT_URL, cred)` with no extra flags.
- Service principals for permission tests come from `ad sp create-for-rbac` and `keyvault set-policy --spn`, and
  authenticate with `ClientSecretCredential("adfs", appId, password, authority=<authorityHost>)`.
- Keys: `make_key_vault` (optionally `sku="premium"`) gives a vault with an admin `KeyClient`; `make_principal`
  takes `key_permissions`; `remote_crypto` builds a `CryptographyClient` whose every operation is a request to the
  vault (the SDK otherwise encrypts/verifies/wraps locally with the public key, CLIENT-PROTOCOL.md section 8.7).

The suite needs only a URL and a credential per vault, so the tests can be pointed at a real vault by hand.

Multi-node mode (issue 11): with `STRONGROOM_SDK_NODES=N` (N ≥ 2) and `STRONGROOM_TEST_POSTGRES_URL` (a server
whose user may create databases; scripts/with-postgres.sh provides one), `server` is N nodes on a fresh database
behind a round-robin TCP balancer (strongroom_server.StrongroomDeployment, balancer.py), and every HTTP request of
this process goes on a connection of its own, so consecutive requests of a test alternate between nodes. The session
then checks that each node served its share of the connections and that each node's audit log is sound.
scripts/test.sh runs test_secrets.py this way with two nodes.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from typing import Any, Iterator

import pytest
import requests.adapters
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

from audit_check import check_session_audit_log  # noqa: E402
from strongroom_server import (
    PostgresDatabase,
    StrongroomDeployment,
    StrongroomServer,
    WireLog,
    key_vault_maker,
    principal_maker,
    remote_crypto_maker,
    running_deployment,
    running_server,
    vault_maker,
)

# --------------------------------------------------------------------------------------------------------------
# Name resolution inside this process only.

_real_getaddrinfo = socket.getaddrinfo


def _is_local_name(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def _loopback_getaddrinfo(host: Any, *args: Any, **kwargs: Any):
    # `localhost` may resolve to ::1 first; the server listens on 127.0.0.1 only. `*.vault.localhost` does not
    # resolve at all through glibc. TLS still sees the original name (SNI and certificate check).
    if _is_local_name(host):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def resolve_localhost_names() -> Iterator[None]:
    socket.getaddrinfo = _loopback_getaddrinfo
    # A proxy configured on the machine must not see loopback traffic.
    saved_no_proxy = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    for name, value in saved_no_proxy.items():
        os.environ[name] = ",".join(filter(None, [value, "localhost", ".localhost", "127.0.0.1"]))
    try:
        yield
    finally:
        socket.getaddrinfo = _real_getaddrinfo
        for name, value in saved_no_proxy.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def strongroom_bin() -> str:
    """The binary under test: `$STRONGROOM_BIN`."""
    binary = os.environ.get("STRONGROOM_BIN")
    if not binary:
        pytest.exit("STRONGROOM_BIN is not set: run ./scripts/test.sh, or point it at target/debug/strongroom", 2)
    if not os.access(binary, os.X_OK):
        pytest.exit(f"STRONGROOM_BIN={binary} is not an executable file", 2)
    return binary


@pytest.fixture(scope="session")
def sdk_nodes() -> int:
    """`STRONGROOM_SDK_NODES`: unset or 1, one server; N ≥ 2, a deployment of N nodes (the module docstring)."""
    text = os.environ.get("STRONGROOM_SDK_NODES", "").strip() or "1"
    if not text.isdigit() or int(text) < 1:
        pytest.exit(f"STRONGROOM_SDK_NODES={text!r}: want a number of nodes (1, or 2 and more)", 2)
    return int(text)


@pytest.fixture(scope="session", autouse=True)
def one_request_per_connection(sdk_nodes: int) -> Iterator[None]:
    """With several nodes, every request this process makes over `requests` (what azure-core's transport, the
    credentials and the raw helpers use) asks for its connection to be closed after the response, so the balancer's
    per-connection round robin sends consecutive requests to different nodes. It is set under the SDK rather than as
    a policy of the fixtures' clients because the tests build clients of their own too (test_secrets.py: Microsoft's
    sample unchanged, the api-version pins), and token requests must alternate as well. A response that does not
    answer `Connection: close` would leave its connection open for the next request (http.client decides on the
    response's header), so the session fails if any did. One node: nothing changes."""
    if sdk_nodes == 1:
        yield
        return
    real_send = requests.adapters.HTTPAdapter.send
    kept_open: list[str] = []

    def send(self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any):
        request.headers["Connection"] = "close"
        response = real_send(self, request, *args, **kwargs)
        if response.headers.get("Connection", "").lower() != "close":
            kept_open.append(f"{request.method} {request.url} -> {response.status_code}")
        return response

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        requests.adapters.HTTPAdapter.send = real_send  # type: ignore[method-assign]
    assert not kept_open, f"responses that kept their connection open (no `Connection: close`): {kept_open[:5]}"


def _set_audit_canary(srv: StrongroomServer) -> str:
    """A value that must never reach the audit log, set through the CLI like any secret."""
    canary = f"audit-canary-{secrets.token_hex(16)}"
    vault = str(srv.create_vault("canary")["name"])
    srv.cli("keyvault", "secret", "set", "--vault-name", vault, "--name", "canary", "--value", canary)
    return canary


@pytest.fixture(scope="session")
def server(
    strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory, sdk_nodes: int
) -> Iterator[StrongroomServer]:
    """The one server the whole session shares (its clock is never moved). It keeps an audit log, which the session
    checks when it ends (audit_check.py): the whole suite's requests, chained, in Azure's AuditEvent shape.
    With STRONGROOM_SDK_NODES=N ≥ 2 it is a deployment of N nodes instead (`_deployment`)."""
    if sdk_nodes > 1:
        yield from _deployment(strongroom_bin, tmp_path_factory, sdk_nodes)
        return
    root = tmp_path_factory.mktemp("server-main")
    audit_log = root / "audit.log"
    with running_server(strongroom_bin, root, extra_args=("--dev-clock", "--audit-log", str(audit_log))) as srv:
        canary = _set_audit_canary(srv)
        yield srv
        whole_suite = os.environ.get("STRONGROOM_AUDIT_WHOLE_SUITE") == "1"
        check_session_audit_log(strongroom_bin, audit_log, (canary,), whole_suite)


# Each node must have served at least this fraction of an even split of the session's connections (30 % each for
# two nodes). Round robin gives each node its even share give or take one connection; the bound only has to catch a
# mode that quietly runs on fewer nodes (a balancer that lost a backend, clients that keep one connection).
MIN_SHARE_OF_EVEN_SPLIT = 0.6

# What the terminal summary reports about a multi-node session (the connections each node served).
_DEPLOYMENT_SUMMARY: list[str] = []


def _deployment(binary: str, tmp_path_factory: pytest.TempPathFactory, node_count: int) -> Iterator[StrongroomServer]:
    """`node_count` nodes on a fresh database of the test PostgreSQL server, each started as the single server is
    (`--dev-clock`, an audit log of its own) plus `--store` and the balancer's `--public-port`. When the session
    ends: every node served its share of the connections, and each node's audit log passes the session check (the
    whole-suite operation coverage is off: this mode runs a selection of the suite, test_secrets.py)."""
    postgres_url = os.environ.get("STRONGROOM_TEST_POSTGRES_URL")
    if not postgres_url:
        pytest.exit(
            f"STRONGROOM_SDK_NODES={node_count} needs STRONGROOM_TEST_POSTGRES_URL, a PostgreSQL server whose user "
            "may create databases: run pytest under scripts/with-postgres.sh",
            2,
        )
    database = PostgresDatabase(postgres_url, os.environ.get("STRONGROOM_TEST_POSTGRES_BIN"))
    root = tmp_path_factory.mktemp("deployment-main")
    deployment: StrongroomDeployment
    with running_deployment(binary, root, database, node_count, extra_args=("--dev-clock",)) as deployment:
        canary = _set_audit_canary(deployment)
        yield deployment
        balancer = deployment.balancer
        counts, shares = list(balancer.connections), balancer.shares()
        split = ", ".join(
            f"node {chr(ord('a') + i)} {count} ({share:.0%})" for i, (count, share) in enumerate(zip(counts, shares))
        )
        _DEPLOYMENT_SUMMARY.append(f"{node_count} nodes on database {database.name}: connections {split}")
        assert balancer.error is None, f"the balancer stopped by itself: {balancer.error!r}"
        assert not balancer.failures, f"the balancer could not reach a node: {balancer.failures}"
        least = MIN_SHARE_OF_EVEN_SPLIT / node_count
        assert all(share >= least for share in shares), f"a node served under {least:.0%} of the connections: {split}"
        for audit_log in deployment.audit_logs:
            check_session_audit_log(binary, audit_log, (canary,), whole_suite=False)


# --------------------------------------------------------------------------------------------------------------
# The SDK side: environment, credential, clients.


@pytest.fixture(scope="session")
def main_vault(server: StrongroomServer) -> str:
    return str(server.create_vault("main")["name"])


@pytest.fixture(scope="session")
def sdk_env(server: StrongroomServer, main_vault: str) -> Iterator[dict[str, str]]:
    """`strongroom env --vault <main>` exported into this process, as a user would `eval` it."""
    with server.activated_env(main_vault) as env:
        yield env


@pytest.fixture(scope="session")
def credential(sdk_env: dict[str, str]) -> DefaultAzureCredential:
    return DefaultAzureCredential()


@pytest.fixture(scope="session")
def secret_client(sdk_env: dict[str, str], credential: DefaultAzureCredential) -> SecretClient:
    return SecretClient(os.environ["AZURE_KEYVAULT_URL"], credential)


@pytest.fixture(scope="session")
def make_vault(server: StrongroomServer, credential: DefaultAzureCredential):
    """Create a fresh vault with the CLI and return it with an admin SecretClient."""
    return vault_maker(server, credential)


@pytest.fixture(scope="session")
def make_key_vault(server: StrongroomServer, credential: DefaultAzureCredential):
    """Create a fresh vault with the CLI (`--sku standard|premium` when given) and return it with an admin KeyClient."""
    return key_vault_maker(server, credential)


@pytest.fixture
def wire_log() -> WireLog:
    """A fresh WireLog, to pass as `raw_response_hook=` to a client or a call."""
    return WireLog()


@pytest.fixture(scope="session")
def remote_crypto(credential: DefaultAzureCredential):
    """`make(key_id, cred=None) -> (CryptographyClient, WireLog)`: every operation goes to the vault (see
    `remote_crypto_maker` in strongroom_server.py)."""
    return remote_crypto_maker(credential)


@pytest.fixture(scope="session")
def make_principal(server: StrongroomServer, sdk_env: dict[str, str]):
    """`ad sp create-for-rbac`, optionally `keyvault set-policy --spn … --secret-permissions … --key-permissions …
    --certificate-permissions …` (any of the lists)."""
    return principal_maker(server)


@pytest.fixture(scope="session")
def admin_token(server: StrongroomServer, sdk_env: dict[str, str]):
    """Tokens for the administrator in `strongroom env`, for raw requests."""

    def token(scope: str) -> str:
        return server.token(sdk_env["AZURE_CLIENT_ID"], sdk_env["AZURE_CLIENT_SECRET"], scope)

    return token


# --------------------------------------------------------------------------------------------------------------
# No test may be skipped or expected to fail: no_skips.py (shared with tests/az).

pytest_plugins = ["no_skips"]


def pytest_report_header(config: pytest.Config) -> str:
    binary = os.environ.get("STRONGROOM_BIN", "(STRONGROOM_BIN unset)")
    return f"strongroom binary: {binary}; python {sys.version.split()[0]}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """In multi-node mode, how the session's connections were split between the nodes."""
    for line in _DEPLOYMENT_SUMMARY:
        terminalreporter.write_line(line)
