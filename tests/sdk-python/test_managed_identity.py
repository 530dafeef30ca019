"""Managed identities through `strongroom agent`: `ManagedIdentityCredential` unchanged, in fresh processes.

- The CLI creates identities (`identity create`, `vm identity assign`) and grants them access
  (`keyvault set-policy --object-id <principalId>`), as with `az`.
- `strongroom agent --identity N` runs as a subprocess with its own port; `strongroom env --agent` prints the
  variables a program needs. Each program runs in a fresh interpreter whose environment holds only those
  variables (plus PATH and HOME); its only addition is the in-process name resolution the whole suite uses
  (`*.localhost` → 127.0.0.1, see conftest.py).
- App Service (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`) and Azure Arc (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`:
  401 naming a key file) each read a secret; IMDS is checked raw.
- Arc key files: msal (under azure-identity) reads them only from /var/opt/azcmagent/tokens on Linux, a system
  path. The agents here write them to a test-owned `--arc-key-dir`, and the Arc program points msal's one
  directory constant there: nothing in this suite writes outside its temporary directories, nor needs root.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from strongroom_server import StrongroomServer, parse_env_exports, unique_name

AGENT_READY_PREFIX = b"strongroom agent ready: "
AGENT_READY_TIMEOUT_S = 30.0
SUBPROCESS_TIMEOUT_S = 120

# Reads one secret with ManagedIdentityCredential() and reports the value or the failure as JSON.
PROGRAM = """\
import json
import socket
import sys

_real_getaddrinfo = socket.getaddrinfo


def _loopback(host, *args, **kwargs):
    if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

vault_url, name = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3:
    # The Arc key directory msal accepts (/var/opt/azcmagent/tokens on Linux): the test agent's.
    import msal.managed_identity

    msal.managed_identity._supported_arc_platforms_and_their_prefixes[sys.platform] = sys.argv[3]
report = {}
try:
    report["value"] = SecretClient(vault_url, ManagedIdentityCredential()).get_secret(name).value
except ClientAuthenticationError as error:
    report["auth_error"] = str(error)[:800]
except HttpResponseError as error:
    report["status"] = error.status_code
    report["error_code"] = error.error.code if error.error else None
print(json.dumps(report))
"""


@dataclass
class Identity:
    name: str
    client_id: str
    principal_id: str


class Agent:
    """One `strongroom agent` process serving one identity."""

    def __init__(self, server: StrongroomServer, identity: Identity, root: Path):
        self.server = server
        self.identity = identity
        self.agent_dir = root / "agent"
        self.arc_key_dir = root / "arc-keys"
        self.log = root / "agent.log"
        root.mkdir(parents=True, exist_ok=True)
        args = [
            server.binary, "--data-dir", str(server.data_dir), "agent",
            "--identity", identity.name, "--server", server.authority_host,
            "--listen", "127.0.0.1:0", "--imds-listen", "127.0.0.1:0", "--agent-dir", str(self.agent_dir),
            "--arc-key-dir", str(self.arc_key_dir),
        ]  # fmt: skip
        env = dict(os.environ)
        env.setdefault("STRONGROOM_LOG", "info,strongroom=debug")
        with open(self.log, "wb") as stderr:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=env)
        ready: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._drain, args=(ready,), daemon=True).start()
        try:
            info = ready.get(timeout=AGENT_READY_TIMEOUT_S)
        except queue.Empty:
            info = None
        if info is None:
            self.stop()
            raise RuntimeError(f"strongroom agent did not get ready:\n{self.log.read_text(errors='replace')}")
        self.info = info

    def _drain(self, ready: queue.Queue[dict[str, Any] | None]) -> None:
        assert self.proc.stdout is not None
        announced = False
        for line in self.proc.stdout:
            if not announced and line.startswith(AGENT_READY_PREFIX):
                announced = True
                ready.put(json.loads(line[len(AGENT_READY_PREFIX) :]))
        if not announced:
            ready.put(None)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.info['port']}"

    @property
    def imds_origin(self) -> str:
        return f"http://{self.info['imdsListen']}"

    def env(self, *extra: str) -> dict[str, str]:
        """`strongroom env --agent …` plus PATH and HOME: the program's whole environment."""
        printed = self.server.cli("env", "--agent", "--agent-dir", str(self.agent_dir), *extra).stdout
        env = parse_env_exports(printed)
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        env["HOME"] = os.environ.get("HOME", "/tmp")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def app_service_token(self, resource: str) -> str:
        env = self.env()
        res = requests.get(
            env["IDENTITY_ENDPOINT"],
            params={"api-version": "2019-08-01", "resource": resource},
            headers={"X-IDENTITY-HEADER": env["IDENTITY_HEADER"]},
            timeout=30,
        )
        assert res.status_code == 200, res.text
        return str(res.json()["access_token"])


