"""A vault's whole life with the unmodified `az`: update (tags, authorisation model), access policies on a vault that
uses them (set-policy, delete-policy; az itself refuses them on an RBAC vault), soft delete with list-deleted and
show-deleted, the deleted name staying taken, recover with its secrets intact, and purge freeing the name."""

from __future__ import annotations

from pathlib import Path

from conftest import Az
from strongroom_server import StrongroomServer, unique_name


def test_update_and_access_policies(signed_in: Az, admin_credential: dict[str, str], tmp_path: Path) -> None:
    az = signed_in
    group, vault = unique_name("rg"), unique_name("kv")
    az.json("group", "create", "--name", group, "--location", "westeurope")
    az.json("keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope")
    app = az.json("ad", "sp", "create-for-rbac", "--name", unique_name("reader"))
    object_id = az.json("ad", "sp", "show", "--id", app["appId"])["id"]

    # az refuses access policies on an RBAC vault before it sends anything.
    refused = az.run("keyvault", "set-policy", "--name", vault, "--object-id", object_id, "--secret-permissions", "get")
    assert refused.returncode != 0 and "enable-rbac-authorization" in refused.stderr, refused.stderr

    updated = az.json("keyvault", "update", "--name", vault, "--enable-rbac-authorization", "false", "--set", "tags.env=dev")
    assert updated["properties"]["enableRbacAuthorization"] is False and updated["tags"] == {"env": "dev"}
    assert az.json("keyvault", "show", "--name", vault)["tags"] == {"env": "dev"}, "the update was kept"

    with_policy = az.json("keyvault", "set-policy", "--name", vault, "--object-id", object_id, "--secret-permissions", "get", "list")
    [policy] = [p for p in with_policy["properties"]["accessPolicies"] if p["objectId"] == object_id]
    assert sorted(policy["permissions"]["secrets"]) == ["get", "list"]
    # --spn names the same principal by app id; permissions add up.
    by_spn = az.json("keyvault", "set-policy", "--name", vault, "--spn", app["appId"], "--key-permissions", "get")
    [policy] = [p for p in by_spn["properties"]["accessPolicies"] if p["objectId"] == object_id]
    assert policy["permissions"]["keys"] == ["get"] and sorted(policy["permissions"]["secrets"]) == ["get", "list"]

    # The policy decides on the data plane: the principal reads, and cannot write.
    az.json("keyvault", "set-policy", "--name", vault, "--spn", admin_credential["clientId"], "--secret-permissions", "set")
    az.json("keyvault", "secret", "set", "--vault-name", vault, "--name", "db", "--value", "s3cret")
    reader = Az(az.binary, az.server, tmp_path / "reader").login(app["appId"], app["password"], "--allow-no-subscriptions")
    assert reader.json("keyvault", "secret", "show", "--vault-name", vault, "--name", "db")["value"] == "s3cret"
    denied = reader.run("keyvault", "secret", "set", "--vault-name", vault, "--name", "db", "--value", "x")
    assert denied.returncode != 0 and "Forbidden" in denied.stderr, denied.stderr

    after_delete = az.json("keyvault", "delete-policy", "--name", vault, "--object-id", object_id)
    assert object_id not in [p["objectId"] for p in after_delete["properties"]["accessPolicies"]]
    gone = reader.run("keyvault", "secret", "show", "--vault-name", vault, "--name", "db")
    assert gone.returncode != 0 and "Forbidden" in gone.stderr, gone.stderr


def test_soft_delete_recover_and_purge(signed_in: Az, server: StrongroomServer) -> None:
    az = signed_in
    group, vault = unique_name("rg"), unique_name("kv")
    az.json("group", "create", "--name", group, "--location", "westeurope")
    created = az.json(
        "keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope",
        "--enable-rbac-authorization", "false", "--retention-days", "7",
    )  # fmt: skip
    assert created["properties"]["softDeleteRetentionInDays"] == 7
    az.json("keyvault", "secret", "set", "--vault-name", vault, "--name", "kept", "--value", "through it all")

    assert az.run("keyvault", "delete", "--name", vault).returncode == 0
    missing = az.run("keyvault", "show", "--name", vault)
    assert missing.returncode != 0 and "not found" in missing.stderr.lower(), missing.stderr
    assert vault not in [v["name"] for v in az.json("keyvault", "list")]
    [deleted] = [d for d in az.json("keyvault", "list-deleted") if d["name"] == vault]
    assert deleted["type"] == "Microsoft.KeyVault/deletedVaults"
    properties = deleted["properties"]
    assert properties["vaultId"] == created["id"] and properties["location"] == "westeurope"
    assert properties["scheduledPurgeDate"] > properties["deletionDate"]
    assert az.json("keyvault", "show-deleted", "--name", vault)["properties"]["vaultId"] == created["id"]

    # The name stays taken while the vault is recoverable.
    taken = az.run("keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope")
    assert taken.returncode != 0 and "already exists in deleted state" in taken.stderr, taken.stderr

    recovered = az.json("keyvault", "recover", "--name", vault)
    assert recovered["id"] == created["id"]
    assert az.json("keyvault", "secret", "show", "--vault-name", vault, "--name", "kept")["value"] == "through it all"

    assert az.run("keyvault", "delete", "--name", vault).returncode == 0
    purged = az.run("keyvault", "purge", "--name", vault)
    assert purged.returncode == 0, purged.stderr
    assert vault not in [d["name"] for d in az.json("keyvault", "list-deleted")]
    gone = az.run("keyvault", "show-deleted", "--name", vault)
    assert gone.returncode != 0, gone.stdout

    # Purged: the name is free, and the new vault holds nothing of the old one.
    again = az.json("keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope", "--enable-rbac-authorization", "false")
    assert again["id"] == created["id"]
    assert az.json("keyvault", "secret", "list", "--vault-name", vault) == []


def test_deleting_a_group_soft_deletes_its_vaults(signed_in: Az) -> None:
    az = signed_in
    group, vault = unique_name("rg"), unique_name("kv")
    az.json("group", "create", "--name", group, "--location", "westeurope")
    az.json("keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope")
    assert az.run("group", "delete", "--name", group, "--yes").returncode == 0
    assert vault in [d["name"] for d in az.json("keyvault", "list-deleted")]
    # Recovery needs its group back.
    no_group = az.run("keyvault", "recover", "--name", vault)
    assert no_group.returncode != 0 and "ResourceGroupNotFound" in no_group.stderr, no_group.stderr
    az.json("group", "create", "--name", group, "--location", "westeurope")
    assert az.json("keyvault", "recover", "--name", vault)["name"] == vault
