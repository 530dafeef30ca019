"""`strongroom keyvault certificate …` and certificate permissions through the real binary.

First the access policies (`keyvault set-policy --certificate-permissions` as the Python certificates quickstart
writes it, and the ARM bodies behind it). Then the `az keyvault certificate` commands: every command runs the real
binary, what it prints is checked for az's shape (azure-cli 2.91's certificate transformers: camelCase, ISO 8601
times, `x509Thumbprint` in base64 and `x509ThumbprintHex`, the policy as the SDK's model), and what it did is checked
independently, with `CertificateClient` and with `cryptography` (downloaded certificates, imported PFX files made
here, CSRs signed here).

Errors are one `ERROR: …` line on stderr, exit code 1, nothing on stdout.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.keyvault.certificates import CertificateClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from strongroom_server import CliResult, StrongroomServer, assert_az_json, assert_cli_error, running_server, unique_name


def granted(vault_json: dict, creator: str) -> dict:
    """The permissions of the one policy that is not the vault creator's, lists sorted."""
    others = [p for p in vault_json["properties"]["accessPolicies"] if p["objectId"] != creator]
    assert len(others) == 1, vault_json["properties"]["accessPolicies"]
    return {kind: sorted(names) for kind, names in others[0]["permissions"].items()}


def creator_permissions(vault_json: dict) -> dict:
    policies = vault_json["properties"]["accessPolicies"]
    assert len(policies) == 1, policies
    return policies[0]["permissions"]


def test_quickstart_set_policy_line_grants_certificate_permissions(server: StrongroomServer):
    group = "KeyVault-PythonQS-rg"
    name = unique_name("qscert")
    created = assert_az_json(server.cli("keyvault", "create", "--name", name, "--resource-group", group))
    # The vault's creator holds every certificate permission, as `az keyvault create` gives it.
    assert len(creator_permissions(created)["certificates"]) == 16
    creator = created["properties"]["accessPolicies"][0]["objectId"]
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("qscertsp"))

    # The quickstart's own line, flags as written, `strongroom` in place of `az`.
    updated = assert_az_json(
        server.cli(
            "keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "--resource-group", group,
            "--certificate-permissions", "delete", "get", "list", "create",
        )
    )
    assert granted(updated, creator) == {"certificates": ["create", "delete", "get", "list"], "keys": [], "secrets": []}

    # A second grant merges (any case accepted, ARM's lower-case names stored), and `show` reads
    # the stored policy back.
    server.cli("keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "-g", group,
               "--certificate-permissions", "ManageContacts", "GETISSUERS")
    shown = assert_az_json(server.cli("keyvault", "show", "--name", name, "-g", group))
    assert granted(shown, creator)["certificates"] == [
        "create", "delete", "get", "getissuers", "list", "managecontacts",
    ]


def test_unknown_certificate_permission_is_refused(server: StrongroomServer):
    name = unique_name("qscertbad")
    assert_az_json(server.cli("keyvault", "create", "--name", name))
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("qscertbadsp"))
    res = server.cli(
        "keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "--certificate-permissions", "sign",
        check=False,
    )
    assert res.returncode != 0
    assert "sign" in res.stderr
    assert "panicked" not in res.stderr


