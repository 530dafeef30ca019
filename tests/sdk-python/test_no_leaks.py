"""Secret material never reaches the server's logs or the data directory in plaintext.

Distinctive values go in through every path that carries one (SDK set, a new version, an update of a disabled
secret, CLI set, backup/restore into another vault, delete/recover, a failed oversized set); then the server's
stdout/stderr (run with `STRONGROOM_LOG=info,strongroom=debug`) and every file in the data directory (SQLite db, -wal,
-shm, ...) are searched for the raw bytes and their base64 forms. Client secrets and bearer tokens must not be
logged either.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError

from strongroom_server import StrongroomServer, unique_name


def _marker(label: str) -> str:
    return f"LEAKCHECK-{label}-{uuid.uuid4().hex}{uuid.uuid4().hex}"


def _forms(value: str) -> dict[str, bytes]:
    raw = value.encode()
    return {
        "raw": raw,
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "utf-16-le": value.encode("utf-16-le"),
    }


def _find(haystacks: dict[str, bytes], needles: dict[str, str]) -> list[str]:
    found = []
    for where, data in haystacks.items():
        for label, value in needles.items():
            for form, needle in _forms(value).items():
                if needle and needle in data:
                    found.append(f"{label} ({form}) in {where}")
    return found


def _data_dir_files(server: StrongroomServer, skip: set[str]) -> dict[str, bytes]:
    files = {}
    for path in sorted(Path(server.data_dir).rglob("*")):
        if path.is_file() and path.name not in skip:
            files[str(path.relative_to(server.data_dir))] = path.read_bytes()
    return files


def test_values_never_reach_logs_or_disk(server: StrongroomServer, make_vault, make_principal, admin_token, sdk_env):
    vault = make_vault("leaks")
    other = make_vault("leakstarget")
    client = vault.client
    values = {
        label: _marker(label)
        for label in ("sdk-set", "sdk-v2", "disabled", "cli-set", "restored", "recovered", "too-big")
    }

    client.set_secret("leak-a", values["sdk-set"], tags={"kind": "leak-test"})
    client.set_secret("leak-a", values["sdk-v2"])
    disabled = client.set_secret("leak-disabled", values["disabled"])
    client.update_secret_properties("leak-disabled", disabled.properties.version, enabled=False)
    with pytest.raises(HttpResponseError):
        client.get_secret("leak-disabled")

    server.cli_json(
        "keyvault", "secret", "set", "--vault-name", vault.name, "--name", "leak-cli", "--value", values["cli-set"]
    )
    assert (
        server.cli_json("keyvault", "secret", "show", "--vault-name", vault.name, "--name", "leak-cli")["value"]
        == values["cli-set"]
    )

    client.set_secret("leak-restore", values["restored"])
    blob = client.backup_secret("leak-restore")
    other.client.restore_secret_backup(blob)
    assert other.client.get_secret("leak-restore").value == values["restored"]

    client.set_secret("leak-recover", values["recovered"])
    client.begin_delete_secret("leak-recover").wait()
    client.begin_recover_deleted_secret("leak-recover").wait()
    assert client.get_secret("leak-recover").value == values["recovered"]

    too_big = values["too-big"] + "x" * (25 * 1024)
    with pytest.raises(HttpResponseError):
        client.set_secret(unique_name("leak-big"), too_big)

    for name in ("leak-a", "leak-cli"):
        client.get_secret(name)
    list(client.list_properties_of_secrets())

    principal = make_principal("leaksp", vault.name, ["get"])
    assert principal.client(vault.url).get_secret("leak-a").value == values["sdk-v2"]
    vault_token = admin_token(f"{server.vault_audience}/.default")

    server.assert_running()
    logs = {"server stdout/stderr": server.log_bytes()}
    assert logs["server stdout/stderr"], "the server logged nothing at all: the check would be vacuous"
    disk = _data_dir_files(server, skip=set())
    assert any(name.startswith("strongroom.db") for name in disk), sorted(disk)

    leaks = _find({**logs, **{f"data dir {k}": v for k, v in disk.items()}}, values)
    assert not leaks, "secret values found in plaintext:\n" + "\n".join(leaks)

    credentials = {
        "admin client secret": sdk_env["AZURE_CLIENT_SECRET"],
        "service principal password": principal.password,
        "vault bearer token": vault_token,
        "backup blob": base64.urlsafe_b64encode(blob).decode().rstrip("="),
    }
    leaks = _find(logs, credentials)
    assert not leaks, "credentials found in the server log:\n" + "\n".join(leaks)

    # Client secrets are verified, not stored: none in the database (admin.json holds the CLI's own copy).
    db_files = {f"data dir {k}": v for k, v in _data_dir_files(server, skip={"admin.json"}).items()}
    leaks = _find(
        db_files,
        {"service principal password": principal.password, "admin client secret": sdk_env["AZURE_CLIENT_SECRET"]},
    )
    assert not leaks, "client secrets stored in plaintext:\n" + "\n".join(leaks)


def _byte_forms(value: bytes) -> dict[str, bytes]:
    return {
        "raw": value,
        "hex": value.hex().encode(),
        "base64": base64.b64encode(value).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(value).rstrip(b"="),
    }


def _find_bytes(haystacks: dict[str, bytes], needles: dict[str, bytes]) -> list[str]:
    found = []
    for where, data in haystacks.items():
        for label, value in needles.items():
            for form, needle in _byte_forms(value).items():
                if needle and needle in data:
                    found.append(f"{label} ({form}) in {where}")
    return found


def test_key_material_never_reaches_logs_or_disk(server: StrongroomServer, make_key_vault, remote_crypto):
    """Private key parts (RSA d/p/q/dp/dq/qi, EC d, oct k) and the plaintexts of decrypt/unwrap go in through
    import, every operation, backup/restore, rotate and a refused import; none may appear in the server's log or
    in any data-directory file, in raw, hex, base64 or base64url form."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from azure.keyvault.keys import JsonWebKey
    from azure.keyvault.keys.crypto import EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm

    from strongroom_server import jwk_from_private_key

    def fixed(number: int, length: int) -> bytes:
        return number.to_bytes(length, "big")

    standard = make_key_vault("leakkeys")
    premium = make_key_vault("leakkeysp", "premium")
    other = make_key_vault("leakkeysb")

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = rsa_key.private_numbers()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    oct_bytes = uuid.uuid4().bytes + uuid.uuid4().bytes
    needles = {
        "RSA d": fixed(numbers.d, 256),
        "RSA p": fixed(numbers.p, 128),
        "RSA q": fixed(numbers.q, 128),
        "RSA dp": fixed(numbers.dmp1, 128),
        "RSA dq": fixed(numbers.dmq1, 128),
        "RSA qi": fixed(numbers.iqmp, 128),
        "EC d": fixed(ec_key.private_numbers().private_value, 32),
        "oct k": oct_bytes,
    }

    rsa_imported = standard.client.import_key("leak-rsa", jwk_from_private_key(rsa_key))
    ec_imported = standard.client.import_key("leak-ec", jwk_from_private_key(ec_key))
    oct_imported = premium.client.import_key(
        "leak-oct", JsonWebKey(kty="oct-HSM", k=oct_bytes, key_ops=["encrypt", "decrypt", "wrapKey", "unwrapKey"])
    )

    plaintext = b"LEAKCHECK-plaintext-" + uuid.uuid4().hex.encode()
    wrapped_secret = uuid.uuid4().bytes + uuid.uuid4().bytes
    needles["decrypt plaintext"] = plaintext
    needles["unwrapped key"] = wrapped_secret

    crypto, _ = remote_crypto(rsa_imported.id)
    ciphertext = rsa_key.public_key().encrypt(
        plaintext, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    )
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, ciphertext).plaintext == plaintext
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped_secret).encrypted_key
    assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped).key == wrapped_secret
    crypto.sign(SignatureAlgorithm.rs256, bytes(32))

    ec_crypto, _ = remote_crypto(ec_imported.id)
    ec_crypto.sign(SignatureAlgorithm.es256, bytes(32))

    oct_crypto, _ = remote_crypto(oct_imported.id)
    sealed = oct_crypto.encrypt(EncryptionAlgorithm.a256_gcm, plaintext)
    assert oct_crypto.decrypt(EncryptionAlgorithm.a256_gcm, sealed.ciphertext, iv=sealed.iv,
                              authentication_tag=sealed.tag).plaintext == plaintext

    other.client.restore_key_backup(standard.client.backup_key("leak-rsa"))
    standard.client.rotate_key("leak-ec")

    # A refused import carries private parts too: its error must not echo them.
    bad = jwk_from_private_key(rsa_key)
    bad.n = bytes(256)
    with pytest.raises(HttpResponseError) as refused:
        standard.client.import_key("leak-bad", bad)
    assert 400 <= refused.value.status_code < 500

    server.assert_running()
    logs = {"server stdout/stderr": server.log_bytes()}
    disk = {f"data dir {k}": v for k, v in _data_dir_files(server, skip=set()).items()}
    leaks = _find_bytes({**logs, **disk}, needles)
    assert not leaks, "key material found in plaintext:\n" + "\n".join(leaks)
    error_text = str(refused.value).encode()
    assert not _find_bytes({"the refused import's error": error_text}, needles)


