"""Access policies for certificates, proven both ways for every certificate permission.

For each of the 16 certificate permissions P (get, list, update, create, import, delete, recover, backup, restore,
purge, managecontacts, manageissuers, getissuers, listissuers, setissuers, deleteissuers):
- a service principal whose policy grants exactly P can perform the operation that needs P;
- a service principal granted every other certificate permission is refused with Azure's 403 (`Forbidden`,
  "does not have certificates P permission", inner `AccessDenied`; AZURE-ERRORS.md 3.1). `manageissuers` grants the
  four issuer permissions, so it is left out when one of those is denied, and they when it is.
The vault's administrator prepares state the principal under test may not create itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.certificates import CertificateClient, CertificateContact, CertificatePolicy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from kv_errors import assert_http_error
from strongroom_server import Principal, StrongroomServer, unique_name

ALL_CERTIFICATE_PERMISSIONS = [
    "get", "list", "update", "create", "import", "delete", "recover", "backup", "restore", "purge",
    "managecontacts", "manageissuers", "getissuers", "listissuers", "setissuers", "deleteissuers",
]  # fmt: skip
ISSUER_PERMISSIONS = {"getissuers", "listissuers", "setissuers", "deleteissuers"}


@dataclass
class Case:
    prepare: Callable[[CertificateClient, str], Any]
    act: Callable[[CertificateClient, str, Any], Any]
    check: Callable[[CertificateClient, str, Any, Any], None]


def _nothing(admin: CertificateClient, name: str) -> None:
    return None


def _create(admin: CertificateClient, name: str):
    return admin.begin_create_certificate(name, CertificatePolicy.get_default()).result()


def _create_and_delete(admin: CertificateClient, name: str):
    cert = _create(admin, name)
    admin.begin_delete_certificate(name).wait()
    return cert


def _backup_then_purge(admin: CertificateClient, name: str):
    cert = _create(admin, name)
    blob = admin.backup_certificate(name)
    admin.begin_delete_certificate(name).wait()
    admin.purge_deleted_certificate(name)
    return cert, blob


def _issuer(admin: CertificateClient, name: str):
    return admin.create_issuer(name, "Strongroom")


def _pfx() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = CertificateClientless.self_signed(key)
    return pkcs12.serialize_key_and_certificates(None, key, cert, None, serialization.NoEncryption())


class CertificateClientless:
    """A self-signed certificate made locally (for the import case)."""

    @staticmethod
    def self_signed(key):
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.x509.oid import NameOID

        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "perm.example")])
        now = datetime.datetime.now(datetime.timezone.utc)
        return (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256())
        )  # fmt: skip


def _create_only(actor: CertificateClient, name: str, _state: Any):
    # Only the POST needs `create`; the poller's GETs need `get`, so the result is checked by the administrator.
    actor.begin_create_certificate(name, CertificatePolicy.get_default())
    return name


def _check_created(admin: CertificateClient, name: str, _state: Any, _result: Any) -> None:
    deadline = time.monotonic() + 10
    while admin.get_certificate_operation(name).status != "completed":
        assert time.monotonic() < deadline, "the create did not complete"
        time.sleep(0.1)
    assert admin.get_certificate(name).cer


def _check_deleted(admin, name, cert, result):
    assert admin.get_deleted_certificate(name).name == name


CASES: dict[str, Case] = {
    "get": Case(_create, lambda a, n, s: a.get_certificate(n), lambda ad, n, s, r: r.cer == s.cer or pytest.fail()),
    "list": Case(
        _create,
        lambda a, n, s: [c.name for c in a.list_properties_of_certificates()],
        lambda ad, n, s, r: n in r or pytest.fail(f"{n} not listed"),
    ),
    "update": Case(
        _create,
        lambda a, n, s: a.update_certificate_properties(n, tags={"by": "principal"}),
        lambda ad, n, s, r: ad.get_certificate(n).properties.tags == {"by": "principal"} or pytest.fail(),
    ),
    "create": Case(_nothing, _create_only, _check_created),
    "import": Case(
        _nothing,
        lambda a, n, s: a.import_certificate(n, _pfx()),
        lambda ad, n, s, r: bytes(ad.get_certificate(n).cer) == bytes(r.cer) or pytest.fail(),
    ),
    "delete": Case(_create, lambda a, n, s: a.begin_delete_certificate(n).result(), _check_deleted),
    "recover": Case(
        _create_and_delete,
        lambda a, n, s: a.begin_recover_deleted_certificate(n).wait(),
        lambda ad, n, s, r: ad.get_certificate(n).id == s.id or pytest.fail(),
    ),
    "backup": Case(
        _create, lambda a, n, s: a.backup_certificate(n), lambda ad, n, s, r: len(r) > 0 or pytest.fail()
    ),
    "restore": Case(
        _backup_then_purge,
        lambda a, n, s: a.restore_certificate_backup(s[1]),
        lambda ad, n, s, r: bytes(ad.get_certificate(n).cer) == bytes(s[0].cer) or pytest.fail(),
    ),
    "purge": Case(
        _create_and_delete,
        lambda a, n, s: a.purge_deleted_certificate(n),
        lambda ad, n, s, r: _assert_gone(lambda: ad.get_deleted_certificate(n)),
    ),
    "managecontacts": Case(
        _nothing,
        lambda a, n, s: a.set_contacts([CertificateContact(email=f"{n}@example.com")]),
        lambda ad, n, s, r: ad.get_contacts()[0].email == f"{n}@example.com" or pytest.fail(),
    ),
    "manageissuers": Case(
        _nothing,
        lambda a, n, s: (a.create_issuer(n, "Strongroom"), a.get_issuer(n), a.delete_issuer(n)),
        lambda ad, n, s, r: _assert_gone(lambda: ad.get_issuer(n)),
    ),
    "getissuers": Case(
        _issuer, lambda a, n, s: a.get_issuer(n), lambda ad, n, s, r: r.provider == "Strongroom" or pytest.fail()
    ),
    "listissuers": Case(
        _issuer,
        lambda a, n, s: [i.name for i in a.list_properties_of_issuers()],
        lambda ad, n, s, r: n in r or pytest.fail(),
    ),
    "setissuers": Case(
        _nothing,
        lambda a, n, s: a.create_issuer(n, "Strongroom"),
        lambda ad, n, s, r: ad.get_issuer(n).provider == "Strongroom" or pytest.fail(),
    ),
    "deleteissuers": Case(
        _issuer, lambda a, n, s: a.delete_issuer(n), lambda ad, n, s, r: _assert_gone(lambda: ad.get_issuer(n))
    ),
}


def _assert_gone(get: Callable[[], Any]) -> None:
    with pytest.raises(ResourceNotFoundError):
        get()


def test_cases_cover_every_permission():
    assert sorted(CASES) == sorted(ALL_CERTIFICATE_PERMISSIONS)
    assert len(ALL_CERTIFICATE_PERMISSIONS) == 16


@dataclass
class PermVault:
    name: str
    url: str
    admin: CertificateClient


@pytest.fixture(scope="module")
def vault(server: StrongroomServer, credential) -> PermVault:
    resource = server.create_vault("certperms")
    url = str(resource["properties"]["vaultUri"])
    return PermVault(str(resource["name"]), url, CertificateClient(url, credential))


@pytest.mark.parametrize("permission", ALL_CERTIFICATE_PERMISSIONS)
def test_exactly_this_permission_allows(permission: str, vault: PermVault, make_principal) -> None:
    principal: Principal = make_principal(f"conly-{permission}", vault.name, certificate_permissions=[permission])
    case = CASES[permission]
    name = unique_name(f"callow-{permission}")
    state = case.prepare(vault.admin, name)
    result = case.act(principal.certificate_client(vault.url), name, state)
    case.check(vault.admin, name, state, result)


def _others(permission: str) -> list[str]:
    """Every certificate permission that does not grant `permission` (nor, for the umbrella, what it grants)."""
    excluded = {permission}
    if permission in ISSUER_PERMISSIONS:
        excluded.add("manageissuers")
    if permission == "manageissuers":
        excluded |= ISSUER_PERMISSIONS
    return [p for p in ALL_CERTIFICATE_PERMISSIONS if p not in excluded]


@pytest.mark.parametrize("permission", ALL_CERTIFICATE_PERMISSIONS)
def test_all_other_permissions_deny(permission: str, vault: PermVault, make_principal) -> None:
    principal: Principal = make_principal(f"callbut-{permission}", vault.name, certificate_permissions=_others(permission))
    case = CASES[permission]
    name = unique_name(f"cdeny-{permission}")
    state = case.prepare(vault.admin, name)
    with pytest.raises(HttpResponseError) as caught:
        case.act(principal.certificate_client(vault.url), name, state)
    # The umbrella has no operation of its own: the refusal names what its first call needs.
    named = "setissuers" if permission == "manageissuers" else permission
    assert_http_error(
        caught.value,
        403,
        code="Forbidden",
        inner="AccessDenied",
        message_contains=f"does not have certificates {named} permission",
    )


def test_key_and_secret_permissions_grant_nothing_on_certificates(vault: PermVault, make_principal) -> None:
    principal: Principal = make_principal(
        "cnocert", vault.name, secret_permissions=["all"], key_permissions=["all"]
    )
    name = unique_name("cnocert")
    _create(vault.admin, name)
    with pytest.raises(HttpResponseError) as caught:
        principal.certificate_client(vault.url).get_certificate(name)
    assert_http_error(caught.value, 403, code="Forbidden", message_contains="does not have certificates get permission")
    # The certificate's secret is readable with secrets/get, as in Azure.
    assert principal.client(vault.url).get_secret(name).properties.managed is True
