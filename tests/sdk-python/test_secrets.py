"""The Secrets API through Microsoft's `azure-keyvault-secrets`, written like the SDK's own samples.

Every operation of the 2026-04-01 secrets spec is exercised: set/get (latest and by version), update, paging,
versions, delete/recover/purge with the SDK's pollers, backup/restore, and the error cases clients match on
(`ResourceNotFoundError`, `ResourceExistsError`, `HttpResponseError` with Azure's codes).
"""

from __future__ import annotations

import datetime
import os
import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

from kv_errors import assert_http_error
from strongroom_server import Vault, unique_name

MAX_VALUE_BYTES = 25 * 1024
MAX_TAGS = 15
# The delete/recover pollers sleep 2 s between polls; an immediately consistent server never makes them sleep.
POLLER_NO_SLEEP_S = 1.9


@pytest.fixture(scope="module")
def vault(make_vault) -> Vault:
    return make_vault("secrets")


@pytest.fixture
def client(vault: Vault) -> SecretClient:
    return vault.client


def test_sdk_configured_from_strongroom_env_alone(secret_client: SecretClient, sdk_env: dict[str, str]):
    """`eval "$(strongroom env --vault V)"`, then Microsoft's sample code unchanged."""
    assert os.environ["AZURE_TENANT_ID"] == "adfs"
    assert os.environ["REQUESTS_CA_BUNDLE"] == sdk_env["REQUESTS_CA_BUNDLE"]
    client = SecretClient(vault_url=os.environ["AZURE_KEYVAULT_URL"], credential=DefaultAzureCredential())
    name = unique_name("sample")
    client.set_secret(name, "from the sample")
    assert client.get_secret(name).value == "from the sample"
    assert secret_client.get_secret(name).value == "from the sample"


def test_set_and_get_current_and_by_version(client: SecretClient, vault: Vault):
    name = unique_name("getset")
    first = client.set_secret(name, "first value", content_type="text/plain", tags={"env": "test"})
    assert first.name == name
    assert first.value == "first value"
    assert first.properties.version
    assert first.properties.content_type == "text/plain"
    assert first.properties.tags == {"env": "test"}
    assert first.properties.enabled is True
    assert first.properties.vault_url == vault.url.rstrip("/")
    assert first.id == f"{vault.url.rstrip('/')}/secrets/{name}/{first.properties.version}"
    assert first.properties.created_on is not None and first.properties.updated_on is not None
    assert first.properties.recovery_level == "Recoverable+Purgeable"
    assert first.properties.recoverable_days == 90

    second = client.set_secret(name, "second value")
    assert second.properties.version != first.properties.version

    latest = client.get_secret(name)
    assert latest.value == "second value"
    assert latest.properties.version == second.properties.version

    old = client.get_secret(name, first.properties.version)
    assert old.value == "first value"
    assert old.properties.content_type == "text/plain"
    assert old.properties.tags == {"env": "test"}


def test_unicode_and_empty_values_round_trip(client: SecretClient):
    for value in ["pa$$word with spaces", "snow ☃ and 中文", "line1\nline2\r\n\ttab", '{"json": [1, 2]}']:
        name = unique_name("unicode")
        client.set_secret(name, value)
        assert client.get_secret(name).value == value


def test_update_properties_and_disabled_secret(client: SecretClient):
    name = unique_name("update")
    created = client.set_secret(name, "to be disabled")

    updated = client.update_secret_properties(
        name, created.properties.version, content_type="application/json", tags={"a": "1", "b": "2"}
    )
    assert updated.version == created.properties.version
    assert updated.content_type == "application/json"
    assert updated.tags == {"a": "1", "b": "2"}
    assert updated.updated_on >= created.properties.updated_on

    fetched = client.get_secret(name)
    assert fetched.value == "to be disabled"
    assert fetched.properties.content_type == "application/json"
    assert fetched.properties.tags == {"a": "1", "b": "2"}

    disabled = client.update_secret_properties(name, created.properties.version, enabled=False)
    assert disabled.enabled is False

    with pytest.raises(HttpResponseError) as caught:
        client.get_secret(name)
    assert_http_error(
        caught.value,
        403,
        code="Forbidden",
        inner="SecretDisabled",
        message_contains="Operation get is not allowed on a disabled secret.",
    )

    # Updating a disabled secret still works (AZURE-ERRORS.md section 3.4), and so does enabling it again.
    retagged = client.update_secret_properties(name, created.properties.version, tags={"still": "updatable"})
    assert retagged.tags == {"still": "updatable"}
    assert retagged.enabled is False
    # A disabled secret is still listed, with enabled=False.
    listed = {p.name: p for p in client.list_properties_of_secrets()}
    assert listed[name].enabled is False

    client.update_secret_properties(name, created.properties.version, enabled=True)
    assert client.get_secret(name).value == "to be disabled"