def test_certificate_permission_grants_and_denies_through_the_server(server: StrongroomServer):
    """A caller without `certificates list` is refused listing certificates with Azure's 403;
    once granted, the same call lists the vault's (no) certificates."""
    name = unique_name("qscertauthz")
    assert_az_json(server.cli("keyvault", "create", "--name", name))
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("qscertauthzsp"))
    server.cli_json("keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "--secret-permissions", "list")
    token = server.token(sp["appId"], sp["password"], f"{server.vault_audience}/.default")

    def list_certificates() -> requests.Response:
        return requests.get(
            f"{server.vault_url(name).rstrip('/')}/certificates?api-version=2026-04-01",
            headers={"Authorization": f"Bearer {token}"},
            verify=server.ca_file,
            timeout=30,
        )

    denied = list_certificates()
    assert denied.status_code == 403, denied.text
    error = denied.json()["error"]
    assert error["code"] == "Forbidden"
    assert "does not have certificates list permission" in error["message"]

    server.cli_json("keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "--certificate-permissions", "list")
    allowed = list_certificates()
    assert allowed.status_code == 200, allowed.text
    assert allowed.json() == {"value": [], "nextLink": None}


# --------------------------------------------------------------------------------------------------------------
# `keyvault certificate …`: helpers

# `az keyvault certificate get-default-policy` (azure-cli 2.91), exactly.
AZ_DEFAULT_POLICY = {
    "issuerParameters": {"certificateTransparency": None, "name": "Self"},
    "keyProperties": {"curve": None, "exportable": True, "keySize": 2048, "keyType": "RSA", "reuseKey": True},
    "lifetimeActions": [{"action": {"actionType": "AutoRenew"}, "trigger": {"daysBeforeExpiry": 90}}],
    "secretProperties": {"contentType": "application/x-pkcs12"},
    "x509CertificateProperties": {
        "keyUsage": [
            "cRLSign", "dataEncipherment", "digitalSignature", "keyEncipherment", "keyAgreement", "keyCertSign",
        ],
        "subject": "CN=CLIGetDefaultPolicy",
        "validityInMonths": 12,
    },
}  # fmt: skip
ATTRIBUTE_FIELDS = {"created", "enabled", "expires", "notBefore", "recoveryLevel", "updated"}
PROPERTY_FIELDS = {"attributes", "id", "name", "tags", "x509Thumbprint", "x509ThumbprintHex"}
CERTIFICATE_FIELDS = PROPERTY_FIELDS | {"cer", "contentType", "kid", "policy", "sid"}
DELETED_FIELDS = {"deletedDate", "recoveryId", "scheduledPurgeDate"}
POLICY_FIELDS = {
    "attributes", "id", "issuerParameters", "keyProperties", "lifetimeActions", "secretProperties",
    "x509CertificateProperties",
}  # fmt: skip
OPERATION_FIELDS = {
    "cancellationRequested", "csr", "error", "id", "issuerParameters", "name", "requestId", "status", "statusDetails",
    "target",
}  # fmt: skip


@pytest.fixture(scope="module")
def cert_vault(server: StrongroomServer) -> dict[str, Any]:
    return server.create_vault("clicerts")


@pytest.fixture(scope="module")
def certs(cert_vault: dict[str, Any], credential) -> CertificateClient:
    """The SDK's view of the same vault, to check what the CLI did."""
    return CertificateClient(str(cert_vault["properties"]["vaultUri"]), credential)


def cert_cli(server: StrongroomServer, *args: str, check: bool = True) -> CliResult:
    return server.cli("keyvault", "certificate", *args, check=check)


def cert_json(server: StrongroomServer, *args: str) -> Any:
    return assert_az_json(cert_cli(server, *args))


def iso(text: str) -> datetime.datetime:
    assert text.endswith("+00:00"), f"not isoformat() in UTC: {text!r}"
    return datetime.datetime.fromisoformat(text)


def assert_certificate(output: dict[str, Any], vault_url: str, name: str, deleted: bool = False) -> x509.Certificate:
    """az's `transform_certificate_show` shape; returns the certificate from `cer`, checked against the thumbprints."""
    expected = CERTIFICATE_FIELDS | (DELETED_FIELDS if deleted else set())
    assert set(output) == expected, sorted(output)
    assert set(output["attributes"]) == ATTRIBUTE_FIELDS, sorted(output["attributes"])
    assert output["name"] == name
    prefix = f"{vault_url.rstrip('/')}/certificates/{name}/"
    assert output["id"].startswith(prefix), output["id"]
    version = output["id"][len(prefix) :]
    assert output["kid"] == f"{vault_url.rstrip('/')}/keys/{name}/{version}"
    assert output["sid"] == f"{vault_url.rstrip('/')}/secrets/{name}/{version}"
    attributes = output["attributes"]
    assert isinstance(attributes["enabled"], bool)
    assert attributes["recoveryLevel"] == "Recoverable+Purgeable"
    for field in ("created", "updated", "notBefore", "expires"):
        iso(attributes[field])
    der = base64.b64decode(output["cer"], validate=True)
    digest = hashlib.sha1(der).digest()
    assert output["x509ThumbprintHex"] == digest.hex().upper()
    assert base64.b64decode(output["x509Thumbprint"], validate=True) == digest
    certificate = x509.load_der_x509_certificate(der)
    assert iso(attributes["notBefore"]) == certificate.not_valid_before_utc
    assert iso(attributes["expires"]) == certificate.not_valid_after_utc
    policy = output["policy"]
    assert set(policy) == POLICY_FIELDS, sorted(policy)
    assert policy["id"] == f"{vault_url.rstrip('/')}/certificates/{name}/policy"
    return certificate


def default_policy_file(server: StrongroomServer, tmp_path: Path, **changes: Any) -> Path:
    """`get-default-policy > policy.json`, with the top-level parts in `changes` replaced."""
    res = cert_cli(server, "get-default-policy")
    policy = json.loads(res.stdout)
    policy.update(changes)
    path = tmp_path / f"policy-{unique_name('p')}.json"
    path.write_text(json.dumps(policy) if changes else res.stdout)
    return path


def self_signed(common_name: str, key: Any = None) -> tuple[Any, x509.Certificate]:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


# --------------------------------------------------------------------------------------------------------------
# `keyvault certificate …`: tests


def test_default_policy_is_azs_and_creates_a_self_signed_certificate(
    server: StrongroomServer, cert_vault: dict[str, Any], certs: CertificateClient, tmp_path: Path
):
    assert cert_json(server, "get-default-policy") == AZ_DEFAULT_POLICY
    scaffold = cert_json(server, "get-default-policy", "--scaffold")
    assert scaffold["issuerParameters"]["name"] == "Unknown, Self, or {IssuerName}"
    assert "Contoso" in scaffold["x509CertificateProperties"]["subject"]

    vault, url, name = cert_vault["name"], cert_vault["properties"]["vaultUri"], unique_name("clicert")
    policy_file = default_policy_file(server, tmp_path)
    # az prints the finished operation, not the certificate.
    operation = cert_json(
        server, "create", "--vault-name", vault, "-n", name, "--policy", f"@{policy_file}", "--tags", "env=test", "solo"
    )
    assert set(operation) == OPERATION_FIELDS, sorted(operation)
    assert operation["status"] == "completed", operation
    assert operation["name"] == name
    assert operation["issuerParameters"] == {"certificateTransparency": None, "certificateType": None, "name": "Self"}
    assert operation["target"] == f"{url.rstrip('/')}/certificates/{name}"
    assert operation["id"] == f"{url.rstrip('/')}/certificates/{name}/pending"

    shown = cert_json(server, "show", "--vault-name", vault, "-n", name)
    certificate = assert_certificate(shown, url, name)
    assert certificate.subject.rfc4514_string() == "CN=CLIGetDefaultPolicy"
    assert isinstance(certificate.public_key(), rsa.RSAPublicKey) and certificate.public_key().key_size == 2048
    assert shown["tags"] == {"env": "test", "solo": ""}
    assert shown["attributes"]["enabled"] is True
    assert shown["contentType"] == "application/x-pkcs12"
    policy = shown["policy"]
    assert policy["issuerParameters"]["name"] == "Self"
    assert policy["keyProperties"] == {
        "curve": None, "exportable": True, "keySize": 2048, "keyType": "RSA", "reuseKey": True,
    }  # fmt: skip
    assert policy["lifetimeActions"] == [
        {"action": {"actionType": "AutoRenew"}, "trigger": {"daysBeforeExpiry": 90, "lifetimePercentage": None}}
    ]
    assert policy["secretProperties"] == {"contentType": "application/x-pkcs12"}
    assert policy["x509CertificateProperties"]["subject"] == "CN=CLIGetDefaultPolicy"
    assert policy["x509CertificateProperties"]["validityInMonths"] == 12
    assert policy["x509CertificateProperties"]["keyUsage"] == AZ_DEFAULT_POLICY["x509CertificateProperties"]["keyUsage"]

    # The SDK sees the same certificate; `--id` (with or without the version) names it too.
    sdk = certs.get_certificate(name)
    assert bytes(sdk.cer) == base64.b64decode(shown["cer"])
    assert sdk.properties.x509_thumbprint.hex().upper() == shown["x509ThumbprintHex"]
    assert cert_json(server, "show", "--id", shown["id"]) == shown
    assert cert_json(server, "show", "--id", shown["id"].rsplit("/", 1)[0]) == shown

    # A second version from inline JSON, with az's `--validity` override; disabled.
    inline = json.dumps(AZ_DEFAULT_POLICY)
    second_op = cert_json(
        server, "create", "--vault-name", vault, "-n", name, "-p", inline, "--validity", "6", "--disabled"
    )
    assert second_op["status"] == "completed"
    second = cert_json(server, "show", "--vault-name", vault, "-n", name)
    assert second["id"] != shown["id"]
    assert second["attributes"]["enabled"] is False
    assert second["policy"]["x509CertificateProperties"]["validityInMonths"] == 6
    lifetime = iso(second["attributes"]["expires"]) - iso(second["attributes"]["notBefore"])
    assert datetime.timedelta(days=180) <= lifetime <= datetime.timedelta(days=185), lifetime
    old = cert_json(server, "show", "--vault-name", vault, "-n", name, "--version", shown["id"].rsplit("/", 1)[1])
    assert old["id"] == shown["id"] and old["cer"] == shown["cer"]

    versions = cert_json(server, "list-versions", "--vault-name", vault, "-n", name)
    assert sorted(v["id"] for v in versions) == sorted([shown["id"], second["id"]])
    for item in versions:
        assert set(item) == PROPERTY_FIELDS | {"subject"}, sorted(item)
        assert item["subject"] == "" and item["name"] == name
    assert len(cert_json(server, "list-versions", "--vault-name", vault, "-n", name, "--maxresults", "1")) == 1

    listed = {item["name"]: item for item in cert_json(server, "list", "--vault-name", vault)}
    assert listed[name]["x509ThumbprintHex"] == second["x509ThumbprintHex"]
    assert listed[name]["id"] == f"{url.rstrip('/')}/certificates/{name}"
    assert listed[name]["tags"] is None
    assert listed == {item["name"]: item for item in cert_json(server, "list", "--id", url)}

    # set-attributes: enable the latest again and tag it.
    updated = cert_json(
        server, "set-attributes", "--vault-name", vault, "-n", name, "--enabled", "true", "--tags", "a=b"
    )
    assert_certificate(updated, url, name)
    assert updated["attributes"]["enabled"] is True and updated["tags"] == {"a": "b"}


def test_create_refuses_a_policy_without_a_subject_and_bad_json(
    server: StrongroomServer, cert_vault: dict[str, Any], tmp_path: Path
):
    vault = cert_vault["name"]
    no_subject = json.dumps({"issuerParameters": {"name": "Self"}})
    assert_cli_error(
        cert_cli(server, "create", "--vault-name", vault, "-n", unique_name("nosub"), "-p", no_subject, check=False),
        "You need to set either subject or one of the subject alternative names parameters in the policy",
    )
    assert_cli_error(
        cert_cli(server, "create", "--vault-name", vault, "-n", unique_name("badjson"), "-p", "{oops", check=False),
        "--policy is neither a file nor valid JSON",
    )
    assert_cli_error(
        cert_cli(server, "show", "--vault-name", vault, "-n", unique_name("missing"), check=False),
        "(CertificateNotFound)",
    )


def test_download_pem_and_der(server: StrongroomServer, cert_vault: dict[str, Any], tmp_path: Path):
    vault, name = cert_vault["name"], unique_name("download")
    cert_json(server, "create", "--vault-name", vault, "-n", name, "-p", f"@{default_policy_file(server, tmp_path)}")
    shown = cert_json(server, "show", "--vault-name", vault, "-n", name)
    der = base64.b64decode(shown["cer"])

    pem_file, der_file = tmp_path / "c.pem", tmp_path / "c.der"
    res = cert_cli(server, "download", "--vault-name", vault, "-n", name, "-f", str(pem_file))
    assert res.stdout == ""
    pem = pem_file.read_text()
    assert pem.startswith("-----BEGIN CERTIFICATE-----\n") and pem.endswith("-----END CERTIFICATE-----\n")
    assert all(len(line) <= 76 for line in pem.splitlines())
    certificate = x509.load_pem_x509_certificate(pem.encode())
    assert certificate.public_bytes(serialization.Encoding.DER) == der
    assert certificate.subject.rfc4514_string() == "CN=CLIGetDefaultPolicy"

    cert_cli(server, "download", "--id", shown["id"], "-f", str(der_file), "--encoding", "DER")
    assert der_file.read_bytes() == der
    assert x509.load_der_x509_certificate(der_file.read_bytes()) == certificate

    assert_cli_error(
        cert_cli(server, "download", "--vault-name", vault, "-n", name, "-f", str(pem_file), check=False),
        f"File or directory named '{pem_file}' already exists.",
    )


def test_import_pfx_and_pem_made_with_cryptography(
    server: StrongroomServer, cert_vault: dict[str, Any], certs: CertificateClient, tmp_path: Path
):
    vault, url = cert_vault["name"], cert_vault["properties"]["vaultUri"]
    password = "pfx-pa55-" + unique_name("pw")
    key, certificate = self_signed("imported.example")
    pfx = pkcs12.serialize_key_and_certificates(
        b"imported", key, certificate, None, serialization.BestAvailableEncryption(password.encode())
    )
    pfx_file = tmp_path / "imported.pfx"
    pfx_file.write_bytes(pfx)
    name = unique_name("pfx")
    res = cert_cli(server, "import", "--vault-name", vault, "-n", name, "-f", str(pfx_file), "--password", password)
    imported = assert_az_json(res)
    assert password not in res.stdout + res.stderr
    assert x509.load_der_x509_certificate(base64.b64decode(imported["cer"])) == assert_certificate(imported, url, name)
    assert base64.b64decode(imported["cer"]) == certificate.public_bytes(serialization.Encoding.DER)
    assert imported["x509ThumbprintHex"] == certificate.fingerprint(hashes.SHA1()).hex().upper()
    assert imported["policy"]["secretProperties"]["contentType"] == "application/x-pkcs12"
    assert imported["policy"]["x509CertificateProperties"]["subject"] == "CN=imported.example"
    assert bytes(certs.get_certificate(name).cer) == certificate.public_bytes(serialization.Encoding.DER)

    # The wrong password is the server's error on one line.
    assert_cli_error(
        cert_cli(
            server, "import", "--vault-name", vault, "-n", unique_name("pfxbad"), "-f", str(pfx_file),
            "--password", "wrong", check=False,
        ),
        "ERROR: (",
    )  # fmt: skip

    # A PEM with its key, a policy without a content type: az makes it application/x-pem-file; disabled, tagged.
    ec_key, ec_cert = self_signed("pem.example", ec.generate_private_key(ec.SECP256R1()))
    pem_file = tmp_path / "imported.pem"
    pem_file.write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + ec_cert.public_bytes(serialization.Encoding.PEM)
    )
    policy = json.dumps({"keyProperties": {"keyType": "EC", "curve": "P-256", "exportable": True}})
    pem_name = unique_name("pem")
    pem_imported = cert_json(
        server, "import", "--vault-name", vault, "-n", pem_name, "-f", str(pem_file), "--policy", policy,
        "--disabled", "--tags", "source=pem",
    )  # fmt: skip
    assert_certificate(pem_imported, url, pem_name)
    assert pem_imported["contentType"] == "application/x-pem-file"
    assert pem_imported["policy"]["secretProperties"]["contentType"] == "application/x-pem-file"
    assert pem_imported["policy"]["keyProperties"]["keyType"] == "EC"
    assert pem_imported["policy"]["keyProperties"]["curve"] == "P-256"
    assert pem_imported["attributes"]["enabled"] is False
    assert pem_imported["tags"] == {"source": "pem"}
    assert base64.b64decode(pem_imported["cer"]) == ec_cert.public_bytes(serialization.Encoding.DER)

    assert_cli_error(
        cert_cli(
            server, "import", "--vault-name", vault, "-n", pem_name, "-f", str(tmp_path / "nope.pfx"), check=False
        ),
        "Unable to load certificate file",
    )


def test_backup_and_restore_into_another_vault(server: StrongroomServer, cert_vault: dict[str, Any], tmp_path: Path):
    vault, name = cert_vault["name"], unique_name("backup")
    cert_json(server, "create", "--vault-name", vault, "-n", name, "-p", f"@{default_policy_file(server, tmp_path)}")
    original = cert_json(server, "show", "--vault-name", vault, "-n", name)
    blob = tmp_path / "cert.bak"
    res = cert_cli(server, "backup", "--vault-name", vault, "-n", name, "-f", str(blob))
    assert res.stdout == "" and blob.stat().st_size > 0

    other = server.create_vault("clirestore")
    restored = cert_json(server, "restore", "--vault-name", other["name"], "-f", str(blob))
    assert_certificate(restored, other["properties"]["vaultUri"], name)
    assert restored["cer"] == original["cer"]
    assert restored["x509ThumbprintHex"] == original["x509ThumbprintHex"]
    assert restored["id"].rsplit("/", 1)[1] == original["id"].rsplit("/", 1)[1]
    assert restored["policy"]["x509CertificateProperties"] == original["policy"]["x509CertificateProperties"]
    shown = cert_json(server, "show", "--vault-name", other["name"], "-n", name)
    assert shown["cer"] == original["cer"]


def test_delete_recover_purge(server: StrongroomServer, cert_vault: dict[str, Any], tmp_path: Path):
    vault, url, name = cert_vault["name"], cert_vault["properties"]["vaultUri"], unique_name("softdel")
    cert_json(server, "create", "--vault-name", vault, "-n", name, "-p", f"@{default_policy_file(server, tmp_path)}")
    original = cert_json(server, "show", "--vault-name", vault, "-n", name)

    deleted = cert_json(server, "delete", "--vault-name", vault, "-n", name)
    assert_certificate(deleted, url, name, deleted=True)
    assert deleted["recoveryId"] == f"{url.rstrip('/')}/deletedcertificates/{name}"
    assert iso(deleted["scheduledPurgeDate"]) > iso(deleted["deletedDate"])
    assert_cli_error(cert_cli(server, "show", "--vault-name", vault, "-n", name, check=False), "(CertificateNotFound)")

    listed = {item["name"]: item for item in cert_json(server, "list-deleted", "--vault-name", vault)}
    assert set(listed[name]) == PROPERTY_FIELDS | DELETED_FIELDS, sorted(listed[name])
    assert listed[name]["recoveryId"] == deleted["recoveryId"]
    shown = cert_json(server, "show-deleted", "--id", deleted["recoveryId"])
    assert shown["cer"] == original["cer"] and shown["recoveryId"] == deleted["recoveryId"]

    recovered = cert_json(server, "recover", "--vault-name", vault, "-n", name)
    assert_certificate(recovered, url, name)
    assert recovered["id"] == original["id"]
    assert cert_json(server, "show", "--vault-name", vault, "-n", name)["cer"] == original["cer"]

    cert_json(server, "delete", "--vault-name", vault, "-n", name)
    res = cert_cli(server, "purge", "--vault-name", vault, "-n", name)
    assert res.stdout == ""
    assert_cli_error(cert_cli(server, "show-deleted", "--vault-name", vault, "-n", name, check=False), "NotFound")
    assert name not in {item["name"] for item in cert_json(server, "list-deleted", "--vault-name", vault)}


def test_unknown_issuer_pending_show_merge_cancel_delete(
    server: StrongroomServer, cert_vault: dict[str, Any], tmp_path: Path
):
    vault, url, name = cert_vault["name"], cert_vault["properties"]["vaultUri"], unique_name("pending")
    # Key Vault refuses AutoRenew for the Unknown issuer; az's default policy with EmailContacts instead.
    unknown = {"name": "Unknown"}
    email = [{"action": {"actionType": "EmailContacts"}, "trigger": {"lifetimePercentage": 80}}]
    policy_file = default_policy_file(server, tmp_path, issuerParameters=unknown, lifetimeActions=email)

    # az returns the pending operation at once.
    operation = cert_json(server, "create", "--vault-name", vault, "-n", name, "-p", f"@{policy_file}")
    assert set(operation) == OPERATION_FIELDS, sorted(operation)
    assert operation["status"] == "inProgress" and operation["target"] is None
    assert operation["issuerParameters"]["name"] == "Unknown"
    csr = x509.load_der_x509_csr(base64.b64decode(operation["csr"], validate=True))
    assert csr.is_signature_valid and csr.subject.rfc4514_string() == "CN=CLIGetDefaultPolicy"
    assert cert_json(server, "pending", "show", "--vault-name", vault, "-n", name) == operation

    # Only `--include-pending` lists it.
    assert name not in {item["name"] for item in cert_json(server, "list", "--vault-name", vault)}
    pending_names = {item["name"] for item in cert_json(server, "list", "--vault-name", vault, "--include-pending")}
    assert name in pending_names

    # Sign the CSR here; merge the leaf and the CA's certificate from one PEM file.
    ca_key, ca_cert = self_signed("CLI Merge Test CA", ec.generate_private_key(ec.SECP256R1()))
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=20))
        .sign(ca_key, hashes.SHA256())
    )
    chain_file = tmp_path / "chain.pem"
    pem = serialization.Encoding.PEM
    chain_file.write_bytes(leaf.public_bytes(pem) + ca_cert.public_bytes(pem))
    merged = cert_json(server, "pending", "merge", "--vault-name", vault, "-n", name, "-f", str(chain_file))
    assert assert_certificate(merged, url, name) == leaf
    done = cert_json(server, "pending", "show", "--vault-name", vault, "-n", name)
    assert done["status"] == "completed" and done["target"] == f"{url.rstrip('/')}/certificates/{name}"

    # Another Unknown create: cancel it, then delete the operation (both print it).
    cancelled_name = unique_name("cancel")
    cert_json(server, "create", "--vault-name", vault, "-n", cancelled_name, "-p", f"@{policy_file}")
    cancelled = cert_json(server, "pending", "cancel", "--vault-name", vault, "-n", cancelled_name)
    assert cancelled["cancellationRequested"] is True and cancelled["status"] == "cancelled"
    removed = cert_json(server, "pending", "delete", "--vault-name", vault, "-n", cancelled_name)
    assert removed["status"] == "cancelled" and removed["name"] == cancelled_name
    assert_cli_error(
        cert_cli(server, "pending", "show", "--vault-name", vault, "-n", cancelled_name, check=False),
        "(PendingCertificateNotFound)",
    )


