"""The Certificates API through Microsoft's `azure-keyvault-certificates` `CertificateClient`.

Issuance (the default policy, EC and PEM policies, the deployment CA), the long-running create and its pending
operation, the `Unknown` issuer's CSR and merge, cancel and delete of the operation, get/list/versions/update and the
policy, and soft delete / recover / purge moving certificate, key and secret together. Every certificate is checked
as X.509 with `cryptography`, and its key and secret through the Keys and Secrets SDKs: the key is a managed key the
Keys API can use, the secret a PFX (base64, no password) or PEM with the private key and the chain. Import (PFX and
PEM) is in test_certificates_import.py.
"""

from __future__ import annotations

import base64
import datetime
import time
from dataclasses import dataclass

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.certificates import (
    CertificateClient,
    CertificatePolicy,
    CertificateContentType,
    KeyVaultCertificate,
    LifetimeAction,
    CertificatePolicyAction,
    WellKnownIssuerNames,
)
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kv_errors import assert_http_error
from strongroom_server import StrongroomServer, unique_name

# The create poller polls every 5 s; a create that completes on the first /pending GET never makes it sleep.
POLLER_NO_SLEEP_S = 4.5


@dataclass
class CertVault:
    name: str
    url: str
    certs: CertificateClient
    keys: KeyClient
    secrets: SecretClient


@pytest.fixture(scope="module")
def vault(server: StrongroomServer, credential) -> CertVault:
    resource = server.create_vault("certs")
    url = str(resource["properties"]["vaultUri"])
    return CertVault(
        str(resource["name"]),
        url,
        CertificateClient(url, credential),
        KeyClient(url, credential),
        SecretClient(url, credential),
    )


def load_secret_pfx(value: str):
    """The PFX a PKCS#12 certificate secret holds: base64, no password."""
    return pkcs12.load_key_and_certificates(base64.b64decode(value), None)


def public_der(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def cert_public_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def create(vault: CertVault, name: str, policy: CertificatePolicy, **kwargs) -> KeyVaultCertificate:
    started = time.monotonic()
    result = vault.certs.begin_create_certificate(name, policy, **kwargs).result()
    assert time.monotonic() - started < POLLER_NO_SLEEP_S, "the first /pending GET must already say completed"
    assert isinstance(result, KeyVaultCertificate), result
    return result


def test_default_policy_issues_a_self_signed_certificate_with_its_key_and_pfx_secret(vault: CertVault) -> None:
    name = unique_name("default")
    cert = create(vault, name, CertificatePolicy.get_default())

    assert cert.name == name and cert.id == f"{vault.url.rstrip('/')}/certificates/{name}/{cert.properties.version}"
    x = x509.load_der_x509_certificate(bytes(cert.cer))
    assert x.subject.rfc4514_string() == "CN=DefaultPolicy"
    assert x.issuer == x.subject, "Self issuer: self-signed"
    x.verify_directly_issued_by(x)
    assert isinstance(x.public_key(), rsa.RSAPublicKey) and x.public_key().key_size == 2048
    assert cert.properties.x509_thumbprint == x.fingerprint(hashes.SHA1())
    validity = x.not_valid_after_utc - x.not_valid_before_utc
    assert datetime.timedelta(days=360) <= validity <= datetime.timedelta(days=370), validity
    assert cert.properties.not_before == x.not_valid_before_utc
    assert cert.properties.expires_on == x.not_valid_after_utc
    ekus = x.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(ekus) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]

    # The defaults Key Vault fills in for the SDK's minimal policy.
    policy = cert.policy
    assert policy is not None
    assert (policy.key_type, policy.key_size, policy.exportable, policy.reuse_key) == ("RSA", 2048, True, False)
    assert policy.content_type == CertificateContentType.pkcs12
    assert policy.validity_in_months == 12
    assert policy.issuer_name == "Self"
    assert [(a.action, a.lifetime_percentage) for a in policy.lifetime_actions] == [
        (CertificatePolicyAction.auto_renew, 80)
    ]

    # The key: a managed key of the same version, usable through the Keys API.
    key = vault.keys.get_key(name)
    assert key.id == cert.key_id and key.properties.version == cert.properties.version
    assert key.properties.managed is True
    numbers = x.public_key().public_numbers()
    assert int.from_bytes(key.key.n, "big") == numbers.n and int.from_bytes(key.key.e, "big") == numbers.e
    crypto = CryptographyClient(key.id, vault.certs._client._config.credential)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"signed by the certificate's key")
    signed = crypto.sign(SignatureAlgorithm.rs256, digest.finalize())
    x.public_key().verify(signed.signature, b"signed by the certificate's key", padding.PKCS1v15(), hashes.SHA256())

    # The secret: a password-less PFX with the private key and the certificate.
    secret = vault.secrets.get_secret(name)
    assert secret.id == cert.secret_id and secret.properties.managed is True
    assert secret.properties.content_type == "application/x-pkcs12"
    assert secret.properties.key_id == cert.key_id
    private, leaf, chain = load_secret_pfx(secret.value)
    assert leaf.public_bytes(serialization.Encoding.DER) == bytes(cert.cer)
    assert public_der(private) == cert_public_der(x)
    assert chain == []


