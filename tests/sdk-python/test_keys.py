"""The Keys API through Microsoft's `azure-keyvault-keys` `KeyClient`, written like the SDK's own samples.

Lifecycle and metadata: create (RSA sizes, EC curves, key_ops, enabled, dates, tags), get (latest and by version),
update, paging of keys and versions, delete/recover/purge with the SDK's pollers, backup/restore (same vault and a
second vault), import, rotation (on demand, and by a rotation policy when the dev clock moves), random bytes, the
premium SKU's HSM and oct key types and their refusal on a standard vault, exportable keys and release policies,
and the error cases clients match on. Cryptography is in test_keys_crypto.py, access policies in
test_keys_permissions.py.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import time
from typing import Iterator

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.identity import DefaultAzureCredential
from azure.keyvault.keys import (
    JsonWebKey,
    KeyClient,
    KeyCurveName,
    KeyReleasePolicy,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
    KeyType,
    KeyVaultKey,
)
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kv_errors import assert_http_error
from strongroom_server import (
    EC_CURVES,
    KeyVault,
    StrongroomServer,
    ec_coordinate_size,
    enum_text,
    jwk_from_private_key,
    running_server,
    unique_name,
)

DAY_S = 86400
# The delete/recover pollers sleep 2 s between polls; an immediately consistent server never makes them sleep.
POLLER_NO_SLEEP_S = 1.9
RSA_DEFAULT_OPS = {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}
EC_DEFAULT_OPS = {"sign", "verify"}

# An HSM key type (RSA-HSM, EC-HSM, oct-HSM) on a standard vault. Azure's text is "Hardware key operation not
# allowed on standard vault", but its status and code were never captured (AZURE-ERRORS.md 6.9: 400 BadParameter or
# 403 Forbidden are both plausible). Adjust these two constants if a live capture says otherwise.
HSM_ON_STANDARD_STATUS = 400
HSM_ON_STANDARD_CODE = "BadParameter"

# A release policy in Azure's SKR grammar (https://aka.ms/policygrammarkeys).
RELEASE_POLICY = json.dumps(
    {
        "version": "1.0.0",
        "anyOf": [
            {
                "authority": "https://sharedeus.eus.attest.azure.net",
                "allOf": [{"claim": "x-ms-attestation-type", "equals": "sevsnpvm"}],
            }
        ],
    }
).encode()


@pytest.fixture(scope="module")
def vault(make_key_vault) -> KeyVault:
    return make_key_vault("keys")


@pytest.fixture(scope="module")
def premium(make_key_vault) -> KeyVault:
    return make_key_vault("keyspremium", sku="premium")


@pytest.fixture
def client(vault: KeyVault) -> KeyClient:
    return vault.client


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _assert_public_only(key: KeyVaultKey) -> None:
    jwk = key.key
    for private in ("d", "p", "q", "dp", "dq", "qi", "k", "t"):
        assert getattr(jwk, private) is None, f"the vault returned private JWK member {private!r}"


# --------------------------------------------------------------------------------------------------------------
# Create and read


def test_sdk_configured_from_strongroom_env_alone(sdk_env: dict[str, str]):
    """`eval "$(strongroom env --vault V)"`, then Microsoft's key sample unchanged."""
    key_client = KeyClient(vault_url=os.environ["AZURE_KEYVAULT_URL"], credential=DefaultAzureCredential())
    name = unique_name("sample")
    rsa_key = key_client.create_rsa_key(name, size=2048)
    assert rsa_key.name == name
    assert rsa_key.key_type == KeyType.rsa
    assert key_client.get_key(name).id == rsa_key.id