def test_activation_and_expiry_dates_round_trip(client: SecretClient):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    not_before = now - datetime.timedelta(days=1)
    expires_on = now + datetime.timedelta(days=30)
    name = unique_name("dates")
    created = client.set_secret(name, "dated", not_before=not_before, expires_on=expires_on)
    assert created.properties.not_before == not_before
    assert created.properties.expires_on == expires_on
    fetched = client.get_secret(name)
    assert (fetched.properties.not_before, fetched.properties.expires_on) == (not_before, expires_on)

    later = expires_on + datetime.timedelta(days=1)
    updated = client.update_secret_properties(name, expires_on=later)
    assert updated.expires_on == later and updated.not_before == not_before

    # An expired secret is still readable (AZURE-ERRORS.md section 3.9).
    expired = unique_name("expired")
    client.set_secret(expired, "stale", expires_on=now - datetime.timedelta(hours=1))
    assert client.get_secret(expired).value == "stale"


def test_update_without_version_targets_latest(client: SecretClient):
    name = unique_name("updlatest")
    client.set_secret(name, "v1")
    v2 = client.set_secret(name, "v2")
    props = client.update_secret_properties(name, content_type="latest")
    assert props.version == v2.properties.version
    assert client.get_secret(name).properties.content_type == "latest"


def test_list_with_paging(make_vault):
    vault = make_vault("paging")
    client = vault.client
    names = sorted(f"page-{i:02d}" for i in range(30))
    for name in names:
        client.set_secret(name, f"value of {name}")

    listed = list(client.list_properties_of_secrets(max_page_size=7))
    assert sorted(p.name for p in listed) == names
    # Lists carry no values, only properties.
    assert all(p.version is None for p in listed), "list items are secret ids without version"
    assert all(p.enabled is True for p in listed)

    pages = [list(page) for page in client.list_properties_of_secrets(max_page_size=7).by_page()]
    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    assert sorted(p.name for page in pages for p in page) == names

    # Without max_page_size the service returns up to 25 per page (spec: maxresults defaults to 25).
    default_pages = [list(page) for page in client.list_properties_of_secrets().by_page()]
    assert all(len(page) <= 25 for page in default_pages)
    assert sorted(p.name for page in default_pages for p in page) == names


def test_list_versions(client: SecretClient):
    name = unique_name("versions")
    versions = [client.set_secret(name, f"value {i}").properties.version for i in range(3)]
    assert len(set(versions)) == 3

    listed = list(client.list_properties_of_secret_versions(name))
    assert sorted(p.version for p in listed) == sorted(versions)
    assert all(p.name == name for p in listed)

    paged = [list(page) for page in client.list_properties_of_secret_versions(name, max_page_size=2).by_page()]
    assert [len(page) for page in paged] == [2, 1]

    # Versions of a name that never existed: an empty list, not a 404 (AZURE-ERRORS.md section 4.11).
    assert list(client.list_properties_of_secret_versions(unique_name("never"))) == []


