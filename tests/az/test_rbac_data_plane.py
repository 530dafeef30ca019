"""Azure RBAC on the data plane, end to end with the unmodified `az`: a vault `az keyvault create` makes (RBAC by
default in az 2.91) answers its creator 403 `ForbiddenByRbac` until a role is assigned; a Key Vault Secrets Officer
assignment at the vault lets the administrator write; a Key Vault Secrets User assignment at one secret's scope lets
a workload read that secret and nothing else; removing the assignment ends the access at once."""

from __future__ import annotations

from pathlib import Path

from conftest import Az
from strongroom_server import StrongroomServer, unique_name


def test_role_assignments_decide_on_an_rbac_vault(
    az_bin: str, server: StrongroomServer, admin_credential: dict[str, str], tmp_path: Path
) -> None:
    admin = Az(az_bin, server, tmp_path / "admin").login(admin_credential["clientId"], admin_credential["clientSecret"])
    group, vault = unique_name("rg"), unique_name("kv")
    admin.json("group", "create", "--name", group, "--location", "westeurope")
    created = admin.json("keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope")
    assert created["properties"]["enableRbacAuthorization"] is True
    scope = created["id"]
    admin_id = admin.json("ad", "sp", "show", "--id", admin_credential["clientId"])["id"]

    # No role yet: even the vault's creator is refused, with Azure's RBAC body.
    refused = admin.run("keyvault", "secret", "set", "--vault-name", vault, "--name", "db", "--value", "s3cret")
    assert refused.returncode != 0
    assert "ForbiddenByRbac" in refused.stderr, refused.stderr
    assert "Microsoft.KeyVault/vaults/secrets/setSecret/action" in refused.stderr, refused.stderr
    assert f"Vault: {vault};location=westeurope" in refused.stderr, "Azure names the vault's location: " + refused.stderr

    admin.assign_role("Key Vault Secrets Officer", admin_id, scope)
    admin.json("keyvault", "secret", "set", "--vault-name", vault, "--name", "db", "--value", "s3cret")
    admin.json("keyvault", "secret", "set", "--vault-name", vault, "--name", "other", "--value", "not yours")

    # A workload with Key Vault Secrets User on one secret only.
    workload_sp = admin.json("ad", "sp", "create-for-rbac", "--name", unique_name("workload"))
    workload_id = admin.json("ad", "sp", "show", "--id", workload_sp["appId"])["id"]
    assignment = admin.assign_role("Key Vault Secrets User", workload_id, f"{scope}/secrets/db")
    workload = Az(az_bin, server, tmp_path / "workload").login(workload_sp["appId"], workload_sp["password"])
    assert workload.json("keyvault", "secret", "show", "--vault-name", vault, "--name", "db")["value"] == "s3cret"
    other = workload.run("keyvault", "secret", "show", "--vault-name", vault, "--name", "other")
    assert other.returncode != 0 and "ForbiddenByRbac" in other.stderr, other.stderr
    write = workload.run("keyvault", "secret", "set", "--vault-name", vault, "--name", "db", "--value", "x")
    assert write.returncode != 0 and "ForbiddenByRbac" in write.stderr, write.stderr
    # Listing is checked at the vault: an assignment at one secret does not reach it.
    listing = workload.run("keyvault", "secret", "list", "--vault-name", vault)
    assert listing.returncode != 0 and "ForbiddenByRbac" in listing.stderr, listing.stderr

    # Taking the assignment away ends the access at once.
    assert admin.run("role", "assignment", "delete", "--ids", assignment["id"]).returncode == 0
    gone = workload.run("keyvault", "secret", "show", "--vault-name", vault, "--name", "db")
    assert gone.returncode != 0 and "ForbiddenByRbac" in gone.stderr, gone.stderr