@pytest.mark.parametrize("size", [2048, 3072, 4096])
def test_create_rsa_key_sizes(client: KeyClient, vault: KeyVault, size: int):
    name = unique_name(f"rsa{size}")
    key = client.create_rsa_key(name, size=size, public_exponent=65537)
    assert key.name == name
    assert key.key_type == KeyType.rsa
    assert key.properties.version
    assert key.id == f"{vault.url.rstrip('/')}/keys/{name}/{key.properties.version}"
    assert key.key.kid == key.id
    assert key.properties.vault_url == vault.url.rstrip("/")
    assert len(key.key.n) * 8 == size, f"modulus is {len(key.key.n) * 8} bits"
    assert key.key.n[0] & 0x80, "modulus must have its top bit set (no leading zero byte)"
    assert key.key.e == b"\x01\x00\x01"
    assert set(key.key_operations) == RSA_DEFAULT_OPS
    assert key.properties.enabled is True
    assert key.properties.created_on is not None and key.properties.updated_on is not None
    assert key.properties.recovery_level == "Recoverable+Purgeable"
    assert key.properties.recoverable_days == 90
    _assert_public_only(key)


@pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521", "P-256K"])
def test_create_ec_key_curves(client: KeyClient, curve: str):
    name = unique_name("ec")
    key = client.create_ec_key(name, curve=KeyCurveName(curve))
    assert key.key_type == KeyType.ec
    assert enum_text(key.key.crv) == curve
    size = ec_coordinate_size(curve)
    assert len(key.key.x) == size and len(key.key.y) == size, "EC coordinates are fixed-length"
    # The point is on the curve: `cryptography` refuses anything else.
    ec.EllipticCurvePublicNumbers(
        int.from_bytes(key.key.x, "big"), int.from_bytes(key.key.y, "big"), EC_CURVES[curve]
    ).public_key()
    assert set(key.key_operations) == EC_DEFAULT_OPS
    _assert_public_only(key)


def test_create_key_with_operations_attributes_and_tags(client: KeyClient):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    not_before = now - datetime.timedelta(days=1)
    expires_on = now + datetime.timedelta(days=30)
    name = unique_name("attrs")
    key = client.create_key(
        name,
        KeyType.rsa,
        size=2048,
        key_operations=["sign", "verify"],
        enabled=False,
        not_before=not_before,
        expires_on=expires_on,
        tags={"env": "test", "owner": "sdk"},
    )
    assert set(key.key_operations) == {"sign", "verify"}
    assert key.properties.enabled is False
    assert key.properties.not_before == not_before
    assert key.properties.expires_on == expires_on
    assert key.properties.tags == {"env": "test", "owner": "sdk"}

    # Unlike a disabled secret (403 SecretDisabled), a disabled key is readable: what GET returns is public.
    fetched = client.get_key(name)
    assert fetched.id == key.id
    assert set(fetched.key_operations) == {"sign", "verify"}
    assert fetched.properties.enabled is False
    assert (fetched.properties.not_before, fetched.properties.expires_on) == (not_before, expires_on)
    assert fetched.properties.tags == {"env": "test", "owner": "sdk"}
    assert fetched.key.n == key.key.n


def test_get_latest_and_by_version(client: KeyClient):
    name = unique_name("versions")
    first = client.create_ec_key(name, tags={"gen": "1"})
    second = client.create_ec_key(name, curve="P-384", tags={"gen": "2"})
    assert first.properties.version != second.properties.version

    latest = client.get_key(name)
    assert latest.properties.version == second.properties.version
    assert enum_text(latest.key.crv) == "P-384"
    assert latest.properties.tags == {"gen": "2"}

    old = client.get_key(name, first.properties.version)
    assert old.id == first.id
    assert enum_text(old.key.crv) == "P-256"
    assert (old.key.x, old.key.y) == (first.key.x, first.key.y)
    assert old.properties.tags == {"gen": "1"}


