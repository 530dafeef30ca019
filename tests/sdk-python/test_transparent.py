"""Transparent mode: programs written for Azure, with Azure's literal names, run unchanged through the proxy.

Each program is written to a temporary file and run as a subprocess whose environment holds only the proxy
variables, the CA bundle and what the program itself reads (plus PATH and HOME): no hosts-file edits, no code
changes, no client flags (issue 4, CONTRACTS.md "Managed identities and transparent mode").

- The classic VM tutorial (CLIENT-PROTOCOL.md 4.6): plain `requests`, IMDS at `http://169.254.169.254`, then
  `https://<vault>.vault.azure.net/secrets/<name>?api-version=2016-10-01` with the bearer token.
- The Python certificates quickstart: create, get and delete a certificate, fail on the deleted name, run again after
  a purge.
- The Python quickstart: `SecretClient("https://" + name + ".vault.azure.net", DefaultAzureCredential())` with the
  deployment's tenant GUID, so MSAL talks to login.microsoftonline.com (served by Strongroom).
- The proxy's refusals: hosts it does not serve (403), wrong proxy credentials (407), and a token minted for one
  identity cannot read another identity's vault.

The tutorial tests use a managed identity (`identity create`) and take the subprocess's whole proxy configuration
from `strongroom env --proxy --identity`; the other tests use a service principal made with `ad sp create-for-rbac`,
whose client id and secret are proxy credentials of the same kind.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from strongroom_server import StrongroomServer, parse_env_exports, running_server, unique_name

SUBPROCESS_TIMEOUT_S = 120

IMDS_TOKEN_URL = (
    "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"
)

# The tutorial's program. `<vault>` and `<name>` are replaced by literal names before it runs, as a reader would
# type them; nothing else is configurable.
TUTORIAL_PROGRAM = """\
import requests

# Step 1: get an access token for Key Vault from the VM's managed identity (IMDS).
response = requests.get(
    "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net",
    headers={"Metadata": "true"},
)
access_token = response.json()["access_token"]

# Step 2: read the secret with the token.
response = requests.get(
    "https://<vault>.vault.azure.net/secrets/<name>?api-version=2016-10-01",
    headers={"Authorization": "Bearer " + access_token},
)
print(response.json()["value"])
"""

# The same two requests, reporting status codes and bodies instead of assuming success.
PROBE_PROGRAM = """\
import json
import requests

response = requests.get(
    "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net",
    headers={"Metadata": "true"},
)
report = {"imds_status": response.status_code}
if response.status_code == 200:
    response = requests.get(
        "https://<vault>.vault.azure.net/secrets/<name>?api-version=2016-10-01",
        headers={"Authorization": "Bearer " + response.json()["access_token"]},
    )
    report["vault_status"] = response.status_code
    report["vault_body"] = response.json()
print(json.dumps(report))
"""

# The Python quickstart (azure-keyvault-secrets), unchanged.
QUICKSTART_PROGRAM = """\
import os

from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

keyVaultName = os.environ["KEY_VAULT_NAME"]
KVUri = f"https://{keyVaultName}.vault.azure.net"

credential = DefaultAzureCredential()
client = SecretClient(vault_url=KVUri, credential=credential)

secretName = "<name>"
retrieved_secret = client.get_secret(secretName)
print(retrieved_secret.value)
"""

# The Python certificates quickstart (azure-keyvault-certificates), unchanged: it reads the certificate's name
# from standard input.
CERTIFICATES_QUICKSTART_PROGRAM = """\
import os
from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from azure.identity import DefaultAzureCredential

keyVaultName = os.environ["KEY_VAULT_NAME"]
KVUri = "https://" + keyVaultName + ".vault.azure.net"

credential = DefaultAzureCredential()
client = CertificateClient(vault_url=KVUri, credential=credential)

certificateName = input("Input a name for your certificate > ")

print(f"Creating a certificate in {keyVaultName} called '{certificateName}' ...")