def test_delete_recover_purge_lifecycle(client: SecretClient, vault: Vault):
    name = unique_name("lifecycle")
    created = client.set_secret(name, "lifecycle value")

    start = time.monotonic()
    poller = client.begin_delete_secret(name)
    deleted = poller.result()
    poller.wait()
    assert time.monotonic() - start < POLLER_NO_SLEEP_S, (
        "delete poller had to sleep: deleted secret not readable at once"
    )
    assert deleted.name == name
    assert deleted.recovery_id == f"{vault.url.rstrip('/')}/deletedsecrets/{name}"
    assert deleted.deleted_date is not None and deleted.scheduled_purge_date is not None

    with pytest.raises(ResourceNotFoundError):
        client.get_secret(name)

    got_deleted = client.get_deleted_secret(name)
    assert got_deleted.name == name
    assert got_deleted.properties.version == created.properties.version
    assert got_deleted.recovery_id == deleted.recovery_id
    # Default retention is 90 days.
    retention = got_deleted.scheduled_purge_date - got_deleted.deleted_date
    assert abs(retention.total_seconds() - 90 * 86400) <= 5

    assert name in [d.name for d in client.list_deleted_secrets()]
    assert name in [d.name for d in client.list_deleted_secrets(max_page_size=1)]
    assert name not in [p.name for p in client.list_properties_of_secrets()]

    start = time.monotonic()
    recover_poller = client.begin_recover_deleted_secret(name)
    recover_poller.wait()
    assert time.monotonic() - start < POLLER_NO_SLEEP_S, "recover poller had to sleep: secret not readable at once"
    assert recover_poller.result().name == name
    assert client.get_secret(name).value == "lifecycle value"
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret(name)

    client.begin_delete_secret(name).wait()
    client.purge_deleted_secret(name)
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret(name)
    with pytest.raises(ResourceNotFoundError):
        client.get_secret(name)
    assert name not in [d.name for d in client.list_deleted_secrets()]

    # The name is free again after a purge.
    assert client.set_secret(name, "reborn").value == "reborn"


def test_missing_objects_raise_not_found(client: SecretClient):
    name = unique_name("missing")
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_secret(name)
    assert_http_error(caught.value, 404, code="SecretNotFound", message_contains=name)

    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_secret(name, "0123456789abcdef0123456789abcdef")
    assert caught.value.error.code == "SecretNotFound"

    existing = unique_name("missingver")
    client.set_secret(existing, "v")
    with pytest.raises(ResourceNotFoundError):
        client.get_secret(existing, "0123456789abcdef0123456789abcdef")

    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_deleted_secret(name)
    assert_http_error(caught.value, 404, code="SecretNotFound", message_contains=f"Deleted Secret not found: {name}")

    with pytest.raises(ResourceNotFoundError):
        client.begin_delete_secret(name)
    with pytest.raises(ResourceNotFoundError):
        client.begin_recover_deleted_secret(name)
    with pytest.raises(ResourceNotFoundError):
        client.purge_deleted_secret(name)
    with pytest.raises(ResourceNotFoundError):
        client.backup_secret(name)
    with pytest.raises(ResourceNotFoundError):
        client.update_secret_properties(name, content_type="x")


def test_set_on_deleted_but_recoverable_name_conflicts(client: SecretClient):
    name = unique_name("conflict")
    client.set_secret(name, "v")
    client.begin_delete_secret(name).wait()
    with pytest.raises(ResourceExistsError) as caught:
        client.set_secret(name, "again")
    assert_http_error(
        caught.value,
        409,
        code="Conflict",
        inner="ObjectIsDeletedButRecoverable",
        message_contains="deleted but recoverable",
    )


def test_backup_and_restore_same_vault_after_purge(client: SecretClient):
    name = unique_name("backup")
    v1 = client.set_secret(name, "backup v1", tags={"gen": "1"})
    v2 = client.set_secret(name, "backup v2", content_type="text/plain")
    backup = client.backup_secret(name)
    assert isinstance(backup, bytes) and len(backup) > 0
    assert b"backup v1" not in backup and b"backup v2" not in backup, "backup blob carries the plaintext"

    # Restoring onto a name that exists is a conflict.
    with pytest.raises(ResourceExistsError) as caught:
        client.restore_secret_backup(backup)
    assert_http_error(caught.value, 409, code="Conflict")

    client.begin_delete_secret(name).wait()
    # ... and so is restoring while the name is deleted but recoverable.
    with pytest.raises(ResourceExistsError):
        client.restore_secret_backup(backup)
    client.purge_deleted_secret(name)

    restored = client.restore_secret_backup(backup)
    assert restored.name == name
    assert restored.version == v2.properties.version
    assert client.get_secret(name).value == "backup v2"
    old = client.get_secret(name, v1.properties.version)
    assert old.value == "backup v1" and old.properties.tags == {"gen": "1"}
    assert sorted(p.version for p in client.list_properties_of_secret_versions(name)) == sorted(
        [v1.properties.version, v2.properties.version]
    )


