"""`strongroom keyvault key …` against the real server (CONTRACTS.md "CLI"), cross-checked with the official SDK.

Every command runs the real binary. What it prints is checked for az's shape (key bundles with every `JsonWebKey`
field, `attributes.enabled`, ISO 8601 times, standard base64), and what it did is checked independently: with
`KeyClient` (the vault's state), with a remote-only `CryptographyClient` (the vault's crypto) and with the
`cryptography` package (locally generated keys imported through `--pem-file`, whose signatures and ciphertexts are
verified and decrypted here with the original key material).

Errors are one `ERROR: …` line on stderr, exit code 1, nothing on stdout.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import KeyClient, KeyType
from azure.keyvault.keys.crypto import EncryptionAlgorithm, SignatureAlgorithm
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature

from kv_errors import assert_http_error
from strongroom_server import (
    EC_CURVES,
    HASHES,
    CliResult,
    KeyVault,
    StrongroomServer,
    assert_az_json,
    assert_cli_error,
    ec_coordinate_size,
    enum_text,
    public_key_from_jwk,
    unique_name,
)

ATTRIBUTE_FIELDS = {
    "created",
    "enabled",
    "expires",
    "exportable",
    "hsmPlatform",
    "notBefore",
    "recoverableDays",
    "recoveryLevel",
    "updated",
}
JWK_FIELDS = {"crv", "d", "dp", "dq", "e", "k", "keyOps", "kid", "kty", "n", "p", "q", "qi", "t", "x", "y"}
PRIVATE_JWK_FIELDS = ("d", "dp", "dq", "p", "q", "qi", "k", "t")
BUNDLE_FIELDS = {"attributes", "key", "managed", "releasePolicy", "tags"}
DELETED_FIELDS = {"deletedDate", "scheduledPurgeDate", "recoveryId"}
LIST_ITEM_FIELDS = {"attributes", "kid", "managed", "name", "releasePolicy", "tags"}
RSA_DEFAULT_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
EC_DEFAULT_OPS = ["sign", "verify"]
EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "P-256K": "ES256K"}
MESSAGE = b"signed and sealed by the strongroom CLI"
ROTATION_POLICY = {
    "lifetimeActions": [
        {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}},
        {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}},
    ],
    "attributes": {"expiryTime": "P2Y"},
}


# --------------------------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture(scope="module")
def vault(make_key_vault) -> KeyVault:
    return make_key_vault("clikeys")


@pytest.fixture(scope="module")
def premium(make_key_vault) -> KeyVault:
    return make_key_vault("clikeysprem", sku="premium")


def key_cli(server: StrongroomServer, *args: str, check: bool = True) -> CliResult:
    return server.cli("keyvault", "key", *args, check=check)


def key_json(server: StrongroomServer, *args: str) -> Any:
    return assert_az_json(key_cli(server, *args))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    """Standard base64, strictly (az prints the SDK's bytes with `base64.b64encode`)."""
    return base64.b64decode(text, validate=True)


def digest_for(alg: str, data: bytes = MESSAGE) -> bytes:
    h = hashes.Hash(HASHES[alg]())
    h.update(data)
    return h.finalize()


def iso(text: str) -> datetime.datetime:
    assert text.endswith("+00:00"), f"not isoformat() in UTC: {text!r}"
    return datetime.datetime.fromisoformat(text)


def assert_key_bundle(bundle: dict[str, Any], vault: KeyVault, name: str, kty: str) -> str:
    """az's `transform_key_output` shape; returns the version from `key.kid`."""
    assert set(bundle) == BUNDLE_FIELDS or set(bundle) == BUNDLE_FIELDS | DELETED_FIELDS, sorted(bundle)
    assert set(bundle["attributes"]) == ATTRIBUTE_FIELDS, sorted(bundle["attributes"])
    assert set(bundle["key"]) == JWK_FIELDS, sorted(bundle["key"])
    key = bundle["key"]
    prefix = f"{vault.url.rstrip('/')}/keys/{name}/"
    assert key["kid"].startswith(prefix), (key["kid"], prefix)
    version = key["kid"][len(prefix) :]
    assert len(version) == 32 and all(c in "0123456789abcdef" for c in version), version
    assert key["kty"] == kty
    for private in PRIVATE_JWK_FIELDS:
        assert key[private] is None, f"the vault printed private member {private!r} of {name}"
    attributes = bundle["attributes"]
    assert isinstance(attributes["enabled"], bool)
    iso(attributes["created"])
    iso(attributes["updated"])
    assert attributes["recoveryLevel"] == "Recoverable+Purgeable"
    assert attributes["recoverableDays"] == 90
    return version


def rsa_public_from_cli(key: dict[str, Any]) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(
        int.from_bytes(unb64(key["e"]), "big"), int.from_bytes(unb64(key["n"]), "big")
    ).public_key()


def ec_public_from_cli(key: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64(key["x"]), "big"), int.from_bytes(unb64(key["y"]), "big"), EC_CURVES[key["crv"]]
    ).public_key()


def verify_locally(public: rsa.RSAPublicKey | ec.EllipticCurvePublicKey, alg: str, digest: bytes, sig: bytes) -> None:
    """Raises InvalidSignature unless `sig` (Key Vault's format: raw r||s for EC) is valid."""
    hash_alg = HASHES[alg]()
    if isinstance(public, rsa.RSAPublicKey):
        pad: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size)
            if alg.startswith("PS")
            else padding.PKCS1v15()
        )
        public.verify(sig, digest, pad, Prehashed(hash_alg))
        return
    half = len(sig) // 2
    der = encode_dss_signature(int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big"))
    public.verify(der, digest, ec.ECDSA(Prehashed(hash_alg)))


def sign_locally_raw(private: ec.EllipticCurvePrivateKey, alg: str, digest: bytes) -> bytes:
    """An ECDSA signature in Key Vault's raw r||s form."""
    r, s = decode_dss_signature(private.sign(digest, ec.ECDSA(Prehashed(HASHES[alg]()))))
    size = (private.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def write_pem(
    path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat
) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()))
    return path


# --------------------------------------------------------------------------------------------------------------
# create