policy = CertificatePolicy.get_default()
poller = client.begin_create_certificate(certificate_name=certificateName, policy=policy)
certificate = poller.result()

print(" done.")

print(f"Retrieving your certificate from {keyVaultName}.")

retrieved_certificate = client.get_certificate(certificateName)

print(f"Certificate with name '{retrieved_certificate.name}' was found'.")
print(f"Deleting your certificate from {keyVaultName} ...")

poller = client.begin_delete_certificate(certificateName)
deleted_certificate = poller.result()

print(" done.")
"""


@dataclass
class Workload:
    """A workload identity: its ids and the proxy URL that carries its credentials."""

    app_id: str
    password: str
    proxy_url: str


def make_workload(server: StrongroomServer, prefix: str) -> Workload:
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name(prefix))
    user = urllib.parse.quote(sp["appId"], safe="")
    password = urllib.parse.quote(sp["password"], safe="")
    return Workload(sp["appId"], sp["password"], f"http://{user}:{password}@127.0.0.1:{server.port}")


def managed_identity_env(server: StrongroomServer, prefix: str) -> tuple[str, dict[str, str]]:
    """A user-assigned identity and the environment the tutorial program gets: exactly HTTP_PROXY, HTTPS_PROXY and
    REQUESTS_CA_BUNDLE as `strongroom env --proxy --identity` prints them (plus PATH and HOME to start Python)."""
    name = unique_name(prefix)
    identity = server.cli_json("identity", "create", "--name", name)
    exported = parse_env_exports(server.cli("env", "--proxy", "--identity", name).stdout)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "REQUESTS_CA_BUNDLE"):
        env[variable] = exported[variable]
    return str(identity["principalId"]), env


def grant(server: StrongroomServer, vault: str, workload: Workload, *permissions: str) -> None:
    server.cli_json(
        "keyvault", "set-policy", "--name", vault, "--spn", workload.app_id, "--secret-permissions", *permissions
    )  # fmt: skip


def make_vault_with_secret(server: StrongroomServer, prefix: str) -> tuple[str, str, str]:
    vault = str(server.create_vault(prefix)["name"])
    name = unique_name("secret")
    value = f"value-of-{name}"
    server.cli_json("keyvault", "secret", "set", "--vault-name", vault, "--name", name, "--value", value)
    return vault, name, value


def proxy_env(server: StrongroomServer, workload: Workload, **extra: str) -> dict[str, str]:
    """The only environment the programs get: proxy, CA bundle, PATH and HOME (and what `extra` adds)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "HTTP_PROXY": workload.proxy_url,
        "HTTPS_PROXY": workload.proxy_url,
        "NO_PROXY": "",
        "REQUESTS_CA_BUNDLE": server.ca_file,
    }
    env.update(extra)
    return env


def run_program(
    tmp_path: Path, source: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "program.py"
    program.write_text(source)
    return subprocess.run(
        [sys.executable, str(program)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}),
    )


def fill(template: str, vault: str, name: str) -> str:
    return template.replace("<vault>", vault).replace("<name>", name)


