"""Access policies for keys, proven both ways for every key permission.

For each of the 20 key permissions P (get, list, create, update, import, delete, recover, backup, restore, purge,
decrypt, encrypt, unwrapKey, wrapKey, verify, sign, rotate, getrotationpolicy, setrotationpolicy, release):
- a service principal whose policy grants exactly P can perform the operation that needs P;
- a service principal granted every key permission but P is refused with Azure's 403 (`Forbidden`,
  "does not have keys P permission", inner `AccessDenied`; AZURE-ERRORS.md 3.1).
`release` is special: the session server trusts no attestation authority (test_keys_release.py has one), so with the
permission a release of a non-exportable key must fail for another reason (a 4xx that is not the access-policy 403).

Cryptographic operations use the `remote_crypto` fixture, so that the SDK cannot do them locally with the public key
(CLIENT-PROTOCOL.md 8.7) and the vault's access check is what answers. The vault's administrator (the CLI's
principal) prepares state the principal under test may not create itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import KeyClient, KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction
from azure.keyvault.keys.crypto import EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from kv_errors import assert_http_error, error_fields
from strongroom_server import KeyVault, Principal, enum_text, jwk_from_private_key, public_key_from_jwk, unique_name

ALL_KEY_PERMISSIONS = [
    "get", "list", "create", "update", "import", "delete", "recover", "backup", "restore", "purge",
    "decrypt", "encrypt", "unwrapKey", "wrapKey", "verify", "sign",
    "rotate", "getrotationpolicy", "setrotationpolicy", "release",
]  # fmt: skip

DIGEST = bytes(range(32))  # a SHA-256-sized digest
PLAINTEXT = b"keys permission test"
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def assert_key_access_denied(err: HttpResponseError, permission: str) -> None:
    """403 for a missing key permission (AZURE-ERRORS.md 3.1), the permission named as in the policy."""
    assert_http_error(
        err,
        403,
        code="Forbidden",
        inner="AccessDenied",
        message_contains=f"does not have keys {permission} permission",
    )


@dataclass
class Actor:
    """What the principal under test acts with: its KeyClient, and remote-only CryptographyClients."""

    keys: KeyClient
    crypto: Callable[[str], Any]


@dataclass
class Case:
    """prepare(admin, name) -> state; act(actor, name, state) -> result; check(admin, name, state, result)."""

    prepare: Callable[["Admin", str], Any]
    act: Callable[[Actor, str, Any], Any]
    check: Callable[["Admin", str, Any, Any], None]


@dataclass
class Admin:
    keys: KeyClient
    crypto: Callable[[str], Any]


# -- prepare ---------------------------------------------------------------------------------------------------


def _nothing(admin: Admin, name: str) -> None:
    return None


def _create(admin: Admin, name: str):
    return admin.keys.create_rsa_key(name, size=2048)


def _create_and_delete(admin: Admin, name: str):
    key = _create(admin, name)
    admin.keys.begin_delete_key(name).wait()
    return key


def _backup_then_purge(admin: Admin, name: str):
    key = _create(admin, name)
    blob = admin.keys.backup_key(name)
    admin.keys.begin_delete_key(name).wait()
    admin.keys.purge_deleted_key(name)
    return key, blob


def _local_ciphertext(admin: Admin, name: str):
    key = _create(admin, name)
    return key, public_key_from_jwk(key.key).encrypt(PLAINTEXT, OAEP)


def _vault_signature(admin: Admin, name: str):
    key = _create(admin, name)
    return key, admin.crypto(key.id).sign(SignatureAlgorithm.rs256, DIGEST).signature


def _with_policy(admin: Admin, name: str):
    key = _create(admin, name)
    admin.keys.update_key_rotation_policy(name, _policy("P60D"))
    return key


def _policy(rotate_after: str) -> KeyRotationPolicy:
    return KeyRotationPolicy(
        lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create=rotate_after)],
        expires_in="P1Y",
    )


def _rotate_after(policy: KeyRotationPolicy) -> str | None:
    rotate = [a for a in policy.lifetime_actions if enum_text(a.action).lower() == "rotate"]
    return rotate[0].time_after_create if rotate else None


# -- act ---------------------------------------------------------------------------------------------------------


def _delete(actor: Actor, name: str, _state: Any):
    poller = actor.keys.begin_delete_key(name)
    poller.wait()  # polls GET /deletedkeys/{name}; a 403 there also ends the poll
    return poller.result()


def _recover(actor: Actor, name: str, _state: Any):
    poller = actor.keys.begin_recover_deleted_key(name)
    poller.wait()
    return poller.result()


def _import(actor: Actor, name: str, _state: Any):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private, actor.keys.import_key(name, jwk_from_private_key(private))


def _release(actor: Actor, name: str, key: Any):
    # This server trusts no attestation authority; the token is never valid. Only the access check is under test. (Without
    # `version` the SDK would POST /keys/{name}//release, an empty version segment meaning the latest.)
    return actor.keys.release_key(name, "eyJhbGciOiJub25lIn0.e30.", version=key.properties.version)


# -- check -------------------------------------------------------------------------------------------------------


def _check_get(admin, name, key, result):
    assert result.id == key.id and result.key.n == key.key.n


def _check_list(admin, name, key, result):
    assert name in result


def _check_create(admin, name, state, result):
    assert result.name == name
    assert admin.keys.get_key(name).id == result.id


def _check_update(admin, name, key, result):
    assert result.properties.tags == {"by": "principal"}
    assert admin.keys.get_key(name).properties.tags == {"by": "principal"}


def _check_import(admin, name, state, result):
    private, imported = result
    assert int.from_bytes(admin.keys.get_key(name).key.n, "big") == private.public_key().public_numbers().n
    assert imported.name == name


def _check_delete(admin, name, key, result):
    assert result.name == name
    assert admin.keys.get_deleted_key(name).name == name


def _check_recover(admin, name, key, result):
    assert admin.keys.get_key(name).id == key.id


def _check_backup(admin, name, key, result):
    assert isinstance(result, bytes) and len(result) > 0


def _check_restore(admin, name, state, result):
    key, _blob = state
    assert result.name == name
    assert admin.keys.get_key(name).key.n == key.key.n


def _check_purge(admin, name, key, result):
    with pytest.raises(ResourceNotFoundError):
        admin.keys.get_deleted_key(name)


def _check_decrypt(admin, name, state, result):
    assert result.plaintext == PLAINTEXT


def _check_encrypt(admin, name, key, result):
    assert admin.crypto(key.id).decrypt(EncryptionAlgorithm.rsa_oaep, result.ciphertext).plaintext == PLAINTEXT


def _check_unwrap(admin, name, state, result):
    assert result.key == PLAINTEXT


def _check_wrap(admin, name, key, result):
    assert admin.crypto(key.id).unwrap_key(KeyWrapAlgorithm.rsa_oaep, result.encrypted_key).key == PLAINTEXT


def _check_verify(admin, name, state, result):
    assert result.is_valid is True


def _check_sign(admin, name, key, result):
    public = public_key_from_jwk(key.key)
    public.verify(result.signature, DIGEST, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def _check_rotate(admin, name, key, result):
    assert result.properties.version != key.properties.version
    assert admin.keys.get_key(name).properties.version == result.properties.version


def _check_get_policy(admin, name, key, result):
    assert _rotate_after(result) == "P60D"


def _check_set_policy(admin, name, key, result):
    assert _rotate_after(result) == "P45D"
    assert _rotate_after(admin.keys.get_key_rotation_policy(name)) == "P45D"


def _check_release_refused_otherwise(admin, name, key, err: HttpResponseError):
    """With `release` granted, a non-exportable key still cannot be released, but not for lack of permission."""
    status, _code, _message, inner = error_fields(err)
    assert status is not None and 400 <= status < 500, f"release failed with {status}: {err}"
    assert not (status == 403 and inner == {"code": "AccessDenied"}), f"release refused by the access policy: {err}"


CASES: dict[str, Case] = {
    "get": Case(_create, lambda a, n, s: a.keys.get_key(n), _check_get),
    "list": Case(_create, lambda a, n, s: [p.name for p in a.keys.list_properties_of_keys()], _check_list),
    "create": Case(_nothing, lambda a, n, s: a.keys.create_rsa_key(n, size=2048), _check_create),
    "update": Case(_create, lambda a, n, s: a.keys.update_key_properties(n, tags={"by": "principal"}), _check_update),
    "import": Case(_nothing, _import, _check_import),
    "delete": Case(_create, _delete, _check_delete),
    "recover": Case(_create_and_delete, _recover, _check_recover),
    "backup": Case(_create, lambda a, n, s: a.keys.backup_key(n), _check_backup),
    "restore": Case(_backup_then_purge, lambda a, n, s: a.keys.restore_key_backup(s[1]), _check_restore),
    "purge": Case(_create_and_delete, lambda a, n, s: a.keys.purge_deleted_key(n), _check_purge),
    "decrypt": Case(
        _local_ciphertext, lambda a, n, s: a.crypto(s[0].id).decrypt(EncryptionAlgorithm.rsa_oaep, s[1]), _check_decrypt
    ),
    "encrypt": Case(
        _create, lambda a, n, s: a.crypto(s.id).encrypt(EncryptionAlgorithm.rsa_oaep, PLAINTEXT), _check_encrypt
    ),
    "unwrapKey": Case(
        _local_ciphertext, lambda a, n, s: a.crypto(s[0].id).unwrap_key(KeyWrapAlgorithm.rsa_oaep, s[1]), _check_unwrap
    ),
    "wrapKey": Case(
        _create, lambda a, n, s: a.crypto(s.id).wrap_key(KeyWrapAlgorithm.rsa_oaep, PLAINTEXT), _check_wrap
    ),
    "verify": Case(
        _vault_signature,
        lambda a, n, s: a.crypto(s[0].id).verify(SignatureAlgorithm.rs256, DIGEST, s[1]),
        _check_verify,
    ),
    "sign": Case(_create, lambda a, n, s: a.crypto(s.id).sign(SignatureAlgorithm.rs256, DIGEST), _check_sign),
    "rotate": Case(_create, lambda a, n, s: a.keys.rotate_key(n), _check_rotate),
    "getrotationpolicy": Case(_with_policy, lambda a, n, s: a.keys.get_key_rotation_policy(n), _check_get_policy),
    "setrotationpolicy": Case(
        _create, lambda a, n, s: a.keys.update_key_rotation_policy(n, _policy("P45D")), _check_set_policy
    ),
    "release": Case(_create, _release, _check_release_refused_otherwise),
}


def test_cases_cover_every_permission():
    assert sorted(CASES) == sorted(ALL_KEY_PERMISSIONS)
    assert len(ALL_KEY_PERMISSIONS) == 20


@pytest.fixture(scope="module")
def vault(make_key_vault) -> KeyVault:
    return make_key_vault("keyperms")


@pytest.fixture(scope="module")
def admin(vault: KeyVault, remote_crypto) -> Admin:
    return Admin(vault.client, lambda key_id: remote_crypto(key_id)[0])


def _actor(principal: Principal, vault: KeyVault, remote_crypto) -> Actor:
    return Actor(principal.key_client(vault.url), lambda key_id: remote_crypto(key_id, principal.credential)[0])


@pytest.mark.parametrize("permission", ALL_KEY_PERMISSIONS)
def test_exactly_this_permission_allows(permission: str, vault: KeyVault, admin: Admin, make_principal, remote_crypto):
    principal: Principal = make_principal(f"konly-{permission}", vault.name, key_permissions=[permission])
    case = CASES[permission]
    name = unique_name(f"kallow-{permission.lower()}")
    state = case.prepare(admin, name)
    actor = _actor(principal, vault, remote_crypto)
    if permission == "release":
        with pytest.raises(HttpResponseError) as caught:
            case.act(actor, name, state)
        case.check(admin, name, state, caught.value)
        return
    result = case.act(actor, name, state)
    case.check(admin, name, state, result)


@pytest.mark.parametrize("permission", ALL_KEY_PERMISSIONS)
def test_all_other_permissions_deny(permission: str, vault: KeyVault, admin: Admin, make_principal, remote_crypto):
    others = [p for p in ALL_KEY_PERMISSIONS if p != permission]
    principal: Principal = make_principal(f"kallbut-{permission}", vault.name, key_permissions=others)
    case = CASES[permission]
    name = unique_name(f"kdeny-{permission.lower()}")
    state = case.prepare(admin, name)
    with pytest.raises(HttpResponseError) as caught:
        case.act(_actor(principal, vault, remote_crypto), name, state)
    assert_key_access_denied(caught.value, permission)


def test_principal_without_policy_is_forbidden(vault: KeyVault, make_principal):
    principal: Principal = make_principal("knopolicy")
    client = principal.key_client(vault.url)
    name = unique_name("knopolicy")
    vault.client.create_ec_key(name)
    with pytest.raises(HttpResponseError) as caught:
        client.get_key(name)
    assert_key_access_denied(caught.value, "get")
    with pytest.raises(HttpResponseError) as caught:
        client.create_ec_key(name)
    assert_key_access_denied(caught.value, "create")
    with pytest.raises(HttpResponseError) as caught:
        list(client.list_properties_of_keys())
    assert_key_access_denied(caught.value, "list")
    assert len(list(vault.client.list_properties_of_key_versions(name))) == 1


def test_denial_message_names_caller_and_vault(vault: KeyVault, make_principal):
    principal: Principal = make_principal("kdenymsg")
    with pytest.raises(HttpResponseError) as caught:
        principal.key_client(vault.url).get_key(unique_name("any"))
    message = caught.value.error.message
    assert f"appid={principal.app_id};" in message
    assert f"on key vault '{vault.name};location=" in message


def test_secret_and_key_permissions_are_separate(vault: KeyVault, make_principal):
    secrets_only: Principal = make_principal("ksecretsonly", vault.name, secret_permissions=["get", "list", "set"])
    keys_only: Principal = make_principal("kkeysonly", vault.name, key_permissions=["all"])
    name = unique_name("separate")
    vault.client.create_ec_key(name)

    with pytest.raises(HttpResponseError) as caught:
        secrets_only.key_client(vault.url).get_key(name)
    assert_key_access_denied(caught.value, "get")

    assert keys_only.key_client(vault.url).get_key(name).name == name
    with pytest.raises(HttpResponseError) as caught:
        keys_only.client(vault.url).get_secret(name)
    assert_http_error(caught.value, 403, code="Forbidden", message_contains="does not have secrets get permission")


def test_all_expands_to_every_key_permission(vault: KeyVault, make_principal, remote_crypto):
    principal: Principal = make_principal("kall", vault.name, key_permissions=["all"])
    client = principal.key_client(vault.url)
    name = unique_name("kall")
    key = client.create_rsa_key(name, size=2048)
    crypto, wire = remote_crypto(key.id, principal.credential)
    signature = crypto.sign(SignatureAlgorithm.rs256, DIGEST).signature
    wire.assert_served("sign")
    assert crypto.verify(SignatureAlgorithm.rs256, DIGEST, signature).is_valid is True
    client.update_key_rotation_policy(name, _policy("P30D"))
    assert _rotate_after(client.get_key_rotation_policy(name)) == "P30D"
    assert client.rotate_key(name).properties.version != key.properties.version
    client.begin_delete_key(name).wait()
    client.purge_deleted_key(name)
    with pytest.raises(ResourceNotFoundError):
        vault.client.get_deleted_key(name)


def test_policy_in_one_vault_grants_nothing_in_another(make_key_vault, make_principal):
    granted = make_key_vault("kgranted")
    other = make_key_vault("knotgranted")
    principal: Principal = make_principal("kscoped", granted.name, key_permissions=["all"])
    name = unique_name("kscoped")
    granted.client.create_ec_key(name)
    other.client.create_ec_key(name)
    assert principal.key_client(granted.url).get_key(name).name == name
    with pytest.raises(HttpResponseError) as caught:
        principal.key_client(other.url).get_key(name)
    assert_key_access_denied(caught.value, "get")


# Operations that need a permission another operation already proves above: each must grant with that permission
# alone and deny without it, like its twin. Standard-vault answers with the permission: GetRandomBytes 200; attestation
# and the secure wrap operations 400 BadParameter (hardware Strongroom does not have).
SHARED_PERMISSION_CASES = [
    ("GetRandomBytes", "get", "POST", "/rng", {"count": 8}, 200),
    ("GetKeyAttestation", "get", "GET", "/keys/{name}/{version}/attestation", None, 400),
    ("securewrapkey", "wrapKey", "POST", "/keys/{name}//securewrapkey", {"alg": "RSA-OAEP-256"}, 400),
    ("secureunwrapkey", "unwrapKey", "POST", "/keys/{name}//secureunwrapkey", {"alg": "RSA-OAEP-256", "value": "AAAA"}, 400),
]  # fmt: skip


@pytest.mark.parametrize(
    "operation,permission,method,path,body,allowed_status",
    SHARED_PERMISSION_CASES,
    ids=[case[0] for case in SHARED_PERMISSION_CASES],
)
def test_operations_sharing_a_permission_grant_and_deny(
    operation: str,
    permission: str,
    method: str,
    path: str,
    body: Any,
    allowed_status: int,
    vault: KeyVault,
    make_principal,
):
    from azure.core.rest import HttpRequest

    name = unique_name(f"kshared-{operation.lower()}")
    key = vault.client.create_rsa_key(name, size=2048)
    url = vault.url.rstrip("/") + path.format(name=name, version=key.properties.version)

    def send(principal: Principal):
        request = HttpRequest(method, url, params={"api-version": "7.5"}, json=body)
        return principal.key_client(vault.url).send_request(request)

    allowed = send(make_principal(f"kshared-yes-{operation.lower()}", vault.name, key_permissions=[permission]))
    assert allowed.status_code == allowed_status, allowed.text()
    if allowed_status == 400:
        assert allowed.json()["error"]["code"] == "BadParameter"
    else:
        assert len(allowed.json()["value"]) > 0

    others = [p for p in ALL_KEY_PERMISSIONS if p != permission]
    denied = send(make_principal(f"kshared-no-{operation.lower()}", vault.name, key_permissions=others))
    assert denied.status_code == 403, denied.text()
    error = denied.json()["error"]
    assert error["code"] == "Forbidden"
    assert error["innererror"]["code"] == "AccessDenied"
    assert f"does not have keys {permission} permission" in error["message"]