def test_create_rsa_key_prints_az_bundle_and_the_sdk_agrees(server: StrongroomServer, vault: KeyVault):
    name = unique_name("clirsa")
    bundle = key_json(
        server,
        "create", "--vault-name", vault.name, "--name", name, "--size", "3072", "--ops", "sign", "verify",
        "--expires", "2030-01-02T03:04:05Z", "--not-before", "2020-05-06", "--tags", "env=test", "owner",
    )  # fmt: skip
    version = assert_key_bundle(bundle, vault, name, "RSA")
    key = bundle["key"]
    assert len(unb64(key["n"])) == 384, "a 3072-bit modulus is 384 bytes"
    assert key["e"] == "AQAB"
    assert key["keyOps"] == ["sign", "verify"]
    assert key["crv"] is None and key["x"] is None and key["y"] is None
    assert bundle["attributes"]["enabled"] is True
    assert bundle["attributes"]["expires"] == "2030-01-02T03:04:05+00:00"
    assert bundle["attributes"]["notBefore"] == "2020-05-06T00:00:00+00:00"
    assert bundle["tags"] == {"env": "test", "owner": ""}
    assert bundle["managed"] is None and bundle["releasePolicy"] is None

    sdk = vault.client.get_key(name)
    assert sdk.id == key["kid"] and sdk.properties.version == version
    assert sdk.key_type == KeyType.rsa
    assert sdk.key.n == unb64(key["n"]) and sdk.key.e == b"\x01\x00\x01"
    assert sorted(sdk.key_operations) == ["sign", "verify"]
    assert sdk.properties.enabled is True
    assert sdk.properties.expires_on == datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert sdk.properties.not_before == datetime.datetime(2020, 5, 6, tzinfo=datetime.timezone.utc)
    assert sdk.properties.tags == {"env": "test", "owner": ""}
    assert sdk.properties.created_on == iso(bundle["attributes"]["created"])


def test_create_defaults_to_rsa_2048_with_every_rsa_operation(server: StrongroomServer, vault: KeyVault):
    name = unique_name("clidefault")
    bundle = key_json(server, "create", "--vault-name", vault.name, "-n", name)
    assert_key_bundle(bundle, vault, name, "RSA")
    assert len(unb64(bundle["key"]["n"])) == 256
    assert sorted(bundle["key"]["keyOps"]) == sorted(RSA_DEFAULT_OPS)
    assert bundle["tags"] is None
    assert bundle["attributes"]["expires"] is None and bundle["attributes"]["notBefore"] is None
    assert vault.client.get_key(name).key.n == unb64(bundle["key"]["n"])


@pytest.mark.parametrize("curve", list(EC_CURVES))
def test_create_ec_key_on_each_curve(server: StrongroomServer, vault: KeyVault, curve: str):
    name = unique_name("cliec")
    # --curve alone means --kty EC, as in az.
    bundle = key_json(server, "create", "--vault-name", vault.name, "-n", name, "--curve", curve)
    assert_key_bundle(bundle, vault, name, "EC")
    key = bundle["key"]
    assert key["crv"] == curve
    assert len(unb64(key["x"])) == len(unb64(key["y"])) == ec_coordinate_size(curve)
    assert key["n"] is None and key["e"] is None
    assert key["keyOps"] == EC_DEFAULT_OPS
    sdk = vault.client.get_key(name)
    assert sdk.key_type == KeyType.ec and enum_text(sdk.key.crv) == curve
    assert (sdk.key.x, sdk.key.y) == (unb64(key["x"]), unb64(key["y"]))
    # The coordinates are a point on the curve (cryptography refuses anything else).
    assert public_key_from_jwk(sdk.key).public_numbers() == ec_public_from_cli(key).public_numbers()


def test_create_disabled_key(server: StrongroomServer, vault: KeyVault):
    name = unique_name("clidisabled")
    bundle = key_json(
        server, "create", "--vault-name", vault.name, "-n", name, "--kty", "ec", "--curve", "P-256", "--disabled"
    )
    assert_key_bundle(bundle, vault, name, "EC")
    assert bundle["attributes"]["enabled"] is False
    assert vault.client.get_key(name).properties.enabled is False
    res = key_cli(
        server,
        "sign",
        "--vault-name",
        vault.name,
        "-n",
        name,
        "-a",
        "ES256",
        "--digest",
        b64(digest_for("ES256")),
        check=False,
    )
    assert_cli_error(res, "(Forbidden)", "disabled")


def test_hsm_protection_on_premium_vault(server: StrongroomServer, premium: KeyVault):
    assert server.cli_json("keyvault", "show", "--name", premium.name)["properties"]["sku"] == {
        "family": "A",
        "name": "premium",
    }
    rsa_name, ec_name, oct_name = unique_name("clirsahsm"), unique_name("cliechsm"), unique_name("cliocthsm")
    rsa_hsm = key_json(server, "create", "--vault-name", premium.name, "-n", rsa_name, "--protection", "hsm")
    assert_key_bundle(rsa_hsm, premium, rsa_name, "RSA-HSM")
    ec_hsm = key_json(server, "create", "--vault-name", premium.name, "-n", ec_name, "--curve", "P-384", "-p", "hsm")
    assert_key_bundle(ec_hsm, premium, ec_name, "EC-HSM")
    assert ec_hsm["key"]["crv"] == "P-384"
    oct_hsm = key_json(
        server, "create", "--vault-name", premium.name, "-n", oct_name, "--kty", "oct-HSM", "--size", "256"
    )
    assert_key_bundle(oct_hsm, premium, oct_name, "oct-HSM")
    assert oct_hsm["key"]["k"] is None, "a symmetric key's material never leaves the vault"
    assert premium.client.get_key(rsa_name).key_type == KeyType.rsa_hsm
    assert premium.client.get_key(ec_name).key_type == KeyType.ec_hsm
    assert premium.client.get_key(oct_name).key_type == KeyType.oct_hsm


def test_hsm_protection_refused_on_standard_vault(server: StrongroomServer, vault: KeyVault):
    assert server.cli_json("keyvault", "show", "--name", vault.name)["properties"]["sku"]["name"] == "standard"
    name = unique_name("clinohsm")
    res = key_cli(server, "create", "--vault-name", vault.name, "-n", name, "-p", "hsm", check=False)
    assert_cli_error(res, "(BadParameter)", "Hardware key operation not allowed on standard vault")
    res = key_cli(
        server, "create", "--vault-name", vault.name, "-n", name, "--kty", "EC-HSM", "--curve", "P-256", check=False
    )
    assert_cli_error(res, "Hardware key operation not allowed")
    with pytest.raises(ResourceNotFoundError):
        vault.client.get_key(name)
    # az's own check: an HSM type with --protection software is refused before any request.
    res = key_cli(
        server, "create", "--vault-name", vault.name, "-n", name, "--kty", "RSA-HSM", "-p", "software", check=False
    )
    assert_cli_error(res, "invalid for software protected keys")


