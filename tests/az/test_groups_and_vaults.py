"""Resource groups and vaults with the unmodified `az`, through transparent mode: `az group create|show|exists|
list|update|delete` and `az keyvault create|show|list` as Resource Manager answers them (a vault needs its group;
deleting a group deletes its vaults; a vault's URI is its `*.vault.azure.net` name, which the proxy serves)."""

from __future__ import annotations

from typing import Any

from conftest import Az
from strongroom_server import StrongroomServer, unique_name


def error_of(result: Any) -> str:
    assert result.returncode != 0, f"`az {' '.join(result.argv)}` succeeded: {result.stdout}"
    return str(result.stderr)


def test_a_resource_group_is_created_shown_listed_updated_and_deleted(
    signed_in: Az, server: StrongroomServer
) -> None:
    az = signed_in
    name = unique_name("rg")
    subscription_id = server.info["subscriptionId"]
    assert az.run("group", "exists", "--name", name).stdout.strip() == "false"

    created = az.json("group", "create", "--name", name, "--location", "westeurope", "--tags", "team=vault")
    assert created["id"] == f"/subscriptions/{subscription_id}/resourceGroups/{name}"
    assert created["name"] == name
    assert created["location"] == "westeurope"
    assert created["tags"] == {"team": "vault"}
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert created["type"] == "Microsoft.Resources/resourceGroups"

    assert az.run("group", "exists", "--name", name.upper()).stdout.strip() == "true"
    assert az.json("group", "show", "--name", name) == created
    assert name in [group["name"] for group in az.json("group", "list")]

    updated = az.json("group", "update", "--name", name, "--set", "tags.stage=test")
    assert updated["tags"] == {"team": "vault", "stage": "test"}

    moved = az.run("group", "create", "--name", name, "--location", "eastus")
    assert "InvalidResourceGroupLocation" in error_of(moved)

    assert az.run("group", "delete", "--name", name, "--yes").returncode == 0
    assert az.run("group", "exists", "--name", name).stdout.strip() == "false"
    assert "ResourceGroupNotFound" in error_of(az.run("group", "show", "--name", name))


def test_a_vault_lives_in_its_group_and_goes_with_it(signed_in: Az, server: StrongroomServer) -> None:
    az = signed_in
    group = unique_name("rg")
    vault = unique_name("kv")
    missing = az.run("keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope")
    assert "ResourceGroupNotFound" in error_of(missing)

    az.json("group", "create", "--name", group, "--location", "westeurope")
    created = az.json("keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope")
    assert created["resourceGroup"] == group
    assert created["location"] == "westeurope"
    assert created["properties"]["vaultUri"] == f"https://{vault}.vault.azure.net/"
    assert created["properties"]["tenantId"] == server.tenant_id

    # Without --resource-group the CLI finds the group through the generic resource list.
    shown = az.json("keyvault", "show", "--name", vault)
    assert shown["id"] == created["id"]
    assert vault in [v["name"] for v in az.json("keyvault", "list")]
    assert [v["name"] for v in az.json("keyvault", "list", "--resource-group", group)] == [vault]
    assert vault not in [v["name"] for v in az.json("keyvault", "list", "--resource-group", "strongroom")]

    # Another group's path does not reach it, and cannot take its name.
    elsewhere = unique_name("rg")
    az.json("group", "create", "--name", elsewhere, "--location", "westeurope")
    wrong_group = az.run("keyvault", "show", "--name", vault, "--resource-group", elsewhere)
    assert "ResourceNotFound" in error_of(wrong_group)
    taken = az.run("keyvault", "create", "--name", vault, "--resource-group", elsewhere, "--location", "westeurope")
    assert "VaultAlreadyExists" in error_of(taken)
    assert az.run("group", "delete", "--name", elsewhere, "--yes").returncode == 0
    assert az.json("keyvault", "show", "--name", vault)["id"] == created["id"], "deleting the other group left it"

    assert az.run("group", "delete", "--name", group, "--yes").returncode == 0
    assert vault not in [v["name"] for v in az.json("keyvault", "list")]
    assert az.run("keyvault", "show", "--name", vault).returncode != 0