def test_update_key_properties(client: KeyClient):
    name = unique_name("update")
    created = client.create_rsa_key(name, size=2048)
    expires_on = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(days=10)

    updated = client.update_key_properties(
        name, created.properties.version, tags={"a": "1"}, key_operations=["verify"], expires_on=expires_on
    )
    assert updated.properties.version == created.properties.version
    assert updated.properties.tags == {"a": "1"}
    assert set(updated.key_operations) == {"verify"}
    assert updated.properties.expires_on == expires_on
    assert updated.properties.updated_on >= created.properties.updated_on
    assert updated.key.n == created.key.n, "an update never changes the key material"

    disabled = client.update_key_properties(name, enabled=False)
    assert disabled.properties.version == created.properties.version, "no version targets the latest"
    assert disabled.properties.enabled is False
    assert disabled.properties.tags == {"a": "1"}, "attributes not named in the update are kept"
    listed = {p.name: p for p in client.list_properties_of_keys()}
    assert listed[name].enabled is False

    enabled = client.update_key_properties(name, enabled=True)
    assert enabled.properties.enabled is True
    assert client.get_key(name).properties.tags == {"a": "1"}


def test_list_keys_and_versions_with_paging(make_key_vault):
    client = make_key_vault("keypaging").client
    names = sorted(f"page-{i:02d}" for i in range(30))
    for name in names:
        client.create_ec_key(name)

    listed = list(client.list_properties_of_keys(max_page_size=7))
    assert sorted(p.name for p in listed) == names
    assert all(p.version is None for p in listed), "list items are key ids without version"
    assert all(p.enabled is True for p in listed)

    pages = [list(page) for page in client.list_properties_of_keys(max_page_size=7).by_page()]
    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    default_pages = [list(page) for page in client.list_properties_of_keys().by_page()]
    assert all(len(page) <= 25 for page in default_pages)
    assert sorted(p.name for page in default_pages for p in page) == names

    versions = [client.get_key(names[0]).properties.version]
    versions += [client.create_ec_key(names[0]).properties.version for _ in range(2)]
    listed_versions = list(client.list_properties_of_key_versions(names[0]))
    assert sorted(p.version for p in listed_versions) == sorted(versions)
    assert all(p.name == names[0] for p in listed_versions)
    version_pages = [list(page) for page in client.list_properties_of_key_versions(names[0], max_page_size=2).by_page()]
    assert [len(page) for page in version_pages] == [2, 1]

    # Versions of a name that never existed: an empty list, not a 404 (AZURE-ERRORS.md 4.11).
    assert list(client.list_properties_of_key_versions(unique_name("never"))) == []


# --------------------------------------------------------------------------------------------------------------
# Delete, recover, purge


def test_delete_recover_purge_lifecycle(client: KeyClient, vault: KeyVault):
    name = unique_name("lifecycle")
    created = client.create_rsa_key(name, size=2048, tags={"life": "cycle"})

    start = time.monotonic()
    poller = client.begin_delete_key(name)
    deleted = poller.result()
    poller.wait()
    assert time.monotonic() - start < POLLER_NO_SLEEP_S, "delete poller had to sleep: deleted key not readable at once"
    assert deleted.name == name
    assert deleted.recovery_id == f"{vault.url.rstrip('/')}/deletedkeys/{name}"
    assert deleted.deleted_date is not None and deleted.scheduled_purge_date is not None
    assert deleted.key.n == created.key.n

    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_key(name)
    assert_http_error(caught.value, 404, code="KeyNotFound")

    got_deleted = client.get_deleted_key(name)
    assert got_deleted.name == name
    assert got_deleted.properties.version == created.properties.version
    assert got_deleted.properties.tags == {"life": "cycle"}
    assert got_deleted.recovery_id == deleted.recovery_id
    assert got_deleted.key.n == created.key.n
    retention = got_deleted.scheduled_purge_date - got_deleted.deleted_date
    assert abs(retention.total_seconds() - 90 * DAY_S) <= 5

    assert name in [d.name for d in client.list_deleted_keys()]
    assert name in [d.name for d in client.list_deleted_keys(max_page_size=1)]
    assert name not in [p.name for p in client.list_properties_of_keys()]

    start = time.monotonic()
    recover_poller = client.begin_recover_deleted_key(name)
    recover_poller.wait()
    assert time.monotonic() - start < POLLER_NO_SLEEP_S, "recover poller had to sleep: key not readable at once"
    recovered = recover_poller.result()
    assert recovered.name == name
    assert recovered.id == created.id
    assert client.get_key(name).key.n == created.key.n
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_key(name)

    client.begin_delete_key(name).wait()
    client.purge_deleted_key(name)
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_key(name)
    with pytest.raises(ResourceNotFoundError):
        client.get_key(name)
    assert name not in [d.name for d in client.list_deleted_keys()]

    # The name is free again after a purge, and the new key is new material.
    reborn = client.create_rsa_key(name, size=2048)
    assert reborn.key.n != created.key.n