# --------------------------------------------------------------------------------------------------------------
# import, then the vault's crypto checked with the original key material


@pytest.mark.parametrize(
    "fmt", [serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8], ids=["pkcs1", "pkcs8"]
)
def test_import_rsa_pem_then_sign_and_encrypt_checked_locally(
    server: StrongroomServer, vault: KeyVault, tmp_path: Path, fmt: serialization.PrivateFormat
):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = write_pem(tmp_path / "rsa.pem", private, fmt)
    name = unique_name("cliimprsa")
    bundle = key_json(
        server, "import", "--vault-name", vault.name, "-n", name, "--pem-file", str(pem), "--tags", "source=local"
    )
    assert_key_bundle(bundle, vault, name, "RSA")
    numbers = private.public_key().public_numbers()
    assert int.from_bytes(unb64(bundle["key"]["n"]), "big") == numbers.n
    assert int.from_bytes(unb64(bundle["key"]["e"]), "big") == numbers.e
    assert sorted(bundle["key"]["keyOps"]) == sorted(RSA_DEFAULT_OPS)
    assert bundle["tags"] == {"source": "local"}
    sdk = vault.client.get_key(name)
    assert sdk.id == bundle["key"]["kid"]
    assert int.from_bytes(sdk.key.n, "big") == numbers.n
    assert sdk.key.d is None

    # The vault signs with the imported key: the original public key verifies it here.
    for alg in ("RS256", "PS384", "RS512"):
        digest = digest_for(alg)
        signed = key_json(server, "sign", "--vault-name", vault.name, "-n", name, "-a", alg, "--digest", b64(digest))
        assert set(signed) == {"algorithm", "keyId", "signature"}
        assert signed["algorithm"] == alg and signed["keyId"] == bundle["key"]["kid"]
        signature = unb64(signed["signature"])
        assert len(signature) == 256
        verify_locally(private.public_key(), alg, digest, signature)
        with pytest.raises(InvalidSignature):
            verify_locally(private.public_key(), alg, digest_for(alg, b"another message"), signature)

    # The vault encrypts with it: the original private key decrypts here.
    local_paddings = {
        "RSA-OAEP": padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
        "RSA-OAEP-256": padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        "RSA1_5": padding.PKCS1v15(),
    }
    for alg, local_padding in local_paddings.items():
        plaintext = f"sealed with {alg}".encode()
        sealed = key_json(
            server, "encrypt", "--vault-name", vault.name, "-n", name, "-a", alg,
            "--value", plaintext.decode(), "--data-type", "plaintext",
        )  # fmt: skip
        assert sealed["kid"] == bundle["key"]["kid"] and sealed["algorithm"] == alg
        assert private.decrypt(unb64(sealed["result"]), local_padding) == plaintext

        # …and decrypts what the original public key encrypted here.
        local = private.public_key().encrypt(plaintext, local_padding)
        opened = key_json(
            server, "decrypt", "--vault-name", vault.name, "-n", name, "-a", alg,
            "--value", b64(local), "--data-type", "plaintext",
        )  # fmt: skip
        assert opened == {"algorithm": alg, "kid": bundle["key"]["kid"], "result": plaintext.decode()}


@pytest.mark.parametrize("curve", list(EC_CURVES))
def test_import_ec_pem_then_sign_and_verify_checked_locally(
    server: StrongroomServer, vault: KeyVault, tmp_path: Path, curve: str
):
    private = ec.generate_private_key(EC_CURVES[curve])
    # SEC1 ("BEGIN EC PRIVATE KEY") for the NIST curves' odd half, PKCS#8 for the rest: both are read.
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if curve in ("P-256", "P-521")
        else serialization.PrivateFormat.PKCS8
    )
    pem = write_pem(tmp_path / "ec.pem", private, fmt)
    name = unique_name("cliimpec")
    bundle = key_json(server, "import", "--vault-name", vault.name, "-n", name, "--pem-file", str(pem))
    assert_key_bundle(bundle, vault, name, "EC")
    assert bundle["key"]["crv"] == curve
    assert len(unb64(bundle["key"]["x"])) == ec_coordinate_size(curve)
    assert ec_public_from_cli(bundle["key"]).public_numbers() == private.public_key().public_numbers()
    assert enum_text(vault.client.get_key(name).key.crv) == curve

    alg = EC_ALGORITHMS[curve]
    digest = digest_for(alg)
    signed = key_json(server, "sign", "--vault-name", vault.name, "-n", name, "-a", alg, "--digest", b64(digest))
    assert signed["keyId"] == bundle["key"]["kid"]
    signature = unb64(signed["signature"])
    assert len(signature) == 2 * ec_coordinate_size(curve), "Key Vault's ECDSA signatures are raw r||s"
    verify_locally(private.public_key(), alg, digest, signature)

    # The vault verifies what the original private key signed here, and refuses a tampered signature.
    local = sign_locally_raw(private, alg, digest)
    verified = key_json(
        server, "verify", "--vault-name", vault.name, "-n", name, "-a", alg, "--digest", b64(digest),
        "--signature", b64(local),
    )  # fmt: skip
    assert verified == {"algorithm": alg, "isValid": True, "keyId": bundle["key"]["kid"]}
    tampered = bytes([local[0] ^ 1]) + local[1:]
    refused = key_json(
        server, "verify", "--vault-name", vault.name, "-n", name, "-a", alg, "--digest", b64(digest),
        "--signature", b64(tampered),
    )  # fmt: skip
    assert refused["isValid"] is False