def test_contacts_add_list_delete(server: StrongroomServer):
    vault = server.create_vault("clicontacts")
    name, url = vault["name"], vault["properties"]["vaultUri"].rstrip("/")
    contacts_id = f"{url}/certificates/contacts"
    assert_cli_error(cert_cli(server, "contact", "list", "--vault-name", name, check=False), "(ContactsNotFound)")

    first = cert_json(server, "contact", "add", "--vault-name", name, "--email", "ops@contoso.com", "--name", "Ops")
    assert first == {
        "contactList": [{"emailAddress": "ops@contoso.com", "name": "Ops", "phone": None}],
        "id": contacts_id,
    }
    both = cert_json(
        server, "contact", "add", "--vault-name", name, "--email", "sec@contoso.com", "--phone", "555-0100"
    )
    assert both["contactList"] == [
        {"emailAddress": "ops@contoso.com", "name": "Ops", "phone": None},
        {"emailAddress": "sec@contoso.com", "name": None, "phone": "555-0100"},
    ]
    assert cert_json(server, "contact", "list", "--vault-name", name) == both
    assert_cli_error(
        cert_cli(server, "contact", "add", "--vault-name", name, "--email", "ops@contoso.com", check=False),
        "contact 'ops@contoso.com' already exists",
    )

    left = cert_json(server, "contact", "delete", "--vault-name", name, "--email", "ops@contoso.com")
    assert left["contactList"] == [{"emailAddress": "sec@contoso.com", "name": None, "phone": "555-0100"}]
    assert_cli_error(
        cert_cli(server, "contact", "delete", "--vault-name", name, "--email", "ops@contoso.com", check=False),
        "contact 'ops@contoso.com' not found in vault",
    )
    # The last one deletes the vault's contacts.
    none = cert_json(server, "contact", "delete", "--vault-name", name, "--email", "sec@contoso.com")
    assert none == {"contactList": [], "id": contacts_id}
    assert_cli_error(cert_cli(server, "contact", "list", "--vault-name", name, check=False), "(ContactsNotFound)")


