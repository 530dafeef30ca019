"""Azure RBAC's control plane with the unmodified `az`, through transparent mode: `az role definition list|create|
delete` (Azure's built-in roles by name and GUID, custom roles) and `az role assignment create|list|delete` at a
vault's scope. (The data plane's enforcement of these assignments is the next step of issue 10.)"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from conftest import Az
from strongroom_server import StrongroomServer, unique_name

SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def test_built_in_roles_are_listed_with_azures_ids_and_data_actions(signed_in: Az) -> None:
    (role,) = signed_in.json("role", "definition", "list", "--name", "Key Vault Secrets User")
    assert role["name"] == SECRETS_USER
    assert role["roleType"] == "BuiltInRole"
    assert role["permissions"][0]["dataActions"] == [
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    ]
    names = {r["roleName"] for r in signed_in.json("role", "definition", "list")}
    assert {
        "Key Vault Administrator",
        "Key Vault Reader",
        "Key Vault Secrets Officer",
        "Key Vault Crypto Officer",
        "Key Vault Crypto User",
        "Key Vault Certificates Officer",
        "Key Vault Data Access Administrator",
        "Owner",
        "Contributor",
        "Reader",
    } <= names


def test_a_custom_role_is_created_listed_and_deleted(signed_in: Az, server: StrongroomServer, tmp_path: Path) -> None:
    subscription = f"/subscriptions/{server.info['subscriptionId']}"
    name = unique_name("Secret Reader ")
    definition = tmp_path / "role.json"
    definition.write_text(
        json.dumps(
            {
                "Name": name,
                "Description": "Reads secret values, nothing else.",
                "Actions": [],
                "DataActions": ["Microsoft.KeyVault/vaults/secrets/*"],
                "NotDataActions": ["Microsoft.KeyVault/vaults/secrets/setSecret/action"],
                "AssignableScopes": [subscription],
            }
        )
    )
    created = signed_in.json("role", "definition", "create", "--role-definition", f"@{definition}")
    assert created["roleName"] == name
    assert created["roleType"] == "CustomRole"
    assert created["permissions"][0]["notDataActions"] == ["Microsoft.KeyVault/vaults/secrets/setSecret/action"]
    (listed,) = signed_in.json("role", "definition", "list", "--name", name)
    assert listed["name"] == created["name"]
    again = signed_in.run("role", "definition", "create", "--role-definition", f"@{definition}")
    assert again.returncode != 0 and "RoleDefinitionWithSameNameExists" in again.stderr, again.stderr
    assert signed_in.run("role", "definition", "delete", "--name", name).returncode == 0
    assert signed_in.json("role", "definition", "list", "--name", name) == []


def test_a_role_is_assigned_at_a_vault_listed_and_removed(signed_in: Az, server: StrongroomServer) -> None:
    az = signed_in
    group, vault = unique_name("rg"), unique_name("kv")
    az.json("group", "create", "--name", group, "--location", "westeurope")
    scope = az.json("keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope")["id"]
    app_id = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("workload"))["appId"]
    principal = az.json("ad", "sp", "show", "--id", app_id)
    object_id = principal["id"]

    assignment = az.assign_role("Key Vault Secrets User", object_id, scope)
    assert assignment["scope"] == scope
    assert assignment["principalId"] == object_id
    assert assignment["roleDefinitionId"].endswith(f"/roleDefinitions/{SECRETS_USER}")
    assert assignment["id"] == f"{scope}/providers/Microsoft.Authorization/roleAssignments/{assignment['name']}"
    uuid.UUID(assignment["name"])

    listed = az.json("role", "assignment", "list", "--scope", scope)
    assert [(a["principalId"], a["roleDefinitionName"]) for a in listed] == [(object_id, "Key Vault Secrets User")]
    # The same assignment again: Azure answers 409 RoleAssignmentExists, which the CLI turns into the existing one.
    again = az.assign_role("Key Vault Secrets User", object_id, scope)
    assert again["name"] == assignment["name"]
    assert len(az.json("role", "assignment", "list", "--scope", scope)) == 1
    # Another vault's scope does not see it.
    other = az.json("keyvault", "create", "--name", unique_name("kv"), "--resource-group", group, "--location", "westeurope")
    assert az.json("role", "assignment", "list", "--scope", other["id"]) == []
    # An assignment is addressed by its scope and GUID: under another scope the GUID names nothing.
    api = "?api-version=2022-04-01"
    shown = az.json("rest", "--method", "get", "--url", f"https://management.azure.com{assignment['id']}{api}")
    assert shown["name"] == assignment["name"]
    elsewhere = f"https://management.azure.com{other['id']}/providers/Microsoft.Authorization/roleAssignments/{assignment['name']}{api}"
    missing = az.run("rest", "--method", "get", "--url", elsewhere)
    assert missing.returncode != 0 and "RoleAssignmentNotFound" in missing.stderr, missing.stderr
    assert az.run("rest", "--method", "delete", "--url", elsewhere).returncode == 0, "204: nothing there"
    assert len(az.json("role", "assignment", "list", "--scope", scope)) == 1, "a DELETE under another scope removes nothing"

    assert az.run("role", "assignment", "delete", "--ids", assignment["id"]).returncode == 0
    assert az.json("role", "assignment", "list", "--scope", scope) == []


def test_an_assignee_named_by_app_id_is_that_principal(signed_in: Az, server: StrongroomServer) -> None:
    """`--assignee APPID` makes the CLI look the principal up in Graph (`servicePrincipalNames/any(...)`); the
    assignment must go to that principal and no other (an ignored filter would hand it to the first one listed)."""
    az = signed_in
    subscription = f"/subscriptions/{server.info['subscriptionId']}"
    app_id = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("assignee"))["appId"]
    object_id = az.json("ad", "sp", "show", "--id", app_id)["id"]
    assignment = az.json("role", "assignment", "create", "--role", "Reader", "--assignee", app_id, "--scope", subscription)
    assert assignment["principalId"] == object_id
    listed = az.json("role", "assignment", "list", "--assignee", app_id, "--scope", subscription)
    assert [a["principalId"] for a in listed] == [object_id]
    assert az.run("role", "assignment", "delete", "--ids", assignment["id"]).returncode == 0
    # A filter Graph does not understand is refused, not ignored.
    unsupported = az.run(
        "rest", "--method", "get", "--url", "https://graph.microsoft.com/v1.0/servicePrincipals?$filter=tags/any(t:t eq 'x')"
    )
    assert unsupported.returncode != 0 and "Request_UnsupportedQuery" in unsupported.stderr, unsupported.stderr