def test_import_with_attributes_pem_string_and_hsm(
    server: StrongroomServer, vault: KeyVault, premium: KeyVault, tmp_path: Path
):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem_text = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    name = unique_name("clipemstr")
    bundle = key_json(
        server, "import", "--vault-name", vault.name, "-n", name, "--pem-string", pem_text,
        "--ops", "encrypt", "decrypt", "--disabled", "--expires", "2031-02-03T04:05Z",
    )  # fmt: skip
    assert_key_bundle(bundle, vault, name, "RSA")
    assert bundle["key"]["keyOps"] == ["encrypt", "decrypt"]
    assert bundle["attributes"]["enabled"] is False
    assert bundle["attributes"]["expires"] == "2031-02-03T04:05:00+00:00"
    props = vault.client.get_key(name).properties
    assert props.enabled is False
    assert props.expires_on == datetime.datetime(2031, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)

    # -p hsm imports as RSA-HSM on a premium vault, and is refused on a standard one.
    pem = write_pem(tmp_path / "hsm.pem", private, serialization.PrivateFormat.TraditionalOpenSSL)
    hsm_name = unique_name("cliimphsm")
    hsm = key_json(server, "import", "--vault-name", premium.name, "-n", hsm_name, "--pem-file", str(pem), "-p", "hsm")
    assert_key_bundle(hsm, premium, hsm_name, "RSA-HSM")
    assert premium.client.get_key(hsm_name).key_type == KeyType.rsa_hsm
    res = key_cli(
        server, "import", "--vault-name", vault.name, "-n", hsm_name, "--pem-file", str(pem), "-p", "hsm", check=False
    )
    assert_cli_error(res, "Hardware key operation not allowed")

    # An encrypted PEM is refused by the CLI; nothing reaches the vault.
    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pass phrase"),
        )
    )
    refused = unique_name("cliencpem")
    assert_cli_error(
        key_cli(server, "import", "--vault-name", vault.name, "-n", refused, "--pem-file", str(encrypted), check=False),
        "encrypted",
    )
    assert_cli_error(
        key_cli(server, "import", "--vault-name", vault.name, "-n", refused, "--pem-file", str(encrypted),
                "--pem-password", "pass phrase", check=False),
        "--pem-password",
    )  # fmt: skip
    with pytest.raises(ResourceNotFoundError):
        vault.client.get_key(refused)


# --------------------------------------------------------------------------------------------------------------
# show, list, list-versions, set-attributes, rotate


def test_show_list_and_list_versions(server: StrongroomServer, make_key_vault):
    own = make_key_vault("clilist")  # a vault of its own, so the list is exactly known
    names = sorted(unique_name(p) for p in ("alpha", "beta", "gamma"))
    first = {n: key_json(server, "create", "--vault-name", own.name, "-n", n, "--curve", "P-256") for n in names}
    rotated = key_json(server, "rotate", "--vault-name", own.name, "-n", names[0])
    old_kid, new_kid = first[names[0]]["key"]["kid"], rotated["key"]["kid"]
    assert old_kid != new_kid

    shown = key_json(server, "show", "--vault-name", own.name, "-n", names[0])
    assert_key_bundle(shown, own, names[0], "EC")
    assert shown["key"]["kid"] == new_kid, "show without --version prints the latest version"
    old_version = old_kid.rsplit("/", 1)[1]
    by_version = key_json(server, "show", "--vault-name", own.name, "-n", names[0], "--version", old_version)
    assert by_version["key"]["kid"] == old_kid
    assert by_version["key"]["x"] == first[names[0]]["key"]["x"]
    assert by_version["key"]["x"] != shown["key"]["x"], "a rotated version is a new key"

    listed = key_json(server, "list", "--vault-name", own.name)
    assert isinstance(listed, list)
    base = own.url.rstrip("/")
    assert sorted(item["kid"] for item in listed) == [f"{base}/keys/{n}" for n in names]
    for item in listed:
        assert set(item) == LIST_ITEM_FIELDS, sorted(item)
        assert set(item["attributes"]) == ATTRIBUTE_FIELDS
        assert item["name"] == item["kid"].rsplit("/", 1)[1]
        assert item["attributes"]["enabled"] is True
    assert sorted(p.name for p in own.client.list_properties_of_keys()) == names
    assert len(key_json(server, "list", "--vault-name", own.name, "--maxresults", "2")) == 2

    versions = key_json(server, "list-versions", "--vault-name", own.name, "-n", names[0])
    assert sorted(item["kid"] for item in versions) == sorted([old_kid, new_kid])
    assert all(set(item) == LIST_ITEM_FIELDS and item["name"] == names[0] for item in versions)
    assert sorted(p.id for p in own.client.list_properties_of_key_versions(names[0])) == sorted([old_kid, new_kid])
    assert [item["kid"] for item in key_json(server, "list-versions", "--vault-name", own.name, "-n", names[1])] == [
        first[names[1]]["key"]["kid"]
    ]


def test_list_follows_every_page(server: StrongroomServer, make_key_vault):
    own = make_key_vault("clipages")
    # More than one page (the keys API pages at most 25 items), made quickly through the SDK.
    names = sorted(own.client.create_ec_key(unique_name("page"), curve="P-256").name for _ in range(27))
    for _ in range(26):
        own.client.create_ec_key(names[0], curve="P-256")
    listed = key_json(server, "list", "--vault-name", own.name)
    assert sorted(item["name"] for item in listed) == names
    assert len(key_json(server, "list", "--vault-name", own.name, "--maxresults", "26")) == 26
    versions = key_json(server, "list-versions", "--vault-name", own.name, "-n", names[0])
    assert len({item["kid"] for item in versions}) == 27
    assert {item["kid"] for item in versions} == {p.id for p in own.client.list_properties_of_key_versions(names[0])}
    for name in names[1:]:
        own.client.begin_delete_key(name).result()
    deleted = key_json(server, "list-deleted", "--vault-name", own.name)
    assert sorted(item["name"] for item in deleted) == names[1:]
    assert len(key_json(server, "list-deleted", "--vault-name", own.name, "--maxresults", "3")) == 3


def test_set_attributes(server: StrongroomServer, vault: KeyVault):
    name = unique_name("cliattrs")
    created = key_json(server, "create", "--vault-name", vault.name, "-n", name, "--tags", "a=1")
    first_version = created["key"]["kid"].rsplit("/", 1)[1]
    second = key_json(server, "create", "--vault-name", vault.name, "-n", name, "--tags", "a=2")

    updated = key_json(
        server, "set-attributes", "--vault-name", vault.name, "-n", name, "--enabled", "false",
        "--expires", "2033-03-03T03:03:03Z", "--not-before", "2021-01-01T00:00Z", "--ops", "verify",
        "--tags", "b=x", "c",
    )  # fmt: skip
    assert_key_bundle(updated, vault, name, "RSA")
    assert updated["key"]["kid"] == second["key"]["kid"], "without --version the latest version changes"
    assert updated["attributes"]["enabled"] is False
    assert updated["attributes"]["expires"] == "2033-03-03T03:03:03+00:00"
    assert updated["attributes"]["notBefore"] == "2021-01-01T00:00:00+00:00"
    assert updated["key"]["keyOps"] == ["verify"]
    assert updated["tags"] == {"b": "x", "c": ""}
    assert iso(updated["attributes"]["updated"]) >= iso(second["attributes"]["updated"])

    latest = vault.client.get_key(name)
    assert latest.properties.enabled is False
    assert latest.properties.expires_on == datetime.datetime(2033, 3, 3, 3, 3, 3, tzinfo=datetime.timezone.utc)
    assert latest.key_operations == ["verify"]
    assert latest.properties.tags == {"b": "x", "c": ""}
    older = vault.client.get_key(name, first_version)
    assert older.properties.enabled is True and older.properties.tags == {"a": "1"}

    # --version changes only that version; omitted attributes stay as they were.
    only_old = key_json(
        server, "set-attributes", "--vault-name", vault.name, "-n", name, "-v", first_version, "--tags", "old=yes"
    )
    assert only_old["key"]["kid"] == created["key"]["kid"]
    assert only_old["tags"] == {"old": "yes"} and only_old["attributes"]["enabled"] is True
    assert vault.client.get_key(name, first_version).properties.tags == {"old": "yes"}
    assert vault.client.get_key(name).properties.tags == {"b": "x", "c": ""}
    reenabled = key_json(server, "set-attributes", "--vault-name", vault.name, "-n", name, "--enabled", "true")
    assert reenabled["attributes"]["enabled"] is True
    assert reenabled["attributes"]["expires"] == "2033-03-03T03:03:03+00:00"
    assert vault.client.get_key(name).properties.enabled is True