def test_backup_restores_into_another_vault(client: SecretClient, make_vault):
    name = unique_name("crossvault")
    original = client.set_secret(name, "travels between vaults", content_type="text/plain")
    backup = client.backup_secret(name)

    other = make_vault("restoretarget")
    restored = other.client.restore_secret_backup(backup)
    assert restored.name == name
    assert restored.vault_url == other.url.rstrip("/")
    assert restored.id.startswith(f"{other.url.rstrip('/')}/secrets/{name}/")
    got = other.client.get_secret(name)
    assert got.value == "travels between vaults"
    assert got.properties.version == original.properties.version
    assert got.properties.content_type == "text/plain"
    # The source vault is untouched.
    assert client.get_secret(name).value == "travels between vaults"


def test_restore_of_garbage_is_bad_request(client: SecretClient):
    with pytest.raises(HttpResponseError) as caught:
        client.restore_secret_backup(b"this is not a backup blob")
    assert caught.value.status_code == 400
    assert caught.value.error is not None and caught.value.error.code


def test_value_size_limit(client: SecretClient):
    name = unique_name("size")
    at_limit = "x" * MAX_VALUE_BYTES
    assert client.set_secret(name, at_limit).value == at_limit
    assert client.get_secret(name).value == at_limit

    with pytest.raises(HttpResponseError) as caught:
        client.set_secret(name, "x" * (MAX_VALUE_BYTES + 1))
    assert_http_error(caught.value, 400, code="BadParameter")
    assert client.get_secret(name).value == at_limit, "a rejected set must not create a version"


def test_tag_count_limit(client: SecretClient):
    name = unique_name("tags")
    fifteen = {f"tag{i}": f"value{i}" for i in range(MAX_TAGS)}
    assert client.set_secret(name, "v", tags=fifteen).properties.tags == fifteen

    sixteen = {f"tag{i}": f"value{i}" for i in range(MAX_TAGS + 1)}
    with pytest.raises(HttpResponseError) as caught:
        client.set_secret(name, "v", tags=sixteen)
    assert_http_error(caught.value, 400, code="BadParameter")
    with pytest.raises(HttpResponseError) as caught:
        client.update_secret_properties(name, tags=sixteen)
    assert_http_error(caught.value, 400, code="BadParameter")


@pytest.mark.parametrize("bad_name", ["under_score", "has space", "dot.ted", "ümlaut", "a" * 128])
def test_invalid_names_are_bad_parameter(client: SecretClient, bad_name: str):
    with pytest.raises(HttpResponseError) as caught:
        client.set_secret(bad_name, "v")
    assert_http_error(caught.value, 400, code="BadParameter")
    with pytest.raises(HttpResponseError) as caught:
        client.get_secret(bad_name)
    assert_http_error(caught.value, 400, code="BadParameter")


def test_longest_valid_name(client: SecretClient):
    name = "n" + "0123456789abcdef" * 7 + "a" * 14  # 127 characters
    assert len(name) == 127
    assert client.set_secret(name, "v").name == name


@pytest.mark.parametrize("api_version", ["7.0", "7.4", "2016-10-01", "2025-07-01", "2026-04-01"])
def test_api_version_pinning(vault: Vault, credential, api_version: str):
    client = SecretClient(vault.url, credential, api_version=api_version)
    name = unique_name("apiver")
    created = client.set_secret(name, f"pinned {api_version}", tags={"api": api_version})
    assert created.value == f"pinned {api_version}"
    assert client.get_secret(name).value == f"pinned {api_version}"
    assert name in [p.name for p in client.list_properties_of_secrets()]
    client.begin_delete_secret(name).wait()
    assert client.get_deleted_secret(name).name == name