def test_certificate_material_never_reaches_logs_or_disk(server: StrongroomServer, credential):
    """Certificates' private keys (imported in a password-protected PFX and in a PEM, or generated by the server),
    the PFX password and an issuer's password go in through import, create, backup/restore, delete/recover and a
    refused import; none may appear in the server's log or a data-directory file. The whole PKCS#8 of a key counts
    as well as its private scalars: a secret holding the PEM or PFX is sealed like any other."""
    import datetime

    from azure.keyvault.certificates import CertificateClient, CertificateContentType, CertificatePolicy
    from azure.keyvault.secrets import SecretClient
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    def client(prefix: str) -> tuple[CertificateClient, SecretClient]:
        url = str(server.create_vault(prefix)["properties"]["vaultUri"])
        return CertificateClient(url, credential), SecretClient(url, credential)

    certs, secrets = client("leakcerts")
    other, _ = client("leakcertsb")

    def self_signed(key) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leak.example")])
        now = datetime.datetime.now(datetime.timezone.utc)
        return (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256())
        )  # fmt: skip

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pfx_password = f"LEAKCHECK-pfx-{uuid.uuid4().hex}"
    issuer_password = f"LEAKCHECK-issuer-{uuid.uuid4().hex}"
    pkcs8 = serialization.PrivateFormat.PKCS8
    der, none = serialization.Encoding.DER, serialization.NoEncryption()
    needles = {
        "imported RSA d": rsa_key.private_numbers().d.to_bytes(256, "big"),
        "imported RSA PKCS#8": rsa_key.private_bytes(der, pkcs8, none),
        "imported EC d": ec_key.private_numbers().private_value.to_bytes(32, "big"),
        "PFX password": pfx_password.encode(),
        "issuer password": issuer_password.encode(),
    }

    pfx = pkcs12.serialize_key_and_certificates(
        None, rsa_key, self_signed(rsa_key), None, serialization.BestAvailableEncryption(pfx_password.encode())
    )
    certs.import_certificate("leak-pfx", pfx, password=pfx_password)
    pem = ec_key.private_bytes(serialization.Encoding.PEM, pkcs8, none) + self_signed(ec_key).public_bytes(
        serialization.Encoding.PEM
    )
    certs.import_certificate(
        "leak-pem", pem, policy=CertificatePolicy(issuer_name="Unknown", content_type=CertificateContentType.pem)
    )
    certs.begin_create_certificate("leak-made", CertificatePolicy.get_default()).result()
    made, _, _ = pkcs12.load_key_and_certificates(base64.b64decode(secrets.get_secret("leak-made").value), None)
    needles["generated RSA d"] = made.private_numbers().d.to_bytes(256, "big")
    needles["generated RSA PKCS#8"] = made.private_bytes(der, pkcs8, none)
    certs.create_issuer("leak-issuer", "Strongroom", account_id="acct", password=issuer_password)

    other.restore_certificate_backup(certs.backup_certificate("leak-pfx"))
    certs.begin_delete_certificate("leak-pem").wait()
    certs.begin_recover_deleted_certificate("leak-pem").wait()
    with pytest.raises(HttpResponseError) as refused:
        certs.import_certificate("leak-bad", pfx, password=pfx_password + "-wrong")
    assert refused.value.status_code == 400

    server.assert_running()
    logs = {"server stdout/stderr": server.log_bytes()}
    disk = {f"data dir {k}": v for k, v in _data_dir_files(server, skip=set()).items()}
    leaks = _find_bytes({**logs, **disk}, needles)
    assert not leaks, "certificate material found in plaintext:\n" + "\n".join(leaks)
    assert not _find_bytes({"the refused import's error": str(refused.value).encode()}, needles)
