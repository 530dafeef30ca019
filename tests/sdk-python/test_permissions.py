"""Access policies, proven both ways for every secret permission.

For each permission P of get, list, set, delete, backup, restore, recover, purge:
- a service principal whose policy grants exactly P can perform the operation that needs P;
- a service principal granted every permission but P is refused with Azure's 403
  (`Forbidden`, "does not have secrets P permission", inner `AccessDenied`; AZURE-ERRORS.md section 3.1).
The vault's administrator (the CLI's principal) prepares state the principal under test may not create itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

from kv_errors import assert_access_denied
from strongroom_server import Principal, StrongroomServer, Vault, unique_name

ALL_SECRET_PERMISSIONS = ["get", "list", "set", "delete", "backup", "restore", "recover", "purge"]


@dataclass
class Case:
    """prepare(admin, name) -> state; act(client, name, state) -> result; check(admin, name, state, result)."""

    prepare: Callable[[SecretClient, str], Any]
    act: Callable[[SecretClient, str, Any], Any]
    check: Callable[[SecretClient, str, Any, Any], None]


def _set(admin: SecretClient, name: str) -> str:
    value = f"value of {name}"
    admin.set_secret(name, value)
    return value


def _set_and_delete(admin: SecretClient, name: str) -> str:
    value = _set(admin, name)
    admin.begin_delete_secret(name).wait()
    return value


def _backup_then_purge(admin: SecretClient, name: str) -> tuple[str, bytes]:
    value = _set(admin, name)
    blob = admin.backup_secret(name)
    admin.begin_delete_secret(name).wait()
    admin.purge_deleted_secret(name)
    return value, blob


def _check_get(admin, name, value, result):
    assert result.value == value


def _check_list(admin, name, value, result):
    assert name in result


def _check_set(admin, name, state, result):
    assert result.value == "set by the principal"
    assert admin.get_secret(name).value == "set by the principal"


def _check_delete(admin, name, value, result):
    assert result.name == name
    assert admin.get_deleted_secret(name).name == name


def _check_backup(admin, name, value, result):
    assert isinstance(result, bytes) and len(result) > 0


def _check_restore(admin, name, state, result):
    value, _blob = state
    assert result.name == name
    assert admin.get_secret(name).value == value


def _check_recover(admin, name, value, result):
    assert admin.get_secret(name).value == value


def _check_purge(admin, name, value, result):
    with pytest.raises(ResourceNotFoundError):
        admin.get_deleted_secret(name)


def _delete(client: SecretClient, name: str, _state: Any):
    poller = client.begin_delete_secret(name)
    poller.wait()  # polls GET /deletedsecrets/{name}; a 403 there also ends the poll
    return poller.result()


def _recover(client: SecretClient, name: str, _state: Any):
    poller = client.begin_recover_deleted_secret(name)
    poller.wait()
    return poller.result()


CASES: dict[str, Case] = {
    "get": Case(_set, lambda c, n, s: c.get_secret(n), _check_get),
    "list": Case(_set, lambda c, n, s: [p.name for p in c.list_properties_of_secrets()], _check_list),
    "set": Case(lambda a, n: None, lambda c, n, s: c.set_secret(n, "set by the principal"), _check_set),
    "delete": Case(_set, _delete, _check_delete),
    "backup": Case(_set, lambda c, n, s: c.backup_secret(n), _check_backup),
    "restore": Case(_backup_then_purge, lambda c, n, s: c.restore_secret_backup(s[1]), _check_restore),
    "recover": Case(_set_and_delete, _recover, _check_recover),
    "purge": Case(_set_and_delete, lambda c, n, s: c.purge_deleted_secret(n), _check_purge),
}


def test_cases_cover_every_permission():
    assert sorted(CASES) == sorted(ALL_SECRET_PERMISSIONS)


@pytest.fixture(scope="module")
def vault(make_vault) -> Vault:
    return make_vault("perms")


@pytest.mark.parametrize("permission", ALL_SECRET_PERMISSIONS)
def test_exactly_this_permission_allows(permission: str, vault: Vault, make_principal):
    principal: Principal = make_principal(f"only-{permission}", vault.name, [permission])
    case = CASES[permission]
    name = unique_name(f"allow-{permission}")
    state = case.prepare(vault.client, name)
    result = case.act(principal.client(vault.url), name, state)
    case.check(vault.client, name, state, result)


@pytest.mark.parametrize("permission", ALL_SECRET_PERMISSIONS)
def test_all_other_permissions_deny(permission: str, vault: Vault, make_principal):
    others = [p for p in ALL_SECRET_PERMISSIONS if p != permission]
    principal: Principal = make_principal(f"allbut-{permission}", vault.name, others)
    case = CASES[permission]
    name = unique_name(f"deny-{permission}")
    state = case.prepare(vault.client, name)
    with pytest.raises(HttpResponseError) as caught:
        case.act(principal.client(vault.url), name, state)
    assert_access_denied(caught.value, permission)


def test_principal_without_policy_is_forbidden(vault: Vault, make_principal):
    principal: Principal = make_principal("nopolicy")
    client = principal.client(vault.url)
    name = unique_name("nopolicy")
    vault.client.set_secret(name, "v")
    with pytest.raises(HttpResponseError) as caught:
        client.get_secret(name)
    assert_access_denied(caught.value, "get")
    with pytest.raises(HttpResponseError) as caught:
        client.set_secret(name, "v2")
    assert_access_denied(caught.value, "set")
    with pytest.raises(HttpResponseError) as caught:
        list(client.list_properties_of_secrets())
    assert_access_denied(caught.value, "list")
    assert vault.client.get_secret(name).value == "v"


def test_denial_message_names_caller_and_vault(vault: Vault, make_principal):
    principal: Principal = make_principal("denymsg")
    with pytest.raises(HttpResponseError) as caught:
        principal.client(vault.url).get_secret(unique_name("any"))
    message = caught.value.error.message
    assert f"appid={principal.app_id};" in message
    assert f"on key vault '{vault.name};location=" in message


def test_policy_removal_takes_effect(server: StrongroomServer, vault: Vault, make_principal):
    principal: Principal = make_principal("revoked", vault.name, ["get"])
    name = unique_name("revoked")
    vault.client.set_secret(name, "v")
    client = principal.client(vault.url)
    assert client.get_secret(name).value == "v"
    server.cli_json("keyvault", "delete-policy", "--name", vault.name, "--spn", principal.app_id)
    with pytest.raises(HttpResponseError) as caught:
        client.get_secret(name)
    assert_access_denied(caught.value, "get")


def test_policy_in_one_vault_grants_nothing_in_another(make_vault, make_principal):
    granted = make_vault("grantedin")
    other = make_vault("notgranted")
    principal: Principal = make_principal("scoped", granted.name, ALL_SECRET_PERMISSIONS)
    name = unique_name("scoped")
    granted.client.set_secret(name, "v")
    other.client.set_secret(name, "v")
    assert principal.client(granted.url).get_secret(name).value == "v"
    with pytest.raises(HttpResponseError) as caught:
        principal.client(other.url).get_secret(name)
    assert_access_denied(caught.value, "get")


def test_request_without_token_gets_the_challenge(server: StrongroomServer, vault: Vault):
    res = requests.get(
        f"{vault.url.rstrip('/')}/secrets/anything/",
        params={"api-version": "2026-04-01"},
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code == 401
    assert res.headers["WWW-Authenticate"] == (
        f'Bearer authorization="{server.authority_host}/{server.tenant_id}", resource="{server.vault_audience}"'
    )
    assert res.json() == {
        "error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}
    }


def test_principal_token_is_not_an_admin_token(server: StrongroomServer, vault: Vault, make_principal):
    """A principal with every secret permission is still no administrator for the management API."""
    principal: Principal = make_principal("notadmin", vault.name, ALL_SECRET_PERMISSIONS)
    token = server.token(principal.app_id, principal.password, "https://management.azure.com/.default")
    res = requests.get(
        f"{server.authority_host}/subscriptions/{server.info['subscriptionId']}/providers/Microsoft.KeyVault/vaults",
        params={"api-version": "2023-07-01"},
        headers={"Authorization": f"Bearer {token}"},
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code in (401, 403), f"{res.status_code} {res.text}"
    assert "error" in res.json()
