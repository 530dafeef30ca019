"""Secret material never reaches the server's logs or the data directory in plaintext.

This module runs a server of its own with `STRONGROOM_LOG=trace` (every crate at every level: the most an operator
can ask for). Distinctive values go in through every path that carries one (SDK set, a new version, an update of a
disabled secret, CLI set, backup/restore into another vault, delete/recover, a failed oversized set; keys and
certificates below); then the server's stdout/stderr and every file in the data directory (SQLite db, -wal, -shm,
...) are searched for each value as raw bytes, hex (both cases), UTF-16-LE, and base64 in the standard and the
URL-safe alphabet at each of the three alignments a value can have inside a longer encoded blob (the runs of whole
base64 groups that only the value's bytes make, so padded and unpadded encodings both contain them); each haystack
is searched as it is and with terminal colours and line breaks (also escaped ones) removed, for wrapped base64. Client secrets and
bearer tokens must not be logged either.

The guard that makes the search able to fail: the log must hold TRACE lines, and non-secret values that are logged
(the `x-ms-request-id` of a request this test made, its vault's name) must be found by the same search.
"""

from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential

from strongroom_server import (
    StrongroomServer,
    key_vault_maker,
    principal_maker,
    remote_crypto_maker,
    running_server,
    unique_name,
    vault_maker,
)

# The shortest needle searched: shorter ones could match by chance.
MIN_NEEDLE = 16


# --------------------------------------------------------------------------------------------------------------
# A server of this module's own, logging everything; the fixtures the tests use, made for it (they override the
# session's of the same names in conftest.py for this module).