def proxy_exchange(server: StrongroomServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes to the listener and read one response (status, lower-cased headers, body)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --------------------------------------------------------------------------------------------------------------
# (a) The tutorial, byte for byte.


def test_the_vm_tutorial_program_prints_the_secret(server: StrongroomServer, tmp_path: Path) -> None:
    vault, name, value = make_vault_with_secret(server, "tutorial")
    principal_id, env = managed_identity_env(server, "tutorial-vm")
    server.cli_json(
        "keyvault", "set-policy", "--name", vault, "--object-id", principal_id, "--secret-permissions", "get", "list"
    )  # fmt: skip

    done = run_program(tmp_path, fill(TUTORIAL_PROGRAM, vault, name), env)

    assert done.returncode == 0, f"stdout: {done.stdout}\nstderr: {done.stderr}"
    assert done.stdout == value + "\n"


def test_off_loopback_the_tutorial_runs_through_an_https_proxy_and_clear_text_is_refused(
    strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """A server listening beyond loopback takes proxy credentials only inside TLS: `env --proxy` prints an
    https:// proxy URL, the unmodified tutorial runs through it, and the same credentials in clear text are
    refused."""
    root = tmp_path_factory.mktemp("server-open")
    with running_server(strongroom_bin, root, extra_args=(), listen="0.0.0.0:0") as open_server:
        vault, name, value = make_vault_with_secret(open_server, "httpsproxy")
        principal_id, env = managed_identity_env(open_server, "httpsproxy-vm")
        assert env["HTTPS_PROXY"].startswith("https://") and env["HTTP_PROXY"].startswith("https://")
        open_server.cli_json(
            "keyvault", "set-policy", "--name", vault, "--object-id", principal_id, "--secret-permissions", "get"
        )  # fmt: skip

        done = run_program(tmp_path, fill(TUTORIAL_PROGRAM, vault, name), env)
        assert done.returncode == 0, f"stdout: {done.stdout}\nstderr: {done.stderr}"
        assert done.stdout == value + "\n"

        clear = {**env, "HTTPS_PROXY": env["HTTPS_PROXY"].replace("https://", "http://", 1)}
        clear["HTTP_PROXY"] = clear["HTTPS_PROXY"]
        done = run_program(tmp_path, fill(TUTORIAL_PROGRAM, vault, name), clear)
        assert done.returncode != 0 and value not in done.stdout, done.stdout


def test_the_tutorial_identity_without_a_policy_gets_403(server: StrongroomServer, tmp_path: Path) -> None:
    vault, name, _ = make_vault_with_secret(server, "nopolicy")
    _, env = managed_identity_env(server, "tutorial-nopolicy")

    done = run_program(tmp_path, fill(PROBE_PROGRAM, vault, name), env)

    assert done.returncode == 0, f"stdout: {done.stdout}\nstderr: {done.stderr}"
    report = json.loads(done.stdout)
    assert report["imds_status"] == 200
    assert report["vault_status"] == 403, report
    assert report["vault_body"]["error"]["code"] == "Forbidden"
    assert report["vault_body"]["error"]["innererror"]["code"] == "AccessDenied"


def test_imds_without_the_metadata_header_gets_400(server: StrongroomServer) -> None:
    workload = make_workload(server, "imds-probe")
    proxies = {"http": workload.proxy_url, "https": workload.proxy_url}

    probe = requests.get(IMDS_TOKEN_URL, proxies=proxies, timeout=30)

    assert probe.status_code == 400
    assert probe.json() == {"error": "invalid_request", "error_description": "Required metadata header not specified"}


def test_imds_answers_in_the_real_shape_for_the_proxy_identity(server: StrongroomServer) -> None:
    workload = make_workload(server, "imds-shape")
    proxies = {"http": workload.proxy_url}

    token = requests.get(IMDS_TOKEN_URL, headers={"Metadata": "true"}, proxies=proxies, timeout=30)
    # JS adds a trailing slash; a user-assigned identity adds its client_id.
    selected = requests.get(
        IMDS_TOKEN_URL.replace("token?", "token/?") + f"&client_id={workload.app_id}",
        headers={"Metadata": "true"},
        proxies=proxies,
        timeout=30,
    )

    assert token.status_code == 200, token.text
    body = token.json()
    assert sorted(body) == [
        "access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource",
        "token_type",
    ]  # fmt: skip
    assert all(isinstance(v, str) for v in body.values()), body
    assert body["client_id"] == workload.app_id
    assert body["resource"] == "https://vault.azure.net"
    assert body["token_type"] == "Bearer"
    assert selected.status_code == 200, selected.text


# --------------------------------------------------------------------------------------------------------------
# (b) The quickstart: DefaultAzureCredential with a real tenant GUID.


def test_the_quickstart_with_default_azure_credential_and_a_tenant_guid(
    server: StrongroomServer, tmp_path: Path
) -> None:
    vault, name, value = make_vault_with_secret(server, "quickstart")
    workload = make_workload(server, "quickstart")
    grant(server, vault, workload, "get", "list")
    env = proxy_env(
        server,
        workload,
        AZURE_TENANT_ID=server.tenant_id,
        AZURE_CLIENT_ID=workload.app_id,
        AZURE_CLIENT_SECRET=workload.password,
        KEY_VAULT_NAME=vault,
    )

    done = run_program(tmp_path, QUICKSTART_PROGRAM.replace("<name>", name), env)

    assert done.returncode == 0, f"stdout: {done.stdout}\nstderr: {done.stderr}"
    assert done.stdout == value + "\n"


def test_the_certificates_quickstart_runs_fails_on_a_deleted_name_and_runs_again_after_a_purge(
    server: StrongroomServer, tmp_path: Path, credential
) -> None:
    """The quickstart's set-up line (with `strongroom` for `az`), then its program three times with one name."""
    from azure.keyvault.certificates import CertificateClient

    vault = str(server.create_vault("certqs")["name"])
    workload = make_workload(server, "certqs")
    server.cli_json(
        "keyvault", "set-policy", "--name", vault, "--spn", workload.app_id,
        "--resource-group", "KeyVault-PythonQS-rg", "--certificate-permissions", "delete", "get", "list", "create",
    )  # fmt: skip
    # Exactly what `strongroom env --proxy` prints plus the quickstart's four exports (and PATH, HOME).
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        **parse_env_exports(server.cli("env", "--proxy").stdout),
        "KEY_VAULT_NAME": vault,
        "AZURE_CLIENT_ID": workload.app_id,
        "AZURE_CLIENT_SECRET": workload.password,
        "AZURE_TENANT_ID": server.tenant_id,
    }
    name = unique_name("qscert")
    expected = (
        f"Input a name for your certificate > Creating a certificate in {vault} called '{name}' ...\n"
        " done.\n"
        f"Retrieving your certificate from {vault}.\n"
        f"Certificate with name '{name}' was found'.\n"
        f"Deleting your certificate from {vault} ...\n"
        " done.\n"
    )

    first = run_program(tmp_path, CERTIFICATES_QUICKSTART_PROGRAM, env, stdin=name + "\n")
    assert first.returncode == 0, f"stdout: {first.stdout}\nstderr: {first.stderr}"
    assert first.stdout == expected

    # What the quickstart warns about: the name is deleted but recoverable.
    second = run_program(tmp_path, CERTIFICATES_QUICKSTART_PROGRAM, env, stdin=name + "\n")
    assert second.returncode != 0, second.stdout
    assert f"(Conflict) Certificate {name} is currently in a deleted but recoverable state" in second.stderr
    assert "ObjectIsDeletedButRecoverable" in second.stderr

    # An administrator purges it (the quickstart's identity has no purge permission), and it runs again.
    admin = CertificateClient(server.vault_url(vault), credential)
    admin.purge_deleted_certificate(name)
    third = run_program(tmp_path, CERTIFICATES_QUICKSTART_PROGRAM, env, stdin=name + "\n")
    assert third.returncode == 0, f"stdout: {third.stdout}\nstderr: {third.stderr}"
    assert third.stdout == expected
    assert admin.get_deleted_certificate(name).name == name


def test_instance_discovery_answers_like_entra(server: StrongroomServer) -> None:
    workload = make_workload(server, "discovery")
    authorize = f"https://login.microsoftonline.com/{server.tenant_id}/oauth2/v2.0/authorize"

    res = requests.get(
        "https://login.microsoftonline.com/common/discovery/instance",
        params={"api-version": "1.1", "authorization_endpoint": authorize},
        proxies={"https": workload.proxy_url},
        verify=server.ca_file,
        timeout=30,
    )

    assert res.status_code == 200, res.text
    body = res.json()
    assert body["tenant_discovery_endpoint"] == (
        f"https://login.microsoftonline.com/{server.tenant_id}/v2.0/.well-known/openid-configuration"
    )
    assert body["api-version"] == "1.1"
    assert body["metadata"][0] == {
        "preferred_network": "login.microsoftonline.com",
        "preferred_cache": "login.windows.net",
        "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
    }

    # An authority we do not serve is unknown, as Entra answers for hosts it does not know.
    unknown = requests.get(
        "https://login.microsoftonline.com/common/discovery/instance",
        params={"api-version": "1.1", "authorization_endpoint": "https://idp.example.com/t/oauth2/v2.0/authorize"},
        proxies={"https": workload.proxy_url},
        verify=server.ca_file,
        timeout=30,
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_instance"


def test_a_tenant_guid_that_is_not_ours_is_refused(server: StrongroomServer) -> None:
    workload = make_workload(server, "othertenant")
    res = requests.post(
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": workload.app_id,
            "client_secret": workload.password,
            "scope": "https://vault.azure.net/.default",
        },
        proxies={"https": workload.proxy_url},
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code == 400, res.text
    assert 90002 in res.json()["error_codes"]


# --------------------------------------------------------------------------------------------------------------
# (c) What the proxy refuses.


def test_the_proxy_refuses_hosts_it_does_not_serve(server: StrongroomServer) -> None:
    status, _, body = proxy_exchange(server, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    assert status == 403
    assert b"not an open proxy" in body

    status, _, _ = proxy_exchange(server, b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert status == 403


def test_wrong_proxy_credentials_get_407(server: StrongroomServer) -> None:
    workload = make_workload(server, "wrongcreds")
    wrong = basic(workload.app_id, "not-the-secret")
    for request in (
        f"GET {IMDS_TOKEN_URL} HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\nProxy-Authorization: {wrong}\r\n\r\n",
        f"GET {IMDS_TOKEN_URL} HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\n\r\n",
        "CONNECT x.vault.azure.net:443 HTTP/1.1\r\nHost: x.vault.azure.net:443\r\n"
        f"Proxy-Authorization: {wrong}\r\n\r\n",
    ):
        status, headers, _ = proxy_exchange(server, request.encode())
        assert status == 407, request
        assert headers.get("proxy-authenticate") == 'Basic realm="strongroom"'

    # And through a real client: requests turns the 407 on CONNECT into a ProxyError.
    bad_proxy = f"http://{workload.app_id}:wrong@127.0.0.1:{server.port}"
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get(
            "https://x.vault.azure.net/secrets/s?api-version=7.4",
            proxies={"https": bad_proxy},
            verify=server.ca_file,
            timeout=30,
        )


def test_a_token_for_one_identity_cannot_read_another_identitys_secret(
    server: StrongroomServer, tmp_path: Path
) -> None:
    vault_a, name_a, value_a = make_vault_with_secret(server, "owner-a")
    vault_b, name_b, _ = make_vault_with_secret(server, "owner-b")
    a = make_workload(server, "identity-a")
    b = make_workload(server, "identity-b")
    grant(server, vault_a, a, "get", "list")
    grant(server, vault_b, b, "get", "list")

    own = run_program(tmp_path, fill(PROBE_PROGRAM, vault_a, name_a), proxy_env(server, a))
    other = run_program(tmp_path, fill(PROBE_PROGRAM, vault_b, name_b), proxy_env(server, a))

    assert json.loads(own.stdout)["vault_body"]["value"] == value_a, own.stdout + own.stderr
    report = json.loads(other.stdout)
    assert report["vault_status"] == 403, report
    assert a.app_id in report["vault_body"]["error"]["message"]

    # A's proxy credentials cannot select B's identity at IMDS either.
    selected = requests.get(
        IMDS_TOKEN_URL + f"&client_id={b.app_id}",
        headers={"Metadata": "true"},
        proxies={"http": a.proxy_url},
        timeout=30,
    )
    assert selected.status_code == 400
    assert selected.json() == {"error": "invalid_request", "error_description": "Identity not found"}
