"""`az keyvault secret|key|certificate …`, unmodified, on one vault through transparent mode: each command's exit code
and JSON, and the round trips that prove the data (backup → purge → restore, download, crypto that verifies)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Iterator

import pytest
from conftest import Az
from cryptography import x509
from strongroom_server import unique_name


@pytest.fixture
def vault(signed_in: Az) -> Iterator[str]:
    """A vault whose access policy gives its creator (the administrator) every permission."""
    group, name = unique_name("rg"), unique_name("kv")
    signed_in.json("group", "create", "--name", group, "--location", "westeurope")
    signed_in.json(
        "keyvault", "create", "--name", name, "--resource-group", group, "--location", "westeurope",
        "--enable-rbac-authorization", "false", "--retention-days", "7",
    )  # fmt: skip
    yield name


def test_secret_commands(signed_in: Az, vault: str, tmp_path: Path) -> None:
    az, kv = signed_in, ("--vault-name", vault)
    first = az.json("keyvault", "secret", "set", *kv, "--name", "db", "--value", "one", "--tags", "env=dev")
    # az adds its own `file-encoding` tag beside the caller's.
    assert first["value"] == "one" and first["tags"]["env"] == "dev" and first["attributes"]["enabled"] is True
    second = az.json("keyvault", "secret", "set", *kv, "--name", "db", "--value", "two", "--content-type", "text/plain")
    assert second["id"] != first["id"] and second["contentType"] == "text/plain"
    assert az.json("keyvault", "secret", "show", *kv, "--name", "db")["value"] == "two"
    assert az.json("keyvault", "secret", "show", "--id", first["id"])["value"] == "one"
    listed = az.json("keyvault", "secret", "list", *kv)
    assert [s["name"] for s in listed] == ["db"] and "value" not in listed[0]
    versions = az.json("keyvault", "secret", "list-versions", *kv, "--name", "db")
    assert sorted(v["id"] for v in versions) == sorted([first["id"], second["id"]])

    disabled = az.json("keyvault", "secret", "set-attributes", "--id", first["id"], "--enabled", "false", "--expires", "2030-01-01T00:00:00Z")
    assert disabled["attributes"]["enabled"] is False and disabled["attributes"]["expires"].startswith("2030-01-01T00:00:00")
    refused = az.run("keyvault", "secret", "show", "--id", first["id"])
    assert refused.returncode != 0 and "Forbidden" in refused.stderr and "disabled" in refused.stderr, refused.stderr

    target = tmp_path / "db.txt"
    assert az.run("keyvault", "secret", "download", *kv, "--name", "db", "--file", str(target)).returncode == 0
    assert target.read_text() == "two"

    backup = tmp_path / "db.backup"
    assert az.run("keyvault", "secret", "backup", *kv, "--name", "db", "--file", str(backup)).returncode == 0
    deleted = az.json("keyvault", "secret", "delete", *kv, "--name", "db")
    assert deleted["recoveryId"].endswith("/deletedsecrets/db") and deleted["scheduledPurgeDate"]
    assert [d["name"] for d in az.json("keyvault", "secret", "list-deleted", *kv)] == ["db"]
    recovered = az.json("keyvault", "secret", "recover", *kv, "--name", "db")
    assert recovered["name"] == "db"
    assert az.json("keyvault", "secret", "show", *kv, "--name", "db")["value"] == "two"

    az.json("keyvault", "secret", "delete", *kv, "--name", "db")
    assert az.run("keyvault", "secret", "purge", *kv, "--name", "db").returncode == 0
    assert az.json("keyvault", "secret", "list-deleted", *kv) == []
    restored = az.json("keyvault", "secret", "restore", *kv, "--file", str(backup))
    assert restored["name"] == "db"
    assert az.json("keyvault", "secret", "show", *kv, "--name", "db")["value"] == "two"
    assert len(az.json("keyvault", "secret", "list-versions", *kv, "--name", "db")) == 2


def test_key_commands(signed_in: Az, vault: str, tmp_path: Path) -> None:
    az, kv = signed_in, ("--vault-name", vault)
    created = az.json("keyvault", "key", "create", *kv, "--name", "signer", "--kty", "EC", "--curve", "P-256", "--ops", "sign", "verify")
    assert created["key"]["kty"] == "EC" and created["key"]["crv"] == "P-256"
    assert sorted(created["key"]["keyOps"]) == ["sign", "verify"]
    assert [k["name"] for k in az.json("keyvault", "key", "list", *kv)] == ["signer"]

    digest = base64.b64encode(hashlib.sha256(b"the message").digest()).decode()
    signed = az.json("keyvault", "key", "sign", *kv, "--name", "signer", "--algorithm", "ES256", "--digest", digest)
    verified = az.json(
        "keyvault", "key", "verify", *kv, "--name", "signer", "--algorithm", "ES256", "--digest", digest, "--signature", signed["signature"]
    )
    assert verified["isValid"] is True
    other = base64.b64encode(hashlib.sha256(b"another").digest()).decode()
    assert az.json(
        "keyvault", "key", "verify", *kv, "--name", "signer", "--algorithm", "ES256", "--digest", other, "--signature", signed["signature"]
    )["isValid"] is False

    rsa = az.json("keyvault", "key", "create", *kv, "--name", "wrapper", "--kty", "RSA", "--size", "2048")
    plaintext = base64.b64encode(b"sixteen byte key").decode()
    encrypted = az.json("keyvault", "key", "encrypt", *kv, "--name", "wrapper", "--algorithm", "RSA-OAEP-256", "--value", plaintext, "--data-type", "base64")
    decrypted = az.json(
        "keyvault", "key", "decrypt", *kv, "--name", "wrapper", "--algorithm", "RSA-OAEP-256", "--value", encrypted["result"], "--data-type", "base64"
    )
    assert base64.b64decode(decrypted["result"]) == b"sixteen byte key"

    rotated = az.json("keyvault", "key", "rotate", *kv, "--name", "wrapper")
    assert rotated["key"]["kid"] != rsa["key"]["kid"]
    assert len(az.json("keyvault", "key", "list-versions", *kv, "--name", "wrapper")) == 2
    updated = az.json("keyvault", "key", "set-attributes", *kv, "--name", "wrapper", "--enabled", "false", "--tags", "team=a")
    assert updated["attributes"]["enabled"] is False and updated["tags"] == {"team": "a"}
    policy = az.json("keyvault", "key", "rotation-policy", "show", *kv, "--name", "wrapper")
    assert "lifetimeActions" in policy

    pem = tmp_path / "signer.pem"
    assert az.run("keyvault", "key", "download", *kv, "--name", "signer", "--file", str(pem), "--encoding", "PEM").returncode == 0
    assert pem.read_text().startswith("-----BEGIN PUBLIC KEY-----")

    backup = tmp_path / "signer.backup"
    assert az.run("keyvault", "key", "backup", *kv, "--name", "signer", "--file", str(backup)).returncode == 0
    assert az.json("keyvault", "key", "delete", *kv, "--name", "signer")["recoveryId"].endswith("/deletedkeys/signer")
    assert az.json("keyvault", "key", "recover", *kv, "--name", "signer")["key"]["kid"].startswith(created["key"]["kid"].rsplit("/", 1)[0])
    az.json("keyvault", "key", "delete", *kv, "--name", "signer")
    assert az.run("keyvault", "key", "purge", *kv, "--name", "signer").returncode == 0
    restored = az.json("keyvault", "key", "restore", *kv, "--file", str(backup))
    assert restored["key"]["kid"] == created["key"]["kid"]
    # The restored key is the same key: the old signature still verifies.
    assert az.json(
        "keyvault", "key", "verify", *kv, "--name", "signer", "--algorithm", "ES256", "--digest", digest, "--signature", signed["signature"]
    )["isValid"] is True


def test_certificate_commands(signed_in: Az, vault: str, tmp_path: Path) -> None:
    az, kv = signed_in, ("--vault-name", vault)
    policy = az.json("keyvault", "certificate", "get-default-policy")
    assert policy["x509CertificateProperties"]["subject"] == "CN=CLIGetDefaultPolicy"
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(__import__("json").dumps(policy))
    created = az.json("keyvault", "certificate", "create", *kv, "--name", "web", "--policy", f"@{policy_file}")
    assert created["status"] == "completed", created
    shown = az.json("keyvault", "certificate", "show", *kv, "--name", "web")
    certificate = x509.load_der_x509_certificate(base64.b64decode(shown["cer"]))
    assert certificate.subject.rfc4514_string() == "CN=CLIGetDefaultPolicy"
    assert shown["x509ThumbprintHex"].lower() == certificate.fingerprint(__import__("cryptography.hazmat.primitives.hashes", fromlist=["SHA1"]).SHA1()).hex()
    assert [c["name"] for c in az.json("keyvault", "certificate", "list", *kv)] == ["web"]
    assert len(az.json("keyvault", "certificate", "list-versions", *kv, "--name", "web")) == 1

    pem = tmp_path / "web.pem"
    assert az.run("keyvault", "certificate", "download", *kv, "--name", "web", "--file", str(pem)).returncode == 0
    assert x509.load_pem_x509_certificate(pem.read_bytes()) == certificate

    # The certificate's secret carries its key: importing that PFX into another name works.
    pfx = tmp_path / "web.pfx"
    assert az.run("keyvault", "secret", "download", *kv, "--name", "web", "--file", str(pfx), "--encoding", "base64").returncode == 0
    imported = az.json("keyvault", "certificate", "import", *kv, "--name", "web-copy", "--file", str(pfx))
    assert imported["x509ThumbprintHex"] == shown["x509ThumbprintHex"]

    updated = az.json("keyvault", "certificate", "set-attributes", *kv, "--name", "web", "--tags", "owner=ops")
    assert updated["tags"] == {"owner": "ops"}
    az.json("keyvault", "certificate", "contact", "add", *kv, "--email", "ops@example.com", "--name", "Ops")
    contacts = az.json("keyvault", "certificate", "contact", "list", *kv)
    # az prints the SDK model's names: the wire's `email` is `emailAddress` there.
    assert [c["emailAddress"] for c in contacts["contactList"]] == ["ops@example.com"]

    backup = tmp_path / "web.backup"
    assert az.run("keyvault", "certificate", "backup", *kv, "--name", "web", "--file", str(backup)).returncode == 0
    assert az.json("keyvault", "certificate", "delete", *kv, "--name", "web")["recoveryId"].endswith("/deletedcertificates/web")
    assert az.json("keyvault", "certificate", "recover", *kv, "--name", "web")["name"] == "web"
    az.json("keyvault", "certificate", "delete", *kv, "--name", "web")
    assert az.run("keyvault", "certificate", "purge", *kv, "--name", "web").returncode == 0
    restored = az.json("keyvault", "certificate", "restore", *kv, "--file", str(backup))
    assert restored["x509ThumbprintHex"] == shown["x509ThumbprintHex"]