def test_create_on_deleted_but_recoverable_name_conflicts(client: KeyClient):
    name = unique_name("conflict")
    client.create_ec_key(name)
    client.begin_delete_key(name).wait()
    with pytest.raises(ResourceExistsError) as caught:
        client.create_ec_key(name)
    assert_http_error(
        caught.value,
        409,
        code="Conflict",
        inner="ObjectIsDeletedButRecoverable",
        message_contains=f"Key {name} is currently in a deleted but recoverable state",
    )
    with pytest.raises(ResourceExistsError):
        client.import_key(name, jwk_from_private_key(ec.generate_private_key(ec.SECP256R1())))


def test_missing_keys_raise_key_not_found(client: KeyClient):
    name = unique_name("missing")
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_key(name)
    assert_http_error(caught.value, 404, code="KeyNotFound", message_contains=name)

    existing = unique_name("missingver")
    client.create_ec_key(existing)
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_key(existing, "0123456789abcdef0123456789abcdef")
    assert caught.value.error.code == "KeyNotFound"

    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_deleted_key(name)
    assert_http_error(caught.value, 404, code="KeyNotFound", message_contains=f"Deleted Key not found: {name}")

    for call in (
        lambda: client.begin_delete_key(name),
        lambda: client.begin_recover_deleted_key(name),
        lambda: client.purge_deleted_key(name),
        lambda: client.backup_key(name),
        lambda: client.update_key_properties(name, tags={"x": "y"}),
        lambda: client.rotate_key(name),
        lambda: client.get_key_rotation_policy(name),  # AZURE-ERRORS.md 4.10
    ):
        with pytest.raises(ResourceNotFoundError) as caught:
            call()
        assert_http_error(caught.value, 404, code="KeyNotFound")


# --------------------------------------------------------------------------------------------------------------
# Backup and restore


def test_backup_and_restore_same_vault_after_purge(client: KeyClient):
    name = unique_name("backup")
    v1 = client.create_rsa_key(name, size=2048, tags={"gen": "1"})
    v2 = client.create_rsa_key(name, size=2048, key_operations=["sign", "verify"])
    backup = client.backup_key(name)
    assert isinstance(backup, bytes) and len(backup) > 0
    for material in (v1.key.n, v2.key.n):
        assert material not in backup and _b64url(material).encode() not in backup, "backup blob is not sealed"

    with pytest.raises(ResourceExistsError) as caught:
        client.restore_key_backup(backup)
    assert_http_error(caught.value, 409, code="Conflict")

    client.begin_delete_key(name).wait()
    with pytest.raises(ResourceExistsError):
        client.restore_key_backup(backup)
    client.purge_deleted_key(name)

    restored = client.restore_key_backup(backup)
    assert restored.name == name
    assert restored.properties.version == v2.properties.version
    assert restored.key.n == v2.key.n
    assert set(restored.key_operations) == {"sign", "verify"}
    old = client.get_key(name, v1.properties.version)
    assert old.key.n == v1.key.n and old.properties.tags == {"gen": "1"}
    assert sorted(p.version for p in client.list_properties_of_key_versions(name)) == sorted(
        [v1.properties.version, v2.properties.version]
    )