def test_ec_pem_policy_with_names_usages_and_tags(vault: CertVault) -> None:
    name = unique_name("ecpem")
    policy = CertificatePolicy(
        issuer_name=WellKnownIssuerNames.self,
        subject="CN=app.example, O=Contoso",
        san_dns_names=["app.example", "www.app.example"],
        san_emails=["ops@app.example"],
        key_type="EC",
        key_curve_name="P-384",
        exportable=True,
        reuse_key=False,
        content_type=CertificateContentType.pem,
        key_usage=["digitalSignature"],
        enhanced_key_usage=["1.3.6.1.5.5.7.3.1"],
        validity_in_months=3,
        lifetime_actions=[LifetimeAction(action=CertificatePolicyAction.auto_renew, days_before_expiry=30)],
    )
    cert = create(vault, name, policy, tags={"env": "test"})
    x = x509.load_der_x509_certificate(bytes(cert.cer))
    assert x.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "app.example"
    assert x.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Contoso"
    sans = x.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["app.example", "www.app.example"]
    assert sans.get_values_for_type(x509.RFC822Name) == ["ops@app.example"]
    assert isinstance(x.public_key(), ec.EllipticCurvePublicKey) and x.public_key().curve.name == "secp384r1"
    usage = x.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_encipherment
    assert cert.properties.tags == {"env": "test"}
    assert cert.policy.key_curve_name == "P-384"
    assert cert.policy.san_dns_names == ["app.example", "www.app.example"]
    assert [(a.action, a.days_before_expiry) for a in cert.policy.lifetime_actions] == [
        (CertificatePolicyAction.auto_renew, 30)
    ]

    secret = vault.secrets.get_secret(name)
    assert secret.properties.content_type == "application/x-pem-file"
    assert secret.value.startswith("-----BEGIN PRIVATE KEY-----")
    private = serialization.load_pem_private_key(secret.value.encode(), None)
    assert public_der(private) == cert_public_der(x)
    assert x509.load_pem_x509_certificates(secret.value.encode()) == [x]
    # An EC key only signs.
    assert sorted(vault.keys.get_key(name).key_operations) == ["sign", "verify"]