@pytest.fixture(scope="module")
def server(strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-leaks"), log_filter="trace") as srv:
        yield srv


@pytest.fixture(scope="module")
def sdk_env(server: StrongroomServer) -> Iterator[dict[str, str]]:
    with server.activated_env(str(server.create_vault("leakmain")["name"])) as env:
        yield env


@pytest.fixture(scope="module")
def credential(sdk_env: dict[str, str]) -> DefaultAzureCredential:
    return DefaultAzureCredential()


@pytest.fixture(scope="module")
def make_vault(server: StrongroomServer, credential: DefaultAzureCredential):
    return vault_maker(server, credential)


@pytest.fixture(scope="module")
def make_key_vault(server: StrongroomServer, credential: DefaultAzureCredential):
    return key_vault_maker(server, credential)


@pytest.fixture(scope="module")
def remote_crypto(credential: DefaultAzureCredential):
    return remote_crypto_maker(credential)


@pytest.fixture(scope="module")
def make_principal(server: StrongroomServer, sdk_env: dict[str, str]):
    return principal_maker(server)


@pytest.fixture(scope="module")
def admin_token(server: StrongroomServer, sdk_env: dict[str, str]):
    def token(scope: str) -> str:
        return server.token(sdk_env["AZURE_CLIENT_ID"], sdk_env["AZURE_CLIENT_SECRET"], scope)

    return token


# --------------------------------------------------------------------------------------------------------------
# The search.


def _marker(label: str) -> str:
    return f"LEAKCHECK-{label}-{uuid.uuid4().hex}{uuid.uuid4().hex}"


def _base64_runs(data: bytes) -> dict[str, bytes]:
    """What every base64 encoding of a blob that holds `data` contains, whatever `data`'s offset in the blob: for
    the offsets 0, 2 and 1 modulo 3, the first whole 3-byte group inside `data` starts at byte 0, 1 or 2 of it, and
    the encoding of the whole groups from there on is a substring of the blob's encoding, in either alphabet."""
    runs = {}
    for start in range(3):
        whole = (len(data) - start) // 3 * 3
        if whole > 0:
            chunk = data[start : start + whole]
            runs[f"base64 from byte {start}"] = base64.b64encode(chunk)
            runs[f"base64url from byte {start}"] = base64.urlsafe_b64encode(chunk)
    return runs


def _forms(value: str | bytes) -> dict[str, bytes]:
    raw = value.encode() if isinstance(value, str) else value
    forms = {"raw": raw, "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode(), **_base64_runs(raw)}
    if isinstance(value, str):
        forms["utf-16-le"] = value.encode("utf-16-le")
    for form, needle in forms.items():
        assert len(needle) >= MIN_NEEDLE, f"{form} of a value is too short to search for: {needle!r}"
    return forms


# Terminal colours (the log is coloured even into a file) and line breaks, also escaped ones (`\\n` in a Debug
# string): removed for a second search, so that a value split by either is still found.
_ANSI = re.compile(rb"\x1b\[[0-9;]*m")
_LINE_BREAKS = re.compile(rb"\\[rn]|[\r\n]")


def _find(haystacks: dict[str, bytes], needles: dict[str, str | bytes]) -> list[str]:
    found = []
    for where, data in haystacks.items():
        joined = _LINE_BREAKS.sub(b"", _ANSI.sub(b"", data))
        for label, value in needles.items():
            for form, needle in _forms(value).items():
                if needle in data or needle in joined:
                    found.append(f"{label} ({form}) in {where}")
    return found


def _data_dir_files(server: StrongroomServer, skip: set[str]) -> dict[str, bytes]:
    files = {}
    for path in sorted(Path(server.data_dir).rglob("*")):
        if path.is_file() and path.name not in skip:
            files[str(path.relative_to(server.data_dir))] = path.read_bytes()
    return files


def _traced_logs(server: StrongroomServer, known: dict[str, str]) -> dict[str, bytes]:
    """The server's stdout/stderr, once the guard holds: TRACE lines are there, and each `known` value (non-secret,
    logged by design) is found by `_find`, so a search that finds no secret had something to find it in."""
    server.assert_running()
    logs = {"server stdout/stderr": server.log_bytes()}
    plain = _ANSI.sub(b"", logs["server stdout/stderr"])
    assert re.search(rb"\sTRACE\s", plain), "no TRACE line: the log level was not forced"
    for label, value in known.items():
        assert _find(logs, {label: value}), f"{label} {value!r} is not in the server log: the search is vacuous"
    return logs


class _RequestIds:
    """A `raw_response_hook` that keeps the `x-ms-request-id` of every response."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def __call__(self, response) -> None:
        request_id = response.http_response.headers.get("x-ms-request-id")
        if request_id:
            self.ids.append(request_id)


def test_the_search_finds_every_form_at_every_offset():
    """`_find` sees a value inside longer blobs at each offset, encoded each way, also when wrapped like PEM."""
    value = _marker("self-test")
    for offset in range(3):
        blob = b"x" * offset + value.encode() + b"y" * 5
        encodings = {
            "raw": blob,
            "hex": blob.hex().encode(),
            "base64": base64.b64encode(blob),
            "base64 unpadded": base64.b64encode(blob).rstrip(b"="),
            "base64url": base64.urlsafe_b64encode(blob),
            "base64 wrapped at 64": b"\n".join(
                base64.b64encode(blob)[i : i + 64] for i in range(0, len(base64.b64encode(blob)), 64)
            ),
            "base64 wrapped, escaped": b"\\n".join(
                base64.b64encode(blob)[i : i + 64] for i in range(0, len(base64.b64encode(blob)), 64)
            ),
            "utf-16-le": (b"x" * offset + value.encode()).decode().encode("utf-16-le"),
            "split by colours": value.encode()[:20] + b"\x1b[2m\x1b[0m" + value.encode()[20:],
        }
        for name, encoded in encodings.items():
            haystack = b"log line: " + encoded + b" end"
            assert _find({"h": haystack}, {"v": value}), f"{name} at offset {offset} not found"
    assert not _find({"h": b"nothing here " * 100}, {"v": value})


def test_values_never_reach_logs_or_disk(server: StrongroomServer, make_vault, make_principal, admin_token, sdk_env):
    vault = make_vault("leaks")
    other = make_vault("leakstarget")
    client = vault.client
    values = {
        label: _marker(label)
        for label in ("sdk-set", "sdk-v2", "disabled", "cli-set", "restored", "recovered", "too-big")
    }

    request_ids = _RequestIds()
    client.set_secret("leak-a", values["sdk-set"], tags={"kind": "leak-test"}, raw_response_hook=request_ids)
    assert request_ids.ids, "no x-ms-request-id in the answer to set_secret"
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

    logs = _traced_logs(server, {"the set's request id": request_ids.ids[-1], "the vault's name": vault.name})
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

    request_ids = _RequestIds()
    rsa_imported = standard.client.import_key("leak-rsa", jwk_from_private_key(rsa_key), raw_response_hook=request_ids)
    assert request_ids.ids, "no x-ms-request-id in the answer to import_key"
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

    logs = _traced_logs(server, {"the import's request id": request_ids.ids[-1], "the vault's name": standard.name})
    disk = {f"data dir {k}": v for k, v in _data_dir_files(server, skip=set()).items()}
    leaks = _find({**logs, **disk}, needles)
    assert not leaks, "key material found in plaintext:\n" + "\n".join(leaks)
    error_text = str(refused.value).encode()
    assert not _find({"the refused import's error": error_text}, needles)


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

    def client(prefix: str) -> tuple[CertificateClient, SecretClient, str]:
        resource = server.create_vault(prefix)
        url = str(resource["properties"]["vaultUri"])
        return CertificateClient(url, credential), SecretClient(url, credential), str(resource["name"])

    certs, secrets, certs_vault = client("leakcerts")
    other, _, _ = client("leakcertsb")

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
    request_ids = _RequestIds()
    certs.import_certificate("leak-pfx", pfx, password=pfx_password, raw_response_hook=request_ids)
    assert request_ids.ids, "no x-ms-request-id in the answer to import_certificate"
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

    logs = _traced_logs(server, {"the import's request id": request_ids.ids[-1], "the vault's name": certs_vault})
    disk = {f"data dir {k}": v for k, v in _data_dir_files(server, skip=set()).items()}
    leaks = _find({**logs, **disk}, needles)
    assert not leaks, "certificate material found in plaintext:\n" + "\n".join(leaks)
    assert not _find({"the refused import's error": str(refused.value).encode()}, needles)