def test_rotate(server: StrongroomServer, vault: KeyVault):
    name = unique_name("clirotate")
    created = key_json(
        server, "create", "--vault-name", vault.name, "-n", name, "--curve", "P-521", "--tags", "keep=me"
    )
    rotated = key_json(server, "rotate", "--vault-name", vault.name, "-n", name)
    assert_key_bundle(rotated, vault, name, "EC")
    assert rotated["key"]["kid"] != created["key"]["kid"]
    assert rotated["key"]["crv"] == "P-521" and rotated["key"]["x"] != created["key"]["x"]
    assert rotated["tags"] == {"keep": "me"}
    assert vault.client.get_key(name).id == rotated["key"]["kid"]
    assert len(list(vault.client.list_properties_of_key_versions(name))) == 2


def test_rotation_policy_update_and_show(server: StrongroomServer, vault: KeyVault, tmp_path: Path):
    name = unique_name("clipolicy")
    key_json(server, "create", "--vault-name", vault.name, "-n", name)
    base = vault.url.rstrip("/")
    default = key_json(server, "rotation-policy", "show", "--vault-name", vault.name, "-n", name)
    assert set(default) == {"createdOn", "expiresIn", "id", "lifetimeActions", "updatedOn"}
    assert default["id"] == f"{base}/keys/{name}/rotationpolicy"

    updated = key_json(
        server,
        "rotation-policy",
        "update",
        "--vault-name",
        vault.name,
        "-n",
        name,
        "--value",
        json.dumps(ROTATION_POLICY),
    )
    expected_actions = [
        {"action": "Rotate", "timeAfterCreate": "P90D", "timeBeforeExpiry": None},
        {"action": "Notify", "timeAfterCreate": None, "timeBeforeExpiry": "P30D"},
    ]
    assert updated["lifetimeActions"] == expected_actions
    assert updated["expiresIn"] == "P2Y"
    assert updated["id"] == f"{base}/keys/{name}/rotationpolicy"
    iso(updated["createdOn"])
    iso(updated["updatedOn"])
    shown = key_json(server, "rotation-policy", "show", "--vault-name", vault.name, "-n", name)
    assert shown == updated

    sdk = vault.client.get_key_rotation_policy(name)
    assert sdk.expires_in == "P2Y"
    assert sorted((enum_text(a.action), a.time_after_create, a.time_before_expiry) for a in sdk.lifetime_actions) == [
        ("Notify", None, "P30D"),
        ("Rotate", "P90D", None),
    ]

    # A file in az's snake_case spelling replaces it.
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps({"lifetime_actions": [{"action": "rotate", "time_after_create": "P30D"}], "expires_in": "P1Y"})
    )
    from_file = key_json(
        server, "rotation-policy", "update", "--vault-name", vault.name, "-n", name, "--value", str(path)
    )
    assert from_file["lifetimeActions"] == [{"action": "Rotate", "timeAfterCreate": "P30D", "timeBeforeExpiry": None}]
    assert from_file["expiresIn"] == "P1Y"
    sdk = vault.client.get_key_rotation_policy(name)
    assert sdk.expires_in == "P1Y"
    assert [(enum_text(a.action), a.time_after_create) for a in sdk.lifetime_actions] == [("Rotate", "P30D")]

    res = key_cli(
        server, "rotation-policy", "update", "--vault-name", vault.name, "-n", name, "--value", "{}", check=False
    )
    assert_cli_error(res, "valid policy")
    assert vault.client.get_key_rotation_policy(name).expires_in == "P1Y"


# --------------------------------------------------------------------------------------------------------------
# delete, list-deleted, show-deleted, recover, purge; backup and restore


def test_delete_recover_and_purge(server: StrongroomServer, make_key_vault):
    own = make_key_vault("clideleted")
    base = own.url.rstrip("/")
    name, other = unique_name("clidel"), unique_name("clikeep")
    created = key_json(server, "create", "--vault-name", own.name, "-n", name, "--tags", "t=1")
    key_json(server, "create", "--vault-name", own.name, "-n", other)

    deleted = key_json(server, "delete", "--vault-name", own.name, "-n", name)
    assert set(deleted) == BUNDLE_FIELDS | DELETED_FIELDS
    assert_key_bundle(deleted, own, name, "RSA")
    assert deleted["key"]["kid"] == created["key"]["kid"]
    assert deleted["recoveryId"] == f"{base}/deletedkeys/{name}"
    deleted_on, purge_on = iso(deleted["deletedDate"]), iso(deleted["scheduledPurgeDate"])
    assert purge_on - deleted_on == datetime.timedelta(days=90)
    assert_cli_error(key_cli(server, "show", "--vault-name", own.name, "-n", name, check=False), "(KeyNotFound)")
    assert [item["name"] for item in key_json(server, "list", "--vault-name", own.name)] == [other]

    listed = key_json(server, "list-deleted", "--vault-name", own.name)
    assert [item["name"] for item in listed] == [name]
    (item,) = listed
    assert set(item) == LIST_ITEM_FIELDS | DELETED_FIELDS
    assert item["kid"] == f"{base}/keys/{name}"
    assert item["recoveryId"] == deleted["recoveryId"] and item["deletedDate"] == deleted["deletedDate"]
    assert item["tags"] == {"t": "1"}

    shown = key_json(server, "show-deleted", "--vault-name", own.name, "-n", name)
    assert shown["key"]["kid"] == created["key"]["kid"] and shown["recoveryId"] == deleted["recoveryId"]
    sdk_deleted = own.client.get_deleted_key(name)
    assert sdk_deleted.id == created["key"]["kid"]
    assert sdk_deleted.deleted_date == deleted_on and sdk_deleted.scheduled_purge_date == purge_on

    recovered = key_json(server, "recover", "--vault-name", own.name, "-n", name)
    assert set(recovered) == BUNDLE_FIELDS
    assert recovered["key"]["kid"] == created["key"]["kid"]
    assert recovered["key"]["n"] == created["key"]["n"]
    assert own.client.get_key(name).id == created["key"]["kid"]
    assert key_json(server, "list-deleted", "--vault-name", own.name) == []

    key_json(server, "delete", "--vault-name", own.name, "-n", name)
    purged = key_cli(server, "purge", "--vault-name", own.name, "-n", name)
    assert purged.returncode == 0 and purged.stdout == "", "purge prints nothing, as az"
    assert_cli_error(
        key_cli(server, "show-deleted", "--vault-name", own.name, "-n", name, check=False), "(KeyNotFound)"
    )
    assert key_json(server, "list-deleted", "--vault-name", own.name) == []
    with pytest.raises(ResourceNotFoundError):
        own.client.get_deleted_key(name)
    assert_cli_error(key_cli(server, "recover", "--vault-name", own.name, "-n", name, check=False), "(KeyNotFound)")
    # Purging a key that is not deleted is an error, too.
    assert_cli_error(key_cli(server, "purge", "--vault-name", own.name, "-n", other, check=False))
    assert own.client.get_key(other).name == other