def test_the_deployment_certificate_ca_issues_certificates(vault: CertVault, server: StrongroomServer) -> None:
    name = unique_name("caissued")
    policy = CertificatePolicy(issuer_name="Strongroom", subject="CN=service.internal", san_dns_names=["service.internal"])
    cert = create(vault, name, policy)
    leaf = x509.load_der_x509_certificate(bytes(cert.cer))
    with open(server.certificate_ca_file, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(server.ca_file, "rb") as f:
        tls_root = x509.load_pem_x509_certificate(f.read())
    assert leaf.issuer == ca.subject != tls_root.subject, "signed by the certificate CA, never the TLS root"
    leaf.verify_directly_issued_by(ca)
    _, pfx_leaf, chain = load_secret_pfx(vault.secrets.get_secret(name).value)
    assert pfx_leaf == leaf and chain == [ca], "the secret carries the chain"

    # Never for a name the deployment serves: every client trusts this CA.
    own_host = vault.url.split("//")[1].split(":")[0].rstrip("/")
    for served in (own_host, "*.vault.azure.net", "login.microsoftonline.com"):
        with pytest.raises(HttpResponseError) as err:
            vault.certs.begin_create_certificate(
                unique_name("served"), CertificatePolicy(issuer_name="Strongroom", subject="CN=x", san_dns_names=[served])
            )
        assert_http_error(err.value, 400, "BadParameter", message_contains="serves that name itself")
    with pytest.raises(HttpResponseError) as err:
        vault.certs.begin_create_certificate(
            unique_name("servedcn"), CertificatePolicy(issuer_name="Strongroom", subject=f"cn = {own_host}")
        )
    assert_http_error(err.value, 400, "BadParameter", message_contains="serves that name itself")
    # A self-signed certificate for such a name is harmless (nobody trusts it) and allowed.
    create(vault, unique_name("selfserved"), CertificatePolicy(issuer_name="Self", subject=f"CN={own_host}"))


def test_unknown_issuer_gives_a_csr_and_a_merge_completes_it(vault: CertVault) -> None:
    name = unique_name("merge")
    policy = CertificatePolicy(issuer_name=WellKnownIssuerNames.unknown, subject="CN=merged.example")
    operation = vault.certs.begin_create_certificate(name, policy).result()
    assert operation.status == "inProgress" and operation.issuer_name == "Unknown", operation
    csr = x509.load_der_x509_csr(bytes(operation.csr))
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=merged.example"

    # Pending: a certificate without a certificate, listed only with includePending; its key exists, no secret.
    pending = vault.certs.get_certificate(name)
    assert pending.cer is None and pending.secret_id is None and pending.key_id
    listed = {c.name for c in vault.certs.list_properties_of_certificates()}
    assert name not in listed
    listed = {c.name for c in vault.certs.list_properties_of_certificates(include_pending=True)}
    assert name in listed
    # Every page of the list keeps the filter (the nextLink carries includePending): with one
    # item per page, a completed certificate whose name sorts first puts this one on a later page.
    create(vault, unique_name("a-page"), CertificatePolicy.get_default())
    paged = [c.name for c in vault.certs.list_properties_of_certificates(include_pending=True, max_page_size=1)]
    assert name in paged and len(paged) == len(set(paged)) >= 2
    with pytest.raises(ResourceNotFoundError):
        vault.secrets.get_secret(name)

    # A second create while this one is in progress (AZURE-ERRORS.md 5.8).
    with pytest.raises(HttpResponseError) as err:
        vault.certs.begin_create_certificate(name, CertificatePolicy.get_default())
    assert_http_error(err.value, 409, "Forbidden", message_contains="while a pending key vault certificate's status is inProgress")

    # A certificate for another key is refused; the CA's signature on the CSR's key completes it.
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Merge Test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)

    def signed(public_key) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(ca_name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(ca_key, hashes.SHA256())
        )

    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=60))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    der = lambda c: c.public_bytes(serialization.Encoding.DER)  # noqa: E731
    stranger = signed(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
    with pytest.raises(HttpResponseError) as err:
        vault.certs.merge_certificate(name, [der(stranger), der(ca_cert)])
    assert_http_error(err.value, 400, "BadParameter", message_contains="doesn't match")

    leaf = signed(csr.public_key())
    merged = vault.certs.merge_certificate(name, [der(leaf), der(ca_cert)])
    assert bytes(merged.cer) == der(leaf)
    assert merged.properties.version == pending.properties.version, "the pending version is completed in place"
    assert merged.properties.expires_on == leaf.not_valid_after_utc
    done = vault.certs.get_certificate_operation(name)
    assert done.status == "completed" and done.target == f"{vault.url.rstrip('/')}/certificates/{name}"
    private, pfx_leaf, chain = load_secret_pfx(vault.secrets.get_secret(name).value)
    assert pfx_leaf == leaf and chain == [ca_cert]
    assert public_der(private) == cert_public_der(leaf)
    versions = list(vault.certs.list_properties_of_certificate_versions(name))
    assert [v.version for v in versions] == [merged.properties.version]

    # Nothing left to merge into.
    with pytest.raises(HttpResponseError) as err:
        vault.certs.merge_certificate(name, [der(leaf)])
    assert_http_error(err.value, 404, "PendingCertificateNotFound", message_contains=f"Pending certificate not found: {name}")


def test_a_pending_operation_can_be_cancelled_and_deleted(vault: CertVault) -> None:
    name = unique_name("cancel")
    policy = CertificatePolicy(issuer_name=WellKnownIssuerNames.unknown, subject="CN=cancelled.example")
    vault.certs.begin_create_certificate(name, policy).result()
    cancelled = vault.certs.cancel_certificate_operation(name)
    assert cancelled.cancellation_requested is True and cancelled.status == "cancelled"
    with pytest.raises(HttpResponseError) as err:
        vault.certs.cancel_certificate_operation(name)
    assert_http_error(err.value, 400, "BadParameter")
    deleted = vault.certs.delete_certificate_operation(name)
    assert deleted.status == "cancelled"
    with pytest.raises(ResourceNotFoundError) as err:
        vault.certs.get_certificate_operation(name)
    assert_http_error(err.value, 404, "PendingCertificateNotFound", message_contains=f"Pending certificate not found: {name}")
    # With the operation gone, a new create may start.
    create(vault, name, CertificatePolicy.get_default())


def test_versions_update_and_policy(vault: CertVault) -> None:
    name = unique_name("versions")
    first = create(vault, name, CertificatePolicy.get_default())
    second = create(vault, name, CertificatePolicy.get_default())
    versions = [v.version for v in vault.certs.list_properties_of_certificate_versions(name)]
    assert versions == [first.properties.version, second.properties.version]
    assert vault.certs.get_certificate_version(name, first.properties.version).cer == first.cer
    assert first.cer != second.cer

    updated = vault.certs.update_certificate_properties(name, enabled=False, tags={"team": "a"})
    assert updated.properties.enabled is False and updated.properties.tags == {"team": "a"}
    assert updated.properties.version == second.properties.version
    # The certificate's secret follows: a disabled secret is refused (AZURE-ERRORS.md 3.4).
    with pytest.raises(HttpResponseError) as err:
        vault.secrets.get_secret(name)
    assert_http_error(err.value, 403, "Forbidden", inner="SecretDisabled")
    vault.certs.update_certificate_properties(name, enabled=True)
    assert vault.secrets.get_secret(name).properties.enabled is True

    policy = vault.certs.get_certificate_policy(name)
    assert policy.validity_in_months == 12
    changed = vault.certs.update_certificate_policy(name, CertificatePolicy(validity_in_months=6))
    assert changed.validity_in_months == 6 and changed.subject == "CN=DefaultPolicy", "other members are kept"
    third = create_from_stored_policy(vault, name)
    x = x509.load_der_x509_certificate(bytes(third.cer))
    assert x.not_valid_after_utc - x.not_valid_before_utc < datetime.timedelta(days=190)

    listed = {c.name: c for c in vault.certs.list_properties_of_certificates()}
    assert listed[name].x509_thumbprint == third.properties.x509_thumbprint


def create_from_stored_policy(vault: CertVault, name: str) -> KeyVaultCertificate:
    """A create whose policy is the stored one (the SDK always sends a policy: send the stored one back)."""
    return create(vault, name, vault.certs.get_certificate_policy(name))


def test_delete_recover_purge_move_key_and_secret_too(vault: CertVault) -> None:
    name = unique_name("lifecycle")
    cert = create(vault, name, CertificatePolicy.get_default())
    deleted = vault.certs.begin_delete_certificate(name).result()
    assert deleted.recovery_id == f"{vault.url.rstrip('/')}/deletedcertificates/{name}"
    assert deleted.properties.version == cert.properties.version
    for get in (vault.certs.get_certificate, vault.keys.get_key, vault.secrets.get_secret):
        with pytest.raises(ResourceNotFoundError):
            get(name)
    assert vault.certs.get_deleted_certificate(name).name == name
    assert name in {c.name for c in vault.certs.list_deleted_certificates()}

    # The name is deleted but recoverable (AZURE-ERRORS.md 5.3).
    with pytest.raises(HttpResponseError) as err:
        vault.certs.begin_create_certificate(name, CertificatePolicy.get_default())
    assert_http_error(
        err.value,
        409,
        "Conflict",
        inner="ObjectIsDeletedButRecoverable",
        message_contains=f"Certificate {name} is currently in a deleted but recoverable state",
    )

    recovered = vault.certs.begin_recover_deleted_certificate(name).result()
    assert recovered.properties.version == cert.properties.version
    assert vault.keys.get_key(name).id == cert.key_id
    assert vault.secrets.get_secret(name).id == cert.secret_id

    vault.certs.begin_delete_certificate(name).wait()
    vault.certs.purge_deleted_certificate(name)
    with pytest.raises(ResourceNotFoundError):
        vault.certs.get_deleted_certificate(name)
    with pytest.raises(ResourceNotFoundError):
        vault.keys.get_deleted_key(name)
    again = create(vault, name, CertificatePolicy.get_default())
    assert again.properties.version != cert.properties.version


def test_the_managed_key_and_secret_refuse_direct_writes(vault: CertVault) -> None:
    name = unique_name("managed")
    create(vault, name, CertificatePolicy.get_default())
    attempts = [
        lambda: vault.secrets.set_secret(name, "overwrite"),
        lambda: vault.secrets.update_secret_properties(name, enabled=False),
        lambda: vault.secrets.begin_delete_secret(name),
        lambda: vault.keys.create_rsa_key(name),
        lambda: vault.keys.begin_delete_key(name),
        lambda: vault.keys.backup_key(name),
    ]
    for attempt in attempts:
        with pytest.raises(HttpResponseError) as err:
            attempt()
        assert_http_error(err.value, 403, "Forbidden", message_contains="managed")
    assert vault.certs.get_certificate(name).properties.enabled is True


def test_a_certificate_cannot_take_the_name_of_a_plain_secret(vault: CertVault) -> None:
    name = unique_name("taken")
    vault.secrets.set_secret(name, "mine")
    with pytest.raises(HttpResponseError) as err:
        vault.certs.begin_create_certificate(name, CertificatePolicy.get_default())
    assert_http_error(err.value, 409, "Conflict", message_contains="not managed by a certificate")
    assert vault.secrets.get_secret(name).value == "mine"


def test_missing_certificates_and_bad_policies(vault: CertVault) -> None:
    name = unique_name("missing")
    with pytest.raises(ResourceNotFoundError) as err:
        vault.certs.get_certificate(name)
    assert_http_error(
        err.value, 404, "CertificateNotFound", message_contains=f"A certificate with (name/id) {name} was not found"
    )
    with pytest.raises(ResourceNotFoundError) as err:
        vault.certs.get_certificate_operation(name)
    assert_http_error(err.value, 404, "PendingCertificateNotFound")
    bad = CertificatePolicy(issuer_name="Self", subject="CN=x", key_type="EC", key_size=4096)
    with pytest.raises(HttpResponseError) as err:
        vault.certs.begin_create_certificate(name, bad)
    assert_http_error(err.value, 400, "BadParameter", message_contains="Unsupported key size (4096)")


def test_backup_and_restore_move_certificate_key_secret_and_policy(
    vault: CertVault, server: StrongroomServer, credential
) -> None:
    name = unique_name("backup")
    policy = CertificatePolicy(issuer_name="Self", subject="CN=backup.example", content_type=CertificateContentType.pem)
    first = create(vault, name, policy)
    second = create(vault, name, policy)
    blob = vault.certs.backup_certificate(name)
    assert b"PRIVATE KEY" not in blob and b"backup.example" not in blob, "the blob is sealed"

    # Into another vault of the deployment.
    other_url = str(server.create_vault("certrestore")["properties"]["vaultUri"])
    other = CertVault(
        "", other_url, CertificateClient(other_url, credential), KeyClient(other_url, credential),
        SecretClient(other_url, credential),
    )  # fmt: skip
    restored = other.certs.restore_certificate_backup(blob)
    assert restored.name == name and restored.properties.version == second.properties.version
    assert bytes(restored.cer) == bytes(second.cer)
    assert restored.policy.content_type == CertificateContentType.pem
    versions = [v.version for v in other.certs.list_properties_of_certificate_versions(name)]
    assert versions == [first.properties.version, second.properties.version]
    assert other.keys.get_key(name).key.n == vault.keys.get_key(name).key.n
    assert other.secrets.get_secret(name).value == vault.secrets.get_secret(name).value
    assert other.secrets.get_secret(name).properties.managed is True

    # Onto a name in use: the conflict names the backup's current version (AZURE-ERRORS.md 5.7).
    with pytest.raises(HttpResponseError) as err:
        vault.certs.restore_certificate_backup(blob)
    assert_http_error(err.value, 409, "Conflict", message_contains=f"/certificates/{name}/{second.properties.version}")

    # After delete and purge the name is free again in the first vault, and the three come back together.
    vault.certs.begin_delete_certificate(name).wait()
    vault.certs.purge_deleted_certificate(name)
    vault.certs.restore_certificate_backup(blob)
    assert vault.keys.get_key(name).properties.managed is True
    assert vault.secrets.get_secret(name).properties.content_type == "application/x-pem-file"

    # A key blob is not a certificate blob.
    other_key = unique_name("plainkey")
    vault.keys.create_rsa_key(other_key)
    with pytest.raises(HttpResponseError) as err:
        vault.certs.restore_certificate_backup(vault.keys.backup_key(other_key))
    assert_http_error(err.value, 400, "Malformed backup blob")


def test_contacts_set_get_delete(server: StrongroomServer, credential) -> None:
    from azure.keyvault.certificates import CertificateContact

    url = str(server.create_vault("contacts")["properties"]["vaultUri"])
    client = CertificateClient(url, credential)
    with pytest.raises(ResourceNotFoundError) as err:
        client.get_contacts()
    assert_http_error(err.value, 404, "ContactsNotFound")
    wanted = [
        CertificateContact(email="admin@contoso.com", name="John Doe", phone="1111111111"),
        CertificateContact(email="ops@contoso.com"),
    ]
    set_ = client.set_contacts(wanted)
    assert [(c.email, c.name, c.phone) for c in set_] == [
        ("admin@contoso.com", "John Doe", "1111111111"),
        ("ops@contoso.com", None, None),
    ]
    assert [c.email for c in client.get_contacts()] == ["admin@contoso.com", "ops@contoso.com"]
    deleted = client.delete_contacts()
    assert [c.email for c in deleted] == ["admin@contoso.com", "ops@contoso.com"]
    with pytest.raises(ResourceNotFoundError):
        client.get_contacts()


def test_issuers_and_a_named_issuer_of_the_deployment_ca(vault: CertVault, server: StrongroomServer) -> None:
    from azure.keyvault.certificates import AdministratorContact

    name = unique_name("internalca")
    with pytest.raises(ResourceNotFoundError) as err:
        vault.certs.get_issuer(name)
    assert_http_error(err.value, 404, "CertificateIssuerNotFound")
    issuer = vault.certs.create_issuer(
        name,
        "Strongroom",
        account_id="keyvaultuser",
        password="issuer-password-do-not-echo",
        organization_id="org-1",
        admin_contacts=[AdministratorContact(first_name="John", last_name="Doe", email="admin@contoso.com", phone="42")],
    )
    assert issuer.name == name and issuer.provider == "Strongroom" and issuer.enabled is True
    assert issuer.account_id == "keyvaultuser" and issuer.password is None, "the password is never returned"
    assert issuer.organization_id == "org-1"
    assert [(a.first_name, a.email) for a in issuer.admin_contacts] == [("John", "admin@contoso.com")]
    external = unique_name("digicert")
    vault.certs.create_issuer(external, "DigiCert")
    listed = {i.name: i.provider for i in vault.certs.list_properties_of_issuers()}
    assert listed[name] == "Strongroom" and listed[external] == "DigiCert"

    # A policy naming the vault's issuer is signed by the deployment CA.
    cert = create(vault, unique_name("vianame"), CertificatePolicy(issuer_name=name, subject="CN=named.internal"))
    leaf = x509.load_der_x509_certificate(bytes(cert.cer))
    with open(server.certificate_ca_file, "rb") as f:
        leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(f.read()))
    # One whose provider this deployment cannot reach is refused at create.
    with pytest.raises(HttpResponseError) as err:
        vault.certs.begin_create_certificate(unique_name("viadigicert"), CertificatePolicy(issuer_name=external, subject="CN=x"))
    assert_http_error(err.value, 400, "BadParameter", message_contains="cannot reach")

    updated = vault.certs.update_issuer(name, enabled=False)
    assert updated.enabled is False and updated.account_id == "keyvaultuser", "update keeps the other members"
    with pytest.raises(HttpResponseError) as err:
        vault.certs.begin_create_certificate(unique_name("disabled"), CertificatePolicy(issuer_name=name, subject="CN=x"))
    assert_http_error(err.value, 400, "BadParameter", message_contains="disabled")
    deleted = vault.certs.delete_issuer(name)
    assert deleted.name == name
    with pytest.raises(ResourceNotFoundError):
        vault.certs.get_issuer(name)