def create_identity(server: StrongroomServer, prefix: str) -> Identity:
    created = server.cli_json("identity", "create", "--name", unique_name(prefix))
    return Identity(created["name"], created["clientId"], created["principalId"])


def vault_with_secret(server: StrongroomServer, prefix: str) -> tuple[str, str, str]:
    vault = str(server.create_vault(prefix)["name"])
    name = unique_name("secret")
    value = f"value-of-{name}"
    server.cli_json("keyvault", "secret", "set", "--vault-name", vault, "--name", name, "--value", value)
    return vault, name, value


def grant(server: StrongroomServer, vault: str, identity: Identity, *permissions: str) -> None:
    server.cli_json(
        "keyvault", "set-policy", "--name", vault, "--object-id", identity.principal_id,
        "--secret-permissions", *permissions,
    )  # fmt: skip


def run_program(
    tmp_path: Path, env: dict[str, str], vault_url: str, name: str, arc_key_dir: Path | None = None
) -> dict[str, Any]:
    program = tmp_path / "mi_program.py"
    program.write_text(PROGRAM)
    arc = [str(arc_key_dir)] if arc_key_dir is not None else []
    done = subprocess.run(
        [sys.executable, str(program), vault_url, name, *arc],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"program failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def identity_a(server: StrongroomServer) -> Identity:
    return create_identity(server, "mi-a")


@pytest.fixture(scope="module")
def identity_b(server: StrongroomServer) -> Identity:
    return create_identity(server, "mi-b")


@pytest.fixture(scope="module")
def agent_a(
    server: StrongroomServer, identity_a: Identity, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Agent]:
    agent = Agent(server, identity_a, tmp_path_factory.mktemp("agent-a"))
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture(scope="module")
def agent_b(
    server: StrongroomServer, identity_b: Identity, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Agent]:
    agent = Agent(server, identity_b, tmp_path_factory.mktemp("agent-b"))
    try:
        yield agent
    finally:
        agent.stop()


# --------------------------------------------------------------------------------------------------------------
# The CLI


def test_identity_commands_are_shaped_like_az(server: StrongroomServer) -> None:
    name = unique_name("mi-cli")
    created = server.cli_json("identity", "create", "--name", name, "--resource-group", "rg1")
    assert set(created) >= {"clientId", "principalId", "id", "tenantId", "name", "location", "type", "resourceGroup"}
    assert created["name"] == name
    assert created["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"
    assert created["tenantId"] == server.tenant_id
    assert created["id"].endswith(f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
    # Creating again is idempotent; show and list agree.
    assert server.cli_json("identity", "create", "--name", name) == created
    assert server.cli_json("identity", "show", "--name", name) == created
    assert created in server.cli_json("identity", "list")

    # A new client secret works for the identity like for any principal.
    reset = server.cli_json("ad", "sp", "credential", "reset", "--id", created["clientId"])
    assert reset["appId"] == created["clientId"] and reset["tenant"] == server.tenant_id
    server.token(created["clientId"], reset["password"], f"{server.vault_audience}/.default")

    # Deleting the identity deletes its principal, so its secret stops working.
    assert server.cli("identity", "delete", "--name", name).stdout == ""
    missing = server.cli("identity", "show", "--name", name, check=False)
    assert missing.returncode == 1 and "(ResourceNotFound)" in missing.stderr
    res = requests.post(
        f"{server.authority_host}/{server.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["clientId"],
            "client_secret": reset["password"],
            "scope": f"{server.vault_audience}/.default",
        },
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code == 400 and "AADSTS700016" in res.text
    assert server.cli("identity", "delete", "--name", name).stdout == ""


def test_vm_identity_assign_is_idempotent(server: StrongroomServer, admin_token: Any) -> None:
    host = unique_name("host")
    first = server.cli_json("vm", "identity", "assign", "--name", host)
    assert set(first) == {"systemAssignedIdentity", "userAssignedIdentities"}
    assert first["userAssignedIdentities"] == {}
    assert server.cli_json("vm", "identity", "assign", "--name", host) == first

    # The ARM resource behind it, and removing the identity (`{"identity":{"type":"None"}}`).
    url = f"{server.authority_host}/subscriptions/{server.subscription_id}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{host}"
    headers = {"Authorization": f"Bearer {admin_token('https://management.azure.com/.default')}"}

    def call(method: str, body: Any = None) -> requests.Response:
        return requests.request(method, url, json=body, headers=headers, verify=server.ca_file, timeout=30)

    shown = call("GET")
    assert shown.status_code == 200, shown.text
    assert shown.json()["identity"] == {
        "type": "SystemAssigned", "principalId": first["systemAssignedIdentity"], "tenantId": server.tenant_id,
    }  # fmt: skip
    removed = call("PATCH", {"identity": {"type": "None"}})
    assert removed.status_code == 200 and removed.json()["identity"] == {"type": "None"}
    # The host stays registered, without an identity (as a VM does); deleting it removes it.
    kept = call("GET")
    assert kept.status_code == 200 and kept.json()["identity"] == {"type": "None"}, kept.text
    assert call("PATCH", {"identity": {"type": "UserAssigned"}}).status_code == 400
    assert call("DELETE").status_code == 200
    gone = call("GET")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"
    assert call("DELETE").status_code == 204


# --------------------------------------------------------------------------------------------------------------
# App Service protocol


def test_app_service_managed_identity_reads_a_secret(
    server: StrongroomServer, identity_a: Identity, agent_a: Agent, tmp_path: Path
) -> None:
    vault, name, value = vault_with_secret(server, "mi-app")
    grant(server, vault, identity_a, "get", "list")
    env = agent_a.env()
    assert set(env) >= {"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "REQUESTS_CA_BUNDLE"}
    assert env["IDENTITY_ENDPOINT"] == f"{agent_a.origin}/msi/token"
    assert run_program(tmp_path, env, server.vault_url(vault), name) == {"value": value}


def test_managed_identity_without_a_policy_is_forbidden(
    server: StrongroomServer, agent_a: Agent, tmp_path: Path
) -> None:
    vault, name, _ = vault_with_secret(server, "mi-nopolicy")
    report = run_program(tmp_path, agent_a.env(), server.vault_url(vault), name)
    assert report == {"status": 403, "error_code": "Forbidden"}


def test_wrong_identity_header_gets_no_token(server: StrongroomServer, agent_a: Agent, tmp_path: Path) -> None:
    url = f"{agent_a.origin}/msi/token"
    params = {"api-version": "2019-08-01", "resource": server.vault_audience}
    for headers in ({"X-IDENTITY-HEADER": "not-the-secret"}, {}):
        res = requests.get(url, params=params, headers=headers, timeout=30)
        assert res.status_code == 401, res.text
        assert "access_token" not in res.text
        assert res.json()["error"] == "invalid_request"
    # A program with a wrong header gets no secret either.
    env = agent_a.env()
    env["IDENTITY_HEADER"] = "not-the-secret"
    report = run_program(tmp_path, env, server.vault_url("nowhere"), "x")
    assert set(report) == {"auth_error"}


def test_app_service_selection_must_name_the_agent_identity(
    server: StrongroomServer, identity_a: Identity, identity_b: Identity, agent_a: Agent
) -> None:
    env = agent_a.env()
    url = env["IDENTITY_ENDPOINT"]
    header = {"X-IDENTITY-HEADER": env["IDENTITY_HEADER"]}
    base = {"api-version": "2019-08-01", "resource": server.vault_audience}
    own = requests.get(url, params={**base, "client_id": identity_a.client_id}, headers=header, timeout=30)
    assert own.status_code == 200
    body = own.json()
    assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    assert isinstance(body["expires_on"], str) and body["expires_on"].isdigit()
    assert body["client_id"] == identity_a.client_id and body["resource"] == server.vault_audience
    other = requests.get(url, params={**base, "client_id": identity_b.client_id}, headers=header, timeout=30)
    assert other.status_code == 400
    assert other.json() == {"error": "invalid_request", "error_description": "Identity not found"}


# --------------------------------------------------------------------------------------------------------------
# Azure Arc protocol


def test_arc_managed_identity_reads_a_secret(
    server: StrongroomServer, identity_a: Identity, agent_a: Agent, tmp_path: Path
) -> None:
    vault, name, value = vault_with_secret(server, "mi-arc")
    grant(server, vault, identity_a, "get")
    env = agent_a.env("--arc")
    assert env["IDENTITY_ENDPOINT"] == f"{agent_a.origin}/metadata/identity/oauth2/token"
    assert env["IMDS_ENDPOINT"] == agent_a.origin
    assert "IDENTITY_HEADER" not in env
    report = run_program(tmp_path, env, server.vault_url(vault), name, arc_key_dir=agent_a.arc_key_dir)
    assert report == {"value": value}


def test_arc_challenge_names_a_private_key_file(server: StrongroomServer, agent_a: Agent) -> None:
    url = f"{agent_a.origin}/metadata/identity/oauth2/token"
    params = {"api-version": "2020-06-01", "resource": server.vault_audience}
    challenge = requests.get(url, params=params, headers={"Metadata": "true"}, timeout=30)
    assert challenge.status_code == 401 and "access_token" not in challenge.text
    scheme, _, key_file = challenge.headers["WWW-Authenticate"].partition("=")
    assert scheme == "Basic realm"
    key_path = Path(key_file)
    assert key_path.parent == agent_a.arc_key_dir and key_path.suffix == ".key"
    assert key_path.stat().st_mode & 0o777 == 0o600
    key = key_path.read_text()
    wrong = requests.get(url, params=params, headers={"Metadata": "true", "Authorization": "Basic nope"}, timeout=30)
    assert wrong.status_code == 401 and "access_token" not in wrong.text
    ok = requests.get(url, params=params, headers={"Metadata": "true", "Authorization": f"Basic {key}"}, timeout=30)
    assert ok.status_code == 200, ok.text
    assert all(isinstance(v, str) for v in ok.json().values())
    assert {"access_token", "expires_in", "expires_on", "resource", "token_type"} <= set(ok.json())
    # A key works once.
    again = requests.get(url, params=params, headers={"Metadata": "true", "Authorization": f"Basic {key}"}, timeout=30)
    assert again.status_code == 401


# --------------------------------------------------------------------------------------------------------------
# IMDS


def test_imds_requires_the_metadata_header(server: StrongroomServer, identity_a: Identity, agent_a: Agent) -> None:
    url = f"{agent_a.imds_origin}/metadata/identity/oauth2/token"
    params = {"api-version": "2018-02-01", "resource": "https://vault.azure.net"}
    probe = requests.get(url, params=params, timeout=30)
    assert probe.status_code == 400
    assert probe.json() == {"error": "invalid_request", "error_description": "Required metadata header not specified"}
    token = requests.get(url, params=params, headers={"Metadata": "true"}, timeout=30)
    assert token.status_code == 200, token.text
    body = token.json()
    assert set(body) == {
        "access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource",
        "token_type",
    }  # fmt: skip
    assert all(isinstance(v, str) for v in body.values())
    assert body["client_id"] == identity_a.client_id and body["resource"] == "https://vault.azure.net"


def test_rebound_or_forwarded_requests_get_no_token(server: StrongroomServer, agent_a: Agent) -> None:
    """DNS rebinding (a page's own name in `Host`) and proxied requests are refused, as IMDS refuses them."""
    params = {"api-version": "2018-02-01", "resource": "https://vault.azure.net"}
    imds_url = f"{agent_a.imds_origin}/metadata/identity/oauth2/token"
    imds_port = agent_a.info["imdsListen"].rsplit(":", 1)[1]
    app = agent_a.env()
    cases = [
        (imds_url, {"Metadata": "true", "Host": f"rebound.example:{imds_port}"}, "Host"),
        (imds_url, {"Metadata": "true", "X-Forwarded-For": "203.0.113.7"}, "X-Forwarded-For"),
        (
            app["IDENTITY_ENDPOINT"],
            {"X-IDENTITY-HEADER": app["IDENTITY_HEADER"], "Host": f"rebound.example:{agent_a.info['port']}"},
            "Host",
        ),
        (
            app["IDENTITY_ENDPOINT"],
            {"X-IDENTITY-HEADER": app["IDENTITY_HEADER"], "Forwarded": "for=1.2.3.4"},
            "Forwarded",
        ),
    ]
    for url, headers, word in cases:
        res = requests.get(url, params=params, headers=headers, timeout=30)
        assert res.status_code == 400, (headers, res.text)
        body = res.json()
        assert set(body) == {"error", "error_description"} and body["error"] == "invalid_request"
        assert word in body["error_description"]
    # Without them, the same requests are served.
    assert requests.get(imds_url, params=params, headers={"Metadata": "true"}, timeout=30).status_code == 200


# --------------------------------------------------------------------------------------------------------------
# One identity's token is not another's


def test_a_token_for_one_identity_cannot_read_another_identitys_secret(
    server: StrongroomServer, identity_b: Identity, agent_a: Agent, agent_b: Agent
) -> None:
    vault, name, value = vault_with_secret(server, "mi-only-b")
    grant(server, vault, identity_b, "get")
    url = f"{server.vault_url(vault)}/secrets/{name}"
    params = {"api-version": "7.4"}

    def read(token: str) -> requests.Response:
        return requests.get(
            url, params=params, headers={"Authorization": f"Bearer {token}"}, verify=server.ca_file, timeout=30
        )

    as_b = read(agent_b.app_service_token(server.vault_audience))
    assert as_b.status_code == 200 and as_b.json()["value"] == value
    as_a = read(agent_a.app_service_token(server.vault_audience))
    assert as_a.status_code == 403, as_a.text
    assert value not in as_a.text


def test_env_proxy_identity_prints_working_proxy_credentials(server: StrongroomServer, identity_a: Identity) -> None:
    env = parse_env_exports(server.cli("env", "--proxy", "--identity", identity_a.name).stdout)
    assert env["HTTPS_PROXY"] == env["HTTP_PROXY"]
    assert env["NO_PROXY"] == "" and env["REQUESTS_CA_BUNDLE"] == server.ca_file
    proxy = urllib.parse.urlsplit(env["HTTPS_PROXY"])
    assert (proxy.scheme, proxy.hostname, proxy.port) == ("http", "127.0.0.1", server.port)
    assert urllib.parse.unquote(proxy.username or "") == identity_a.client_id
    # The password is a fresh client secret of the identity.
    server.token(identity_a.client_id, urllib.parse.unquote(proxy.password or ""), f"{server.vault_audience}/.default")