def test_backup_and_restore_into_another_vault(
    server: StrongroomServer, vault: KeyVault, make_key_vault, tmp_path: Path, credential
):
    name = unique_name("clibackup")
    first = key_json(server, "create", "--vault-name", vault.name, "-n", name, "--curve", "P-256", "--tags", "b=1")
    second = key_json(server, "rotate", "--vault-name", vault.name, "-n", name)
    blob = tmp_path / "key.blob"
    res = key_cli(server, "backup", "--vault-name", vault.name, "-n", name, "--file", str(blob))
    assert res.returncode == 0 and res.stdout == "", "backup prints nothing, as az"
    data = blob.read_bytes()
    assert len(data) > 64
    # A protected blob: the key material is not in it in the clear, raw or base64url.
    for coordinate in (first["key"]["x"], second["key"]["y"]):
        assert unb64(coordinate) not in data
        assert base64.urlsafe_b64encode(unb64(coordinate)).rstrip(b"=") not in data

    # The same key exists in the source vault: restoring there is a conflict.
    assert_cli_error(
        key_cli(server, "restore", "--vault-name", vault.name, "--file", str(blob), check=False), "(Conflict)"
    )

    target = make_key_vault("clirestore")
    restored = key_json(server, "restore", "--vault-name", target.name, "-f", str(blob))
    assert_key_bundle(restored, target, name, "EC")
    # Same versions, same key material, same tags; only the vault differs.
    assert restored["key"]["kid"].rsplit("/", 1)[1] == second["key"]["kid"].rsplit("/", 1)[1]
    assert (restored["key"]["x"], restored["key"]["y"]) == (second["key"]["x"], second["key"]["y"])
    assert restored["tags"] == {"b": "1"}
    versions = key_json(server, "list-versions", "--vault-name", target.name, "-n", name)
    assert sorted(v["kid"].rsplit("/", 1)[1] for v in versions) == sorted(
        b["key"]["kid"].rsplit("/", 1)[1] for b in (first, second)
    )
    assert KeyClient(target.url, credential).get_key(name).key.x == unb64(second["key"]["x"])

    # The restored private key signs in the second vault; the first vault's public key verifies.
    digest = digest_for("ES256")
    signed = key_json(server, "sign", "--vault-name", target.name, "-n", name, "-a", "ES256", "--digest", b64(digest))
    assert signed["keyId"].startswith(target.url.rstrip("/") + "/keys/")
    verify_locally(public_key_from_jwk(vault.client.get_key(name).key), "ES256", digest, unb64(signed["signature"]))

    # A file that is not a backup is refused.
    junk = tmp_path / "junk.blob"
    junk.write_bytes(b"not a backup at all")
    assert_cli_error(key_cli(server, "restore", "--vault-name", target.name, "-f", str(junk), check=False))
    assert_cli_error(
        key_cli(server, "restore", "--vault-name", target.name, "-f", str(tmp_path / "missing.blob"), check=False)
    )


def test_hsm_key_backup_restores_only_into_a_premium_vault(
    server: StrongroomServer, premium: KeyVault, vault: KeyVault, make_key_vault, tmp_path: Path
):
    name = unique_name("clihsmbackup")
    created = key_json(server, "create", "--vault-name", premium.name, "-n", name, "--kty", "RSA-HSM")
    blob = tmp_path / "hsm.blob"
    key_cli(server, "backup", "--vault-name", premium.name, "-n", name, "-f", str(blob))
    # A standard vault cannot hold an HSM key, whether created, imported or restored.
    res = key_cli(server, "restore", "--vault-name", vault.name, "-f", str(blob), check=False)
    assert_cli_error(res, "(BadParameter)", "Hardware key operation not allowed on standard vault")
    with pytest.raises(ResourceNotFoundError):
        vault.client.get_key(name)
    other_premium = make_key_vault("clihsmrestore", sku="premium")
    restored = key_json(server, "restore", "--vault-name", other_premium.name, "-f", str(blob))
    assert_key_bundle(restored, other_premium, name, "RSA-HSM")
    assert restored["key"]["n"] == created["key"]["n"]


# --------------------------------------------------------------------------------------------------------------
# encrypt, decrypt, sign, verify, random