def test_backup_restores_into_another_vault(client: KeyClient, make_key_vault):
    name = unique_name("crossvault")
    original = client.create_ec_key(name, curve="P-384", tags={"travels": "yes"})
    backup = client.backup_key(name)

    other = make_key_vault("keyrestore")
    restored = other.client.restore_key_backup(backup)
    assert restored.name == name
    assert restored.properties.vault_url == other.url.rstrip("/")
    assert restored.id == f"{other.url.rstrip('/')}/keys/{name}/{original.properties.version}"
    got = other.client.get_key(name)
    assert (got.key.x, got.key.y) == (original.key.x, original.key.y)
    assert got.properties.tags == {"travels": "yes"}
    # The source vault is untouched. (test_keys_crypto.py proves the private half travels too.)
    assert client.get_key(name).id == original.id


def test_restore_of_garbage_is_bad_request(client: KeyClient):
    with pytest.raises(HttpResponseError) as caught:
        client.restore_key_backup(b"this is not a backup blob")
    # AZURE-ERRORS.md 6.13: the code has spaces in it.
    assert_http_error(caught.value, 400, code="Malformed backup blob")


# --------------------------------------------------------------------------------------------------------------
# Import


def test_import_rsa_and_ec_keys(client: KeyClient):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = unique_name("importrsa")
    imported = client.import_key(name, jwk_from_private_key(private), tags={"origin": "local"})
    assert imported.name == name
    assert imported.key_type == KeyType.rsa
    numbers = private.public_key().public_numbers()
    assert int.from_bytes(imported.key.n, "big") == numbers.n
    assert int.from_bytes(imported.key.e, "big") == numbers.e
    assert imported.properties.tags == {"origin": "local"}
    _assert_public_only(imported)
    assert client.get_key(name).key.n == imported.key.n

    # Importing onto an existing name adds a version.
    second_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    again = client.import_key(name, jwk_from_private_key(second_private))
    assert again.properties.version != imported.properties.version
    assert len(list(client.list_properties_of_key_versions(name))) == 2

    ec_private = ec.generate_private_key(ec.SECP384R1())
    ec_name = unique_name("importec")
    ec_imported = client.import_key(ec_name, jwk_from_private_key(ec_private, key_ops=["sign", "verify"]))
    assert ec_imported.key_type == KeyType.ec
    assert enum_text(ec_imported.key.crv) == "P-384"
    ec_numbers = ec_private.public_key().public_numbers()
    assert int.from_bytes(ec_imported.key.x, "big") == ec_numbers.x
    assert int.from_bytes(ec_imported.key.y, "big") == ec_numbers.y
    assert set(ec_imported.key_operations) == {"sign", "verify"}
    _assert_public_only(ec_imported)


def test_import_rejects_a_key_without_private_material(client: KeyClient):
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
    jwk = JsonWebKey(kty="RSA", n=public.n.to_bytes(256, "big"), e=public.e.to_bytes(3, "big"))
    with pytest.raises(HttpResponseError) as caught:
        client.import_key(unique_name("publiconly"), jwk)
    assert_http_error(caught.value, 400, code="BadParameter")


# --------------------------------------------------------------------------------------------------------------
# Rotation


def _actions(policy: KeyRotationPolicy) -> dict[str, KeyRotationLifetimeAction]:
    return {enum_text(a.action).lower(): a for a in policy.lifetime_actions}


def test_rotate_key_makes_a_new_version(client: KeyClient):
    name = unique_name("rotate")
    first = client.create_rsa_key(name, size=2048, key_operations=["sign", "verify"], tags={"rot": "1"})
    rotated = client.rotate_key(name)
    assert rotated.name == name
    assert rotated.properties.version != first.properties.version
    assert rotated.key_type == KeyType.rsa
    assert len(rotated.key.n) == len(first.key.n), "rotation keeps the key size"
    assert rotated.key.n != first.key.n, "rotation makes new key material"
    assert set(rotated.key_operations) == {"sign", "verify"}, "rotation keeps key_ops"
    assert client.get_key(name).properties.version == rotated.properties.version
    assert client.get_key(name, first.properties.version).key.n == first.key.n
    assert len(list(client.list_properties_of_key_versions(name))) == 2

    ec_name = unique_name("rotateec")
    ec_first = client.create_ec_key(ec_name, curve="P-521")
    ec_rotated = client.rotate_key(ec_name)
    assert enum_text(ec_rotated.key.crv) == "P-521"
    assert ec_rotated.key.x != ec_first.key.x