# Lifetime actions move the dev clock, which invalidates every token issued before the move: their own server.


@pytest.fixture(scope="module")
def clock_server(resolve_localhost_names, strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory):
    from strongroom_server import running_server

    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-certs-clock")) as srv:
        yield srv


def certificate_events(server: StrongroomServer, vault: str, admin_token: str) -> list[dict]:
    """Strongroom's record of EmailContacts actions (the management API; Azure e-mails instead)."""
    import requests

    res = requests.get(
        f"{server.authority_host}/subscriptions/{server.info['subscriptionId']}/providers/Microsoft.KeyVault/vaults/"
        f"{vault}/certificateEvents",
        headers={"Authorization": f"Bearer {admin_token}"},
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code == 200, f"{res.status_code} {res.text}"
    return res.json()["value"]


def test_lifetime_actions_renew_and_record_contact_events_when_the_clock_moves(clock_server: StrongroomServer) -> None:
    import requests
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.certificates import CertificateContact

    vault_name = clock_server.cli_json("keyvault", "create", "--name", unique_name("lifetime"))["name"]
    renewing, emailing, untouched = unique_name("autorenew"), unique_name("emailing"), unique_name("manual")
    day = 86400

    def session():
        env = clock_server.activated_env(vault_name)
        return env

    with session() as env:
        credential = DefaultAzureCredential()
        client = CertificateClient(env["AZURE_KEYVAULT_URL"], credential)
        client.set_contacts([CertificateContact(email="ops@contoso.com")])
        renew_policy = CertificatePolicy(
            issuer_name="Self", subject="CN=renew.example", validity_in_months=3,
            lifetime_actions=[LifetimeAction(action=CertificatePolicyAction.auto_renew, days_before_expiry=30)],
        )  # fmt: skip
        first = client.begin_create_certificate(renewing, renew_policy).result()
        email_policy = CertificatePolicy(
            issuer_name="Self", subject="CN=email.example", validity_in_months=1,
            lifetime_actions=[LifetimeAction(action=CertificatePolicyAction.email_contacts, lifetime_percentage=50)],
        )  # fmt: skip
        emailed = client.begin_create_certificate(emailing, email_policy).result()
        client.begin_create_certificate(untouched, CertificatePolicy.get_default()).result()
        lifetime_days = (first.properties.expires_on - first.properties.not_before).days
        admin_token = credential.get_token("https://management.azure.com/.default").token
        # Just before either trigger: nothing happens.
        clock_server.advance_clock(admin_token, 14 * day)

    with session() as env:
        credential = DefaultAzureCredential()
        client = CertificateClient(env["AZURE_KEYVAULT_URL"], credential)
        assert len(list(client.list_properties_of_certificate_versions(renewing))) == 1
        admin_token = credential.get_token("https://management.azure.com/.default").token
        events = certificate_events(clock_server, vault_name, admin_token)
        assert events == []
        # Past both: 30 days before a ~90-day certificate's expiry, and half of a ~30-day one's lifetime.
        clock_server.advance_clock(admin_token, (lifetime_days - 30 - 14 + 1) * day)

    with session() as env:
        credential = DefaultAzureCredential()
        client = CertificateClient(env["AZURE_KEYVAULT_URL"], credential)
        versions = list(client.list_properties_of_certificate_versions(renewing))
        assert len(versions) == 2, f"AutoRenew did not renew: {versions}"
        renewed = client.get_certificate(renewing)
        assert renewed.properties.version != first.properties.version
        assert renewed.properties.not_before > first.properties.not_before, "the renewal is valid from the new now"
        assert renewed.cer != first.cer
        assert len(list(client.list_properties_of_certificate_versions(untouched))) == 1, "80 % not reached yet"
        admin_token = credential.get_token("https://management.azure.com/.default").token
        events = certificate_events(clock_server, vault_name, admin_token)
        assert [(e["action"], e["certificate"], e["version"], e["contacts"]) for e in events] == [
            ("EmailContacts", emailing, emailed.properties.version, ["ops@contoso.com"])
        ]
        # A second pass records nothing new for the same version.
        clock_server.advance_clock(admin_token, day)

    with session():
        admin_token = DefaultAzureCredential().get_token("https://management.azure.com/.default").token
        assert len(certificate_events(clock_server, vault_name, admin_token)) == 1


def test_reuse_key_keeps_the_key_across_versions(vault: CertVault) -> None:
    def public_numbers(cert: KeyVaultCertificate):
        return x509.load_der_x509_certificate(bytes(cert.cer)).public_key().public_numbers()

    reused = unique_name("reuse")
    policy = CertificatePolicy(issuer_name="Self", subject="CN=reuse.example", reuse_key=True)
    first = create(vault, reused, policy)
    second = create(vault, reused, policy)
    assert second.properties.version != first.properties.version and second.cer != first.cer
    assert public_numbers(second) == public_numbers(first), "reuse_key: the same key signs the new version"
    assert vault.keys.get_key(reused).key.n == vault.keys.get_key(reused, first.properties.version).key.n

    fresh = unique_name("fresh")
    policy = CertificatePolicy(issuer_name="Self", subject="CN=fresh.example", reuse_key=False)
    first = create(vault, fresh, policy)
    second = create(vault, fresh, policy)
    assert public_numbers(second) != public_numbers(first), "without reuse_key every version has a new key"


def test_a_policy_with_sans_and_no_subject(vault: CertVault) -> None:
    name = unique_name("sanonly")
    cert = create(vault, name, CertificatePolicy(issuer_name="Self", san_dns_names=["only-a-san.example"]))
    x = x509.load_der_x509_certificate(bytes(cert.cer))
    assert len(x.subject) == 0, x.subject
    san = x.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical and san.value.get_values_for_type(x509.DNSName) == ["only-a-san.example"]