def test_encrypt_decrypt_round_trip(server: StrongroomServer, vault: KeyVault, remote_crypto):
    name = unique_name("clicrypt")
    kid = key_json(server, "create", "--vault-name", vault.name, "-n", name)["key"]["kid"]
    text = "plain text with ünïcödé, 'quotes' and $dollar"
    sealed = key_json(
        server, "encrypt", "--vault-name", vault.name, "-n", name, "-a", "RSA-OAEP-256", "--value", text,
        "--data-type", "plaintext",
    )  # fmt: skip
    assert set(sealed) == {"aad", "algorithm", "iv", "kid", "result", "tag"}
    assert sealed["kid"] == kid and sealed["algorithm"] == "RSA-OAEP-256"
    assert sealed["iv"] is None and sealed["tag"] is None and sealed["aad"] is None
    assert len(unb64(sealed["result"])) == 256
    opened = key_json(
        server, "decrypt", "--vault-name", vault.name, "-n", name, "-a", "RSA-OAEP-256", "--value", sealed["result"],
        "--data-type", "plaintext",
    )  # fmt: skip
    assert opened == {"algorithm": "RSA-OAEP-256", "kid": kid, "result": text}
    as_base64 = key_json(
        server, "decrypt", "--vault-name", vault.name, "-n", name, "-a", "RSA-OAEP-256", "--value", sealed["result"]
    )
    assert unb64(as_base64["result"]) == text.encode()

    # The vault itself (through the SDK) opens what the CLI sealed.
    crypto, wire = remote_crypto(kid)
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, unb64(sealed["result"])).plaintext == text.encode()
    wire.assert_served("decrypt")

    # --data-type base64 (the default): arbitrary bytes, with an explicit --version.
    version = kid.rsplit("/", 1)[1]
    binary = b"\xff\xfe" + os.urandom(98)  # never UTF-8
    sealed_b64 = key_json(
        server,
        "encrypt",
        "--vault-name",
        vault.name,
        "-n",
        name,
        "-v",
        version,
        "-a",
        "RSA-OAEP",
        "--value",
        b64(binary),
    )
    assert sealed_b64["kid"] == kid
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep, unb64(sealed_b64["result"])).plaintext == binary
    reopened = key_json(
        server, "decrypt", "--vault-name", vault.name, "-n", name, "-a", "RSA-OAEP", "--value", sealed_b64["result"],
        "--data-type", "base64",
    )  # fmt: skip
    assert unb64(reopened["result"]) == binary
    # Bytes that are not text cannot be printed as plaintext: a clean error, not mojibake.
    assert_cli_error(
        key_cli(server, "decrypt", "--vault-name", vault.name, "-n", name, "-a", "RSA-OAEP",
                "--value", sealed_b64["result"], "--data-type", "plaintext", check=False),
        "UTF-8",
    )  # fmt: skip
    # A ciphertext the key did not make.
    assert_cli_error(
        key_cli(server, "decrypt", "--vault-name", vault.name, "-n", name, "-a", "RSA-OAEP-256",
                "--value", b64(bytes(256)), check=False)
    )  # fmt: skip
    assert_cli_error(
        key_cli(
            server,
            "encrypt",
            "--vault-name",
            vault.name,
            "-n",
            name,
            "-a",
            "RSA-OAEP",
            "--value",
            "not base64!",
            check=False,
        ),
        "base64",
    )


def test_aes_encrypt_decrypt_on_premium(server: StrongroomServer, premium: KeyVault, remote_crypto):
    name = unique_name("cliaes")
    kid = key_json(server, "create", "--vault-name", premium.name, "-n", name, "--kty", "oct-HSM", "--size", "256")[
        "key"
    ]["kid"]
    # GCM: the vault picks the IV; iv, tag and aad come back as hex, and decrypt takes them so.
    sealed = key_json(
        server, "encrypt", "--vault-name", premium.name, "-n", name, "-a", "A256GCM", "--value", "gcm text",
        "--data-type", "plaintext", "--aad", "0102abcd",
    )  # fmt: skip
    assert sealed["kid"] == kid and sealed["aad"] == "0102abcd"
    assert len(bytes.fromhex(sealed["iv"])) == 12 and len(bytes.fromhex(sealed["tag"])) == 16
    crypto, wire = remote_crypto(kid)
    sdk_plain = crypto.decrypt(
        EncryptionAlgorithm.a256_gcm,
        unb64(sealed["result"]),
        iv=bytes.fromhex(sealed["iv"]),
        authentication_tag=bytes.fromhex(sealed["tag"]),
        additional_authenticated_data=bytes.fromhex("0102abcd"),
    ).plaintext
    assert sdk_plain == b"gcm text"
    wire.assert_served("decrypt")
    opened = key_json(
        server, "decrypt", "--vault-name", premium.name, "-n", name, "-a", "A256GCM", "--value", sealed["result"],
        "--iv", sealed["iv"], "--tag", sealed["tag"], "--aad", "0102abcd", "--data-type", "plaintext",
    )  # fmt: skip
    assert opened["result"] == "gcm text"
    wrong_aad = key_cli(
        server, "decrypt", "--vault-name", premium.name, "-n", name, "-a", "A256GCM", "--value", sealed["result"],
        "--iv", sealed["iv"], "--tag", sealed["tag"], "--aad", "ff", check=False,
    )  # fmt: skip
    assert_cli_error(wrong_aad)

    # CBC with padding: the caller's IV (hex) is used and printed back.
    iv = "000102030405060708090a0b0c0d0e0f"
    cbc = key_json(
        server, "encrypt", "--vault-name", premium.name, "-n", name, "-a", "A256CBCPAD", "--value", b64(b"cbc bytes"),
        "--iv", iv,
    )  # fmt: skip
    assert cbc["iv"] == iv and cbc["tag"] is None
    assert len(unb64(cbc["result"])) == 16
    back = key_json(
        server, "decrypt", "--vault-name", premium.name, "-n", name, "-a", "A256CBCPAD", "--value", cbc["result"],
        "--iv", iv,
    )  # fmt: skip
    assert unb64(back["result"]) == b"cbc bytes"
    assert_cli_error(
        key_cli(server, "encrypt", "--vault-name", premium.name, "-n", name, "-a", "A256CBCPAD", "--value", "AA==",
                "--iv", "xyz", check=False),
        "--iv",
    )  # fmt: skip