def test_rotation_policy_round_trip(client: KeyClient):
    name = unique_name("policy")
    client.create_rsa_key(name, size=2048)

    default = client.get_key_rotation_policy(name)
    assert "rotate" not in _actions(default), "a key without a policy is never rotated automatically"

    policy = KeyRotationPolicy(
        lifetime_actions=[
            KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P90D"),
            KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D"),
        ],
        expires_in="P2Y",
    )
    updated = client.update_key_rotation_policy(name, policy)
    assert updated.id and updated.id.endswith(f"/keys/{name}/rotationpolicy")
    assert updated.expires_in == "P2Y"
    actions = _actions(updated)
    assert set(actions) == {"rotate", "notify"}
    assert actions["rotate"].time_after_create == "P90D" and actions["rotate"].time_before_expiry is None
    assert actions["notify"].time_before_expiry == "P30D" and actions["notify"].time_after_create is None
    assert updated.created_on is not None and updated.updated_on is not None

    fetched = client.get_key_rotation_policy(name)
    assert fetched.expires_in == "P2Y"
    assert {k: (a.time_after_create, a.time_before_expiry) for k, a in _actions(fetched).items()} == {
        "rotate": ("P90D", None),
        "notify": (None, "P30D"),
    }

    # lifetime_actions / expires_in keywords override the policy object, as in the SDK sample.
    replaced = client.update_key_rotation_policy(
        name,
        KeyRotationPolicy(),
        lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_before_expiry="P30D")],
        expires_in="P90D",
    )
    assert replaced.expires_in == "P90D"
    assert {k: (a.time_after_create, a.time_before_expiry) for k, a in _actions(replaced).items()} == {
        "rotate": (None, "P30D")
    }

    # A manual rotation applies the policy's expiryTime to the new version (spec: KeyRotationPolicyAttributes).
    rotated = client.rotate_key(name)
    assert rotated.properties.expires_on is not None
    lifetime = rotated.properties.expires_on - rotated.properties.created_on
    assert abs(lifetime.total_seconds() - 90 * DAY_S) <= 5


def test_rotation_policy_expiry_below_28_days_is_refused(client: KeyClient):
    name = unique_name("shortpolicy")
    client.create_ec_key(name)
    with pytest.raises(HttpResponseError) as caught:
        client.update_key_rotation_policy(
            name,
            KeyRotationPolicy(
                lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P7D")],
                expires_in="P7D",
            ),
        )
    assert_http_error(caught.value, 400, code="BadParameter")


# The automatic rotation moves the dev clock, which invalidates every token issued before the move: its own server.


@pytest.fixture(scope="module")
def clock_server(
    resolve_localhost_names, strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StrongroomServer]:
    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-keys-clock")) as srv:
        yield srv


