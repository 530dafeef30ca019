"""Certificate import through `CertificateClient.import_certificate`: PFX with and without a password (modern and
legacy encryption, as `cryptography` writes them), PEM with PKCS#8, PKCS#1 and SEC1 keys, chains in any order, and
the refusals (no private key, wrong password, garbage). The stored secret keeps the key and chain without the
password, in the format the policy names; the key is a managed key the Keys API can sign with.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.certificates import CertificateClient, CertificateContentType, CertificatePolicy
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from kv_errors import assert_http_error
from strongroom_server import StrongroomServer, unique_name

DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM


@dataclass
class CertVault:
    url: str
    certs: CertificateClient
    keys: KeyClient
    secrets: SecretClient


@pytest.fixture(scope="module")
def vault(server: StrongroomServer, credential) -> CertVault:
    url = str(server.create_vault("certimport")["properties"]["vaultUri"])
    return CertVault(url, CertificateClient(url, credential), KeyClient(url, credential), SecretClient(url, credential))


@dataclass
class Chain:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    leaf: x509.Certificate
    ca: x509.Certificate


def make_chain(key, subject: str = "imported.example") -> Chain:
    """A leaf for `key`, signed by a throwaway CA."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Import Test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return Chain(key, leaf, ca)


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_der(key) -> bytes:
    return key.public_key().public_bytes(DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_imported(vault: CertVault, name: str, chain: Chain, content_type: str) -> None:
    """The certificate, its managed key (which signs) and its secret (key + chain, no password)."""
    cert = vault.certs.get_certificate(name)
    assert bytes(cert.cer) == chain.leaf.public_bytes(DER)
    assert cert.policy.issuer_name == "Unknown"
    assert cert.policy.subject == chain.leaf.subject.rfc4514_string()
    assert cert.policy.san_dns_names == [chain.leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value]
    assert cert.properties.expires_on == chain.leaf.not_valid_after_utc

    secret = vault.secrets.get_secret(name)
    assert secret.properties.content_type == content_type and secret.properties.managed is True
    if content_type == CertificateContentType.pkcs12:
        private, leaf, cas = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
        assert leaf == chain.leaf and cas == [chain.ca]
    else:
        private = serialization.load_pem_private_key(secret.value.encode(), None)
        assert x509.load_pem_x509_certificates(secret.value.encode()) == [chain.leaf, chain.ca]
    assert public_der(private) == public_der(chain.key)

    key = vault.keys.get_key(name)
    assert key.id == cert.key_id and key.properties.managed is True
    # The managed key signs (in the vault), and the imported key's public half verifies it.
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"imported")
    crypto = CryptographyClient(key.id, vault.certs._client._config.credential)
    if isinstance(chain.key, rsa.RSAPrivateKey):
        signature = crypto.sign(SignatureAlgorithm.rs256, digest.finalize()).signature
        chain.key.public_key().verify(signature, b"imported", padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = crypto.sign(SignatureAlgorithm.es256, digest.finalize()).signature
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        chain.key.public_key().verify(encode_dss_signature(r, s), b"imported", ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize(
    "label, encryption",
    [
        ("no-password", None),
        ("modern", "modern"),
        ("legacy", "legacy"),
    ],
)
def test_import_pfx(vault: CertVault, label: str, encryption: str | None) -> None:
    chain = make_chain(rsa_key())
    password = b"pfx-pass-123"
    if encryption is None:
        algorithm = serialization.NoEncryption()
        pwd = None
    elif encryption == "modern":
        algorithm = serialization.BestAvailableEncryption(password)
        pwd = password.decode()
    else:
        algorithm = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())
            .build(password)
        )
        pwd = password.decode()
    pfx = pkcs12.serialize_key_and_certificates(b"friendly", chain.key, chain.leaf, [chain.ca], algorithm)
    name = unique_name(f"pfx-{label}")
    imported = vault.certs.import_certificate(name, pfx, password=pwd)
    assert bytes(imported.cer) == chain.leaf.public_bytes(DER)
    check_imported(vault, name, chain, CertificateContentType.pkcs12)


@pytest.mark.parametrize("key_format", ["pkcs8-rsa", "pkcs1-rsa", "sec1-ec", "pkcs8-ec"])
def test_import_pem(vault: CertVault, key_format: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1()) if key_format.endswith("ec") else rsa_key()
    private_format = (
        serialization.PrivateFormat.PKCS8
        if key_format.startswith("pkcs8")
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    chain = make_chain(key)
    key_pem = key.private_bytes(PEM, private_format, serialization.NoEncryption())
    assert (b"BEGIN PRIVATE KEY" in key_pem) == key_format.startswith("pkcs8")
    # The chain first, then the key, then the leaf: the key decides which certificate is the leaf.
    pem = chain.ca.public_bytes(PEM) + key_pem + chain.leaf.public_bytes(PEM)
    name = unique_name(f"pem-{key_format}")
    policy = CertificatePolicy(issuer_name="Unknown", content_type=CertificateContentType.pem)
    vault.certs.import_certificate(name, pem, policy=policy)
    check_imported(vault, name, chain, CertificateContentType.pem)


def test_import_refusals(vault: CertVault) -> None:
    chain = make_chain(rsa_key())
    pem_policy = CertificatePolicy(issuer_name="Unknown", content_type=CertificateContentType.pem)

    # AZURE-ERRORS.md 6.15.
    with pytest.raises(HttpResponseError) as err:
        vault.certs.import_certificate(unique_name("nokey"), chain.leaf.public_bytes(PEM), policy=pem_policy)
    assert_http_error(err.value, 400, "BadParameter", message_contains="Private key is not specified")

    pfx = pkcs12.serialize_key_and_certificates(
        None, chain.key, chain.leaf, None, serialization.BestAvailableEncryption(b"right")
    )
    with pytest.raises(HttpResponseError) as err:
        vault.certs.import_certificate(unique_name("wrongpwd"), pfx, password="wrong")
    assert_http_error(err.value, 400, "BadParameter", message_contains="PKCS#12")

    with pytest.raises(HttpResponseError) as err:
        vault.certs.import_certificate(unique_name("garbage"), b"\x30\x82garbage")
    assert_http_error(err.value, 400, "BadParameter")

    # A key that the certificate does not certify.
    stranger = rsa_key().private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(HttpResponseError) as err:
        vault.certs.import_certificate(
            unique_name("mismatch"), stranger + chain.leaf.public_bytes(PEM), policy=pem_policy
        )
    assert_http_error(err.value, 400, "BadParameter")


def test_an_import_adds_a_version_and_keeps_the_policy(vault: CertVault) -> None:
    name = unique_name("reimport")
    first = make_chain(rsa_key())
    vault.certs.import_certificate(
        name, pkcs12.serialize_key_and_certificates(None, first.key, first.leaf, [first.ca], serialization.NoEncryption())
    )
    second = make_chain(ec.generate_private_key(ec.SECP256R1()), subject="second.example")
    vault.certs.import_certificate(
        name,
        pkcs12.serialize_key_and_certificates(None, second.key, second.leaf, [second.ca], serialization.NoEncryption()),
    )
    versions = list(vault.certs.list_properties_of_certificate_versions(name))
    assert len(versions) == 2
    current = vault.certs.get_certificate(name)
    assert bytes(current.cer) == second.leaf.public_bytes(DER)
    assert current.policy.key_type == "EC" and current.policy.subject == "CN=second.example"
    check_imported(vault, name, second, CertificateContentType.pkcs12)