def test_sign_and_verify(server: StrongroomServer, vault: KeyVault, remote_crypto):
    name = unique_name("clisign")
    created = key_json(server, "create", "--vault-name", vault.name, "-n", name, "--curve", "P-384")
    kid = created["key"]["kid"]
    digest = digest_for("ES384")
    signed = key_json(server, "sign", "--vault-name", vault.name, "-n", name, "-a", "ES384", "--digest", b64(digest))
    assert signed["algorithm"] == "ES384" and signed["keyId"] == kid
    signature = unb64(signed["signature"])
    verify_locally(ec_public_from_cli(created["key"]), "ES384", digest, signature)

    verified = key_json(
        server, "verify", "--vault-name", vault.name, "-n", name, "-a", "ES384", "--digest", b64(digest),
        "--signature", signed["signature"],
    )  # fmt: skip
    assert set(verified) == {"algorithm", "isValid", "keyId"}
    assert verified == {"algorithm": "ES384", "isValid": True, "keyId": kid}
    other = digest_for("ES384", b"a different message")
    assert key_json(
        server, "verify", "--vault-name", vault.name, "-n", name, "-a", "ES384", "--digest", b64(other),
        "--signature", signed["signature"],
    )["isValid"] is False  # fmt: skip

    # The vault, through the SDK, agrees both ways.
    crypto, wire = remote_crypto(kid)
    assert crypto.verify(SignatureAlgorithm.es384, digest, signature).is_valid is True
    wire.assert_served("verify")
    sdk_signature = crypto.sign(SignatureAlgorithm.es384, other).signature
    assert key_json(
        server, "verify", "--vault-name", vault.name, "-n", name, "-a", "ES384", "--digest", b64(other),
        "--signature", b64(sdk_signature),
    )["isValid"] is True  # fmt: skip

    # A digest of the wrong length for the algorithm, and a key that may not sign.
    assert_cli_error(
        key_cli(
            server,
            "sign",
            "--vault-name",
            vault.name,
            "-n",
            name,
            "-a",
            "ES384",
            "--digest",
            b64(bytes(32)),
            check=False,
        )
    )
    enc_only = unique_name("clienconly")
    key_json(server, "create", "--vault-name", vault.name, "-n", enc_only, "--ops", "encrypt", "decrypt")
    assert_cli_error(
        key_cli(server, "sign", "--vault-name", vault.name, "-n", enc_only, "-a", "RS256", "--digest",
                b64(digest_for("RS256")), check=False),
        "sign",
    )  # fmt: skip


def test_random(server: StrongroomServer, vault: KeyVault):
    seen = set()
    for count in (1, 32, 128):
        res = key_json(server, "random", "--vault-name", vault.name, "--count", str(count))
        assert set(res) == {"value"}
        value = unb64(res["value"])
        assert len(value) == count
        seen.add(value)
    again = unb64(key_json(server, "random", "--vault-name", vault.name, "--count", "128")["value"])
    assert again not in seen, "two 128-byte draws were equal"
    for bad in ("0", "129"):
        assert_cli_error(key_cli(server, "random", "--vault-name", vault.name, "--count", bad, check=False), "count")


# --------------------------------------------------------------------------------------------------------------
# set-policy --key-permissions, then the principal's own credential


def test_set_policy_key_permissions_sign_only(server: StrongroomServer, vault: KeyVault, remote_crypto):
    name = unique_name("clisigner")
    created = key_json(server, "create", "--vault-name", vault.name, "-n", name)
    kid = created["key"]["kid"]
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("clikeysp"))
    updated = assert_az_json(
        server.cli("keyvault", "set-policy", "--name", vault.name, "--spn", sp["appId"], "--key-permissions", "SIGN")
    )
    granted = [p for p in updated["properties"]["accessPolicies"] if p["permissions"]["keys"] == ["sign"]]
    assert len(granted) == 1, updated["properties"]["accessPolicies"]
    assert granted[0]["permissions"]["secrets"] == []

    credential = ClientSecretCredential("adfs", sp["appId"], sp["password"], authority=server.authority_host)
    crypto, wire = remote_crypto(kid, credential)
    digest = digest_for("RS256")
    signature = crypto.sign(SignatureAlgorithm.rs256, digest).signature
    wire.assert_served("sign")
    verify_locally(rsa_public_from_cli(created["key"]), "RS256", digest, signature)

    sealed = key_json(server, "encrypt", "--vault-name", vault.name, "-n", name, "-a", "RSA-OAEP", "--value", b64(b"x"))
    with pytest.raises(HttpResponseError) as caught:
        crypto.decrypt(EncryptionAlgorithm.rsa_oaep, unb64(sealed["result"]))
    assert_http_error(caught.value, 403, code="Forbidden", message_contains="does not have keys decrypt permission")
    with pytest.raises(HttpResponseError) as caught:
        KeyClient(vault.url, credential).get_key(name)
    assert_http_error(caught.value, 403, code="Forbidden", message_contains="does not have keys get permission")

    # `all` grants the rest, decrypt included.
    server.cli_json("keyvault", "set-policy", "--name", vault.name, "--spn", sp["appId"], "--key-permissions", "all")
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep, unb64(sealed["result"])).plaintext == b"x"


# --------------------------------------------------------------------------------------------------------------
# errors


def test_errors_are_one_line_and_exit_1(server: StrongroomServer, vault: KeyVault, tmp_path: Path):
    missing = unique_name("climissing")
    line = assert_cli_error(
        key_cli(server, "show", "--vault-name", vault.name, "-n", missing, check=False), "(KeyNotFound)"
    )
    assert missing in line
    # As Azure: the versions of a key that never existed are an empty list, not an error.
    assert key_json(server, "list-versions", "--vault-name", vault.name, "-n", missing) == []
    for command in (
        ("delete", "--vault-name", vault.name, "-n", missing),
        ("show-deleted", "--vault-name", vault.name, "-n", missing),
        ("rotate", "--vault-name", vault.name, "-n", missing),
        ("backup", "--vault-name", vault.name, "-n", missing, "-f", str(tmp_path / "never.blob")),
        ("sign", "--vault-name", vault.name, "-n", missing, "-a", "RS256", "--digest", b64(bytes(32))),
        ("encrypt", "--vault-name", vault.name, "-n", missing, "-a", "RSA-OAEP", "--value", "AA=="),
    ):
        assert_cli_error(key_cli(server, *command, check=False), "(KeyNotFound)")
    assert not (tmp_path / "never.blob").exists()
    assert_cli_error(key_cli(server, "list", "--vault-name", unique_name("clinovault"), check=False), "(VaultNotFound)")
    assert_cli_error(
        key_cli(
            server,
            "import",
            "--vault-name",
            vault.name,
            "-n",
            missing,
            "--pem-file",
            str(tmp_path / "no.pem"),
            check=False,
        )
    )
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("this is not a key\n")
    assert_cli_error(
        key_cli(server, "import", "--vault-name", vault.name, "-n", missing, "--pem-file", str(not_pem), check=False),
        "Import failed",
    )
    assert_cli_error(
        key_cli(server, "create", "--vault-name", vault.name, "-n", "bad_name", check=False), "(BadParameter)"
    )
    assert_cli_error(
        key_cli(
            server, "sign", "--vault-name", vault.name, "-n", missing, "-a", "RS256", "--digest", "%%%", check=False
        ),
        "--digest",
    )
    with pytest.raises(ResourceNotFoundError):
        vault.client.get_key(missing)