def test_rotation_policy_rotates_when_the_clock_moves(clock_server: StrongroomServer):
    vault = clock_server.cli_json("keyvault", "create", "--name", unique_name("rotclock"))
    vault_name = vault["name"]
    name = unique_name("autorotate")
    untouched = unique_name("nopolicy")

    with clock_server.activated_env(vault_name) as env:
        credential = DefaultAzureCredential()
        client = KeyClient(env["AZURE_KEYVAULT_URL"], credential)
        first = client.create_rsa_key(name, size=2048, key_operations=["sign", "verify"])
        client.create_rsa_key(untouched, size=2048)
        policy = client.update_key_rotation_policy(
            name,
            KeyRotationPolicy(),
            lifetime_actions=[
                KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D"),
                KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D"),
            ],
            expires_in="P90D",
        )
        assert set(_actions(policy)) == {"rotate", "notify"}
        admin_token = credential.get_token("https://management.azure.com/.default").token
        assert clock_server.advance_clock(admin_token, 29 * DAY_S)["offsetSeconds"] == 29 * DAY_S

    # Tokens issued before the move are expired for the server: fresh credential and clients after each move.
    with clock_server.activated_env(vault_name) as env:
        credential = DefaultAzureCredential()
        client = KeyClient(env["AZURE_KEYVAULT_URL"], credential)
        assert [p.version for p in client.list_properties_of_key_versions(name)] == [first.properties.version], (
            "rotated before timeAfterCreate (P30D) had passed"
        )
        admin_token = credential.get_token("https://management.azure.com/.default").token
        assert clock_server.advance_clock(admin_token, 2 * DAY_S)["offsetSeconds"] == 31 * DAY_S

    with clock_server.activated_env(vault_name) as env:
        credential = DefaultAzureCredential()
        client = KeyClient(env["AZURE_KEYVAULT_URL"], credential)
        # The clock endpoint runs the janitor before it answers (CONTRACTS.md "Dev clock"): no waiting.
        versions = list(client.list_properties_of_key_versions(name))
        assert len(versions) == 2, f"no new version 31 days after creation with a P30D rotate action: {versions}"
        latest = client.get_key(name)
        assert latest.properties.version != first.properties.version
        assert latest.key.n != first.key.n and len(latest.key.n) == len(first.key.n)
        assert set(latest.key_operations) == {"sign", "verify"}
        lifetime = latest.properties.expires_on - latest.properties.created_on
        assert abs(lifetime.total_seconds() - 90 * DAY_S) <= 5, "the policy's expiryTime applies to the new version"
        assert client.get_key(name, first.properties.version).key.n == first.key.n
        # A key without a rotation policy is left alone.
        assert len(list(client.list_properties_of_key_versions(untouched))) == 1


# --------------------------------------------------------------------------------------------------------------
# Random bytes


def test_get_random_bytes(client: KeyClient):
    first = client.get_random_bytes(32)
    second = client.get_random_bytes(32)
    assert isinstance(first, bytes) and len(first) == 32 and len(second) == 32
    assert first != second
    assert len(client.get_random_bytes(1)) == 1
    assert len(client.get_random_bytes(128)) == 128
    with pytest.raises(HttpResponseError) as caught:
        client.get_random_bytes(129)
    assert_http_error(caught.value, 400, code="BadParameter")


# --------------------------------------------------------------------------------------------------------------
# Premium: HSM and symmetric key types


def test_premium_vault_sku(premium: KeyVault, vault: KeyVault):
    assert premium.sku == "premium"
    assert vault.sku == "standard"