def test_issuers_create_show_list_update_admins_delete(server: StrongroomServer):
    vault = server.create_vault("cliissuers")
    name, url = vault["name"], vault["properties"]["vaultUri"].rstrip("/")
    password = "issuer-" + unique_name("secret")
    res = cert_cli(
        server, "issuer", "create", "--vault-name", name, "--issuer-name", "issuer01", "--provider-name", "Test",
        "--account-id", "keyvaultuser", "--password", password, "--organization-id", "org-7",
    )  # fmt: skip
    created = assert_az_json(res)
    assert password not in res.stdout + res.stderr
    assert set(created) == {"attributes", "credentials", "id", "organizationDetails", "provider"}
    assert created["id"] == f"{url}/certificates/issuers/issuer01"
    assert created["provider"] == "Test"
    assert created["credentials"] == {"accountId": "keyvaultuser", "password": None}
    assert created["organizationDetails"] == {"adminDetails": [], "id": "org-7", "zip": 0}
    assert created["attributes"]["enabled"] is True
    iso(created["attributes"]["created"])

    assert cert_json(server, "issuer", "show", "--vault-name", name, "--issuer-name", "issuer01") == created
    listed = cert_json(server, "issuer", "list", "--vault-name", name)
    assert {"id": created["id"], "provider": "Test"} in listed

    updated = cert_json(
        server, "issuer", "update", "--vault-name", name, "--issuer-name", "issuer01", "--enabled", "false"
    )
    assert updated["attributes"]["enabled"] is False
    assert updated["credentials"]["accountId"] == "keyvaultuser"

    # Administrators: az reads the issuer and writes the whole list back.
    admin = {"emailAddress": "admin@contoso.com", "firstName": "Ann", "lastName": "Lee", "phone": "555-0101"}
    added = cert_json(
        server, "issuer", "admin", "add", "--vault-name", name, "--issuer-name", "issuer01",
        "--email", "admin@contoso.com", "--first-name", "Ann", "--last-name", "Lee", "--phone", "555-0101",
    )  # fmt: skip
    assert added == admin
    cert_json(
        server, "issuer", "admin", "add", "--vault-name", name, "--issuer-name", "issuer01", "--email", "b@contoso.com"
    )
    second = {"emailAddress": "b@contoso.com", "firstName": None, "lastName": None, "phone": None}
    admins = cert_json(server, "issuer", "admin", "list", "--vault-name", name, "--issuer-name", "issuer01")
    assert admins == [admin, second]
    shown = cert_json(server, "issuer", "show", "--vault-name", name, "--issuer-name", "issuer01")
    assert shown["organizationDetails"] == {"adminDetails": [admin, second], "id": "org-7", "zip": 0}
    assert_cli_error(
        cert_cli(
            server, "issuer", "admin", "add", "--vault-name", name, "--issuer-name", "issuer01",
            "--email", "b@contoso.com", check=False,
        ),
        "admin 'b@contoso.com' already exists",
    )  # fmt: skip
    for email in ("admin@contoso.com", "b@contoso.com"):
        res = cert_cli(server, "issuer", "admin", "delete", "--vault-name", name, "--issuer-name", "issuer01",
                       "--email", email)  # fmt: skip
        assert res.stdout == ""
    assert cert_json(server, "issuer", "admin", "list", "--vault-name", name, "--issuer-name", "issuer01") == []
    assert_cli_error(
        cert_cli(
            server, "issuer", "admin", "delete", "--vault-name", name, "--issuer-name", "issuer01",
            "--email", "b@contoso.com", check=False,
        ),
        "admin 'b@contoso.com' not found for issuer 'issuer01'",
    )  # fmt: skip
    org = cert_json(server, "issuer", "show", "--vault-name", name, "--issuer-name", "issuer01")["organizationDetails"]
    assert org == {"adminDetails": [], "id": "org-7", "zip": 0}

    deleted = cert_json(server, "issuer", "delete", "--vault-name", name, "--issuer-name", "issuer01")
    assert deleted["id"] == created["id"]
    assert_cli_error(
        cert_cli(server, "issuer", "show", "--vault-name", name, "--issuer-name", "issuer01", check=False),
        "ERROR: (",
    )
    assert {"id": created["id"], "provider": "Test"} not in cert_json(server, "issuer", "list", "--vault-name", name)


