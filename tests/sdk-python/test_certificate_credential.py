"""Certificate credentials (issue 4): `ad sp create-for-rbac --create-cert` and `ad sp credential reset --create-cert`
make a self-signed certificate locally, write it with its private key to a 0600 PEM file like `az`, and register
only the certificate. `CertificateCredential` (Python's `ClientCertificateCredential`: a client assertion JWT signed
with that key, RS256 with `x5t`) and MSAL given only the certificate (PS256 with `x5t#S256`) then get tokens with
it, each in a fresh process whose environment holds only the CA variables (plus PATH and HOME).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from strongroom_server import StrongroomServer, unique_name

SUBPROCESS_TIMEOUT_S = 120

# argv: mode tenant client_id pem authority vault_url secret_name. Prints {"value"} or {"error"} as JSON.
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

from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import CertificateCredential
from azure.keyvault.secrets import SecretClient

mode, tenant, client_id, pem, authority, vault_url, name = sys.argv[1:8]
report = {}


class MsalSha256Credential:
    # MSAL itself with only the certificate (no SHA-1 thumbprint): a PS256 assertion with x5t#S256.
    def __init__(self):
        import msal

        with open(pem) as f:
            text = f.read()
        self.app = msal.ConfidentialClientApplication(
            client_id,
            authority=f"{authority}/{tenant}",
            client_credential={"private_key": text, "public_certificate": text},
            instance_discovery=False,
        )

    def get_token(self, *scopes, **kwargs):
        result = self.app.acquire_token_for_client(list(scopes))
        if "access_token" not in result:
            raise ClientAuthenticationError(message=result.get("error_description", str(result)))
        return AccessToken(result["access_token"], 2**31)


try:
    if mode == "msal-sha256":
        credential = MsalSha256Credential()
    else:
        credential = CertificateCredential(
            tenant, client_id, certificate_path=pem, authority=authority, disable_instance_discovery=True
        )
    report["value"] = SecretClient(vault_url, credential).get_secret(name).value
except ClientAuthenticationError as err:
    report["error"] = "ClientAuthenticationError"
    report["message"] = str(err)
except HttpResponseError as err:
    report["error"] = type(err).__name__
    report["status"] = err.status_code
print(json.dumps(report))
"""


def run_program(server: StrongroomServer, tmp_path: Path, *args: str) -> dict[str, Any]:
    program = tmp_path / "cert_program.py"
    program.write_text(PROGRAM)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "REQUESTS_CA_BUNDLE": server.ca_file,
        "SSL_CERT_FILE": server.ca_file,
    }
    done = subprocess.run(
        [sys.executable, str(program), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"program failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def vault_with_secret(server: StrongroomServer, value: str) -> tuple[str, str]:
    vault = str(server.create_vault("certvault")["name"])
    server.cli_json("keyvault", "secret", "set", "--vault-name", vault, "--name", "greeting", "--value", value)
    return vault, "greeting"


def grant(server: StrongroomServer, vault: str, app_id: str) -> None:
    server.cli_json("keyvault", "set-policy", "--name", vault, "--spn", app_id, "--secret-permissions", "get", "list")


def assert_private_pem(path: str, under: Path) -> None:
    pem = Path(path)
    assert pem.is_absolute() and pem.parent == under.resolve(), path
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    text = pem.read_text()
    assert "-----BEGIN PRIVATE KEY-----" in text and "-----BEGIN CERTIFICATE-----" in text


def test_create_for_rbac_with_a_certificate_reads_a_secret(server: StrongroomServer, tmp_path: Path):
    name = unique_name("certapp")
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", name, "--create-cert", "--cert-dir", str(tmp_path))
    assert set(sp) == {"appId", "displayName", "fileWithCertAndPrivateKey", "password", "tenant"}
    assert sp["password"] is None and sp["displayName"] == name and sp["tenant"] == server.tenant_id
    assert_private_pem(sp["fileWithCertAndPrivateKey"], tmp_path)

    vault, secret = vault_with_secret(server, "signed-with-a-key")
    grant(server, vault, sp["appId"])
    url = server.vault_url(vault)
    pem = sp["fileWithCertAndPrivateKey"]
    for tenant in ("adfs", server.tenant_id):
        report = run_program(server, tmp_path, "azure-identity", tenant, sp["appId"], pem, server.authority_host, url, secret)
        assert report == {"value": "signed-with-a-key"}, (tenant, report)
    report = run_program(server, tmp_path, "msal-sha256", server.tenant_id, sp["appId"], pem, server.authority_host, url, secret)
    assert report == {"value": "signed-with-a-key"}, report


def test_another_principals_certificate_is_refused(server: StrongroomServer, tmp_path: Path):
    a = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("certa"), "--create-cert", "--cert-dir", str(tmp_path))
    b = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("certb"), "--create-cert", "--cert-dir", str(tmp_path))
    vault, secret = vault_with_secret(server, "not-for-b")
    grant(server, vault, a["appId"])
    report = run_program(
        server, tmp_path, "azure-identity", "adfs", a["appId"], b["fileWithCertAndPrivateKey"],
        server.authority_host, server.vault_url(vault), secret,
    )  # fmt: skip
    assert report["error"] == "ClientAuthenticationError", report
    assert "AADSTS700027" in report["message"] and "The key was not found" in report["message"], report


def test_credential_reset_append_adds_a_certificate_and_keeps_the_secret(server: StrongroomServer, tmp_path: Path):
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("certreset"))
    reset = server.cli_json(
        "ad", "sp", "credential", "reset", "--id", sp["appId"], "--append", "--create-cert", "--cert-dir", str(tmp_path)
    )  # fmt: skip
    assert set(reset) == {"appId", "fileWithCertAndPrivateKey", "password", "tenant"}
    assert reset["appId"] == sp["appId"] and reset["password"] is None and reset["tenant"] == server.tenant_id
    assert_private_pem(reset["fileWithCertAndPrivateKey"], tmp_path)

    vault, secret = vault_with_secret(server, "reset-with-a-cert")
    grant(server, vault, sp["appId"])
    report = run_program(
        server, tmp_path, "azure-identity", "adfs", sp["appId"], reset["fileWithCertAndPrivateKey"],
        server.authority_host, server.vault_url(vault), secret,
    )  # fmt: skip
    assert report == {"value": "reset-with-a-cert"}, report
    # With --append the older client secret still works, and both are listed.
    assert server.token(sp["appId"], sp["password"], f"{server.vault_audience}/.default")
    assert len(server.cli_json("ad", "sp", "credential", "list", "--id", sp["appId"])) == 1
    assert len(server.cli_json("ad", "sp", "credential", "list", "--id", sp["appId"], "--cert")) == 1


def test_token_endpoint_refuses_a_secret_and_an_assertion_together(server: StrongroomServer):
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("certboth"))
    res = requests.post(
        f"{server.authority_host}/{server.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sp["appId"],
            "client_secret": sp["password"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "a.b.c",
            "scope": f"{server.vault_audience}/.default",
        },
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code == 400, res.text
    assert res.json()["error_codes"] == [50027]
    bad = requests.post(
        f"{server.authority_host}/{server.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sp["appId"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "not-a-jwt",
            "scope": f"{server.vault_audience}/.default",
        },
        verify=server.ca_file,
        timeout=30,
    )
    assert bad.status_code == 400 and bad.json()["error_codes"] == [50027], bad.text