def test_premium_vault_creates_hsm_and_oct_keys(premium: KeyVault):
    client = premium.client
    rsa_hsm = client.create_rsa_key(unique_name("rsahsm"), size=2048, hardware_protected=True)
    assert rsa_hsm.key_type == KeyType.rsa_hsm
    assert len(rsa_hsm.key.n) == 256 and rsa_hsm.key.e == b"\x01\x00\x01"
    assert set(rsa_hsm.key_operations) == RSA_DEFAULT_OPS
    _assert_public_only(rsa_hsm)

    for curve in ("P-256", "P-384"):
        ec_hsm = client.create_ec_key(unique_name("echsm"), curve=curve, hardware_protected=True)
        assert ec_hsm.key_type == KeyType.ec_hsm
        assert enum_text(ec_hsm.key.crv) == curve
        assert len(ec_hsm.key.x) == ec_coordinate_size(curve)
        _assert_public_only(ec_hsm)

    for size in (128, 192, 256):
        oct_hsm = client.create_oct_key(
            unique_name("octhsm"),
            size=size,
            hardware_protected=True,
            key_operations=["encrypt", "decrypt", "wrapKey", "unwrapKey"],
        )
        assert oct_hsm.key_type == KeyType.oct_hsm
        assert set(oct_hsm.key_operations) == {"encrypt", "decrypt", "wrapKey", "unwrapKey"}
        assert oct_hsm.key.k is None, "a symmetric key's material never leaves the vault"
        _assert_public_only(oct_hsm)
        assert client.get_key(oct_hsm.name).key.k is None

    soft_oct = client.create_oct_key(unique_name("oct"), size=256, key_operations=["encrypt", "decrypt"])
    assert soft_oct.key_type == KeyType.oct
    assert soft_oct.key.k is None

    imported = client.import_key(
        unique_name("importhsm"),
        jwk_from_private_key(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        hardware_protected=True,
    )
    assert imported.key_type == KeyType.rsa_hsm


@pytest.mark.parametrize(
    "key_type, options",
    [
        ("RSA-HSM", {"size": 2048}),
        ("EC-HSM", {"curve": "P-256"}),
        ("oct-HSM", {"size": 256}),
    ],
)
def test_standard_vault_refuses_hsm_key_types(client: KeyClient, key_type: str, options: dict):
    name = unique_name("nohsm")
    with pytest.raises(HttpResponseError) as caught:
        client.create_key(name, key_type, **options)
    assert_http_error(caught.value, HSM_ON_STANDARD_STATUS, code=HSM_ON_STANDARD_CODE)
    with pytest.raises(ResourceNotFoundError):
        client.get_key(name)


def test_standard_vault_refuses_hsm_import(client: KeyClient):
    with pytest.raises(HttpResponseError) as caught:
        client.import_key(
            unique_name("nohsmimport"),
            jwk_from_private_key(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            hardware_protected=True,
        )
    assert_http_error(caught.value, HSM_ON_STANDARD_STATUS, code=HSM_ON_STANDARD_CODE)


def test_standard_vault_refuses_oct_keys(client: KeyClient):
    # AZURE-ERRORS.md 6.8:
    # {"code":"BadParameter","message":"Invalid kty value: oct","innererror":{"code":"KeyTypeNotSupported"}}
    with pytest.raises(HttpResponseError) as caught:
        client.create_oct_key(unique_name("nooct"), size=256)
    assert_http_error(caught.value, 400, code="BadParameter", inner="KeyTypeNotSupported")


def test_invalid_key_parameters_are_bad_parameter(client: KeyClient):
    for call in (
        lambda: client.create_rsa_key(unique_name("badsize"), size=1000),
        lambda: client.create_ec_key(unique_name("badcurve"), curve="P-192"),
        lambda: client.create_key(unique_name("badkty"), "DSA"),
    ):
        with pytest.raises(HttpResponseError) as caught:
            call()
        assert_http_error(caught.value, 400, code="BadParameter")


# --------------------------------------------------------------------------------------------------------------
# Exportable keys and release policies (AZURE-ERRORS.md 6.14)


def test_exportable_key_requires_a_release_policy(premium: KeyVault):
    with pytest.raises(HttpResponseError) as caught:
        premium.client.create_rsa_key(
            unique_name("exportnopolicy"), size=2048, hardware_protected=True, exportable=True
        )
    assert_http_error(caught.value, 400, code="BadParameter")
    assert caught.value.error.message.startswith("AKV.SKR.1004"), caught.value.error.message


def test_release_policy_requires_an_exportable_key(premium: KeyVault):
    with pytest.raises(HttpResponseError) as caught:
        premium.client.create_rsa_key(
            unique_name("policynoexport"),
            size=2048,
            hardware_protected=True,
            release_policy=KeyReleasePolicy(RELEASE_POLICY),
        )
    assert_http_error(caught.value, 400, code="BadParameter")
    assert caught.value.error.message.startswith("AKV.SKR.1005"), caught.value.error.message


def test_exportable_key_with_release_policy(premium: KeyVault):
    name = unique_name("exportable")
    key = premium.client.create_rsa_key(
        name, size=2048, hardware_protected=True, exportable=True, release_policy=KeyReleasePolicy(RELEASE_POLICY)
    )
    assert key.properties.exportable is True
    assert key.properties.release_policy is not None
    assert json.loads(key.properties.release_policy.encoded_policy) == json.loads(RELEASE_POLICY)
    fetched = premium.client.get_key(name)
    assert fetched.properties.exportable is True
    assert json.loads(fetched.properties.release_policy.encoded_policy) == json.loads(RELEASE_POLICY)