def test_event_list_of_a_new_vault_is_empty(server: StrongroomServer, cert_vault: dict[str, Any]):
    assert cert_json(server, "event", "list", "--vault-name", cert_vault["name"]) == []
    assert_cli_error(
        cert_cli(server, "event", "list", "--vault-name", unique_name("novault"), check=False), "ERROR: ("
    )


@pytest.fixture(scope="module")
def clock_server(resolve_localhost_names, strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory):
    """Moving the dev clock invalidates every token issued before: a server of its own."""
    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-cli-certs-clock")) as srv:
        yield srv


def test_event_list_shows_an_email_contacts_event(clock_server: StrongroomServer, tmp_path: Path):
    vault = clock_server.create_vault("clievents")["name"]
    name = unique_name("emailed")
    cert_json(clock_server, "contact", "add", "--vault-name", vault, "--email", "ops@contoso.com")
    email = [{"action": {"actionType": "EmailContacts"}, "trigger": {"lifetimePercentage": 50}}]
    policy_file = default_policy_file(clock_server, tmp_path, lifetimeActions=email)
    cert_json(clock_server, "create", "--vault-name", vault, "-n", name, "-p", f"@{policy_file}", "--validity", "1")
    shown = cert_json(clock_server, "show", "--vault-name", vault, "-n", name)
    assert cert_json(clock_server, "event", "list", "--vault-name", vault) == []

    env = clock_server.env()
    token = clock_server.token(
        env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"], "https://management.azure.com/.default"
    )
    clock_server.advance_clock(token, 20 * 86400)
    events = cert_json(clock_server, "event", "list", "--vault-name", vault, "-g", "any-group")
    assert len(events) == 1, events
    event = events[0]
    assert event["action"] == "EmailContacts" and event["certificate"] == name
    assert event["contacts"] == ["ops@contoso.com"]
    assert event["version"] == shown["id"].rsplit("/", 1)[1]
    assert iso(event["expires"]) == iso(shown["attributes"]["expires"])
    iso(event["time"])
