"""`az identity create|show|list|delete`, unmodified: user-assigned managed identities live in a resource group (which
must exist), are listed by group, and go with their group."""

from __future__ import annotations

from conftest import Az
from strongroom_server import StrongroomServer, unique_name


def test_identities_live_in_their_group(signed_in: Az, server: StrongroomServer) -> None:
    az = signed_in
    group, other, name = unique_name("rg"), unique_name("rg"), unique_name("id")
    missing = az.run("identity", "create", "--name", name, "--resource-group", group, "--location", "westeurope")
    assert missing.returncode != 0 and "ResourceGroupNotFound" in missing.stderr, missing.stderr
    for g in (group, other):
        az.json("group", "create", "--name", g, "--location", "westeurope")

    created = az.json("identity", "create", "--name", name, "--resource-group", group, "--location", "westeurope", "--tags", "app=web")
    assert created["id"] == f"/subscriptions/{server.subscription_id}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    assert created["location"] == "westeurope" and created["tags"] == {"app": "web"}
    assert created["tenantId"] == server.tenant_id and created["principalId"] != created["clientId"]
    shown = az.json("identity", "show", "--name", name, "--resource-group", group)
    assert (shown["principalId"], shown["clientId"]) == (created["principalId"], created["clientId"])
    assert [i["name"] for i in az.json("identity", "list", "--resource-group", group)] == [name]
    assert az.json("identity", "list", "--resource-group", other) == []
    # Not in the other group, as ARM answers a path through the wrong group.
    wrong = az.run("identity", "show", "--name", name, "--resource-group", other)
    assert wrong.returncode != 0 and "ResourceNotFound" in wrong.stderr, wrong.stderr
    # Its principal is a managed identity in Graph.
    assert az.json("ad", "sp", "show", "--id", created["clientId"])["servicePrincipalType"] == "ManagedIdentity"

    assert az.run("identity", "delete", "--name", name, "--resource-group", group).returncode == 0
    assert az.run("identity", "show", "--name", name, "--resource-group", group).returncode != 0
    assert az.run("ad", "sp", "show", "--id", created["clientId"]).returncode == 3

    # A group's identities go with it.
    doomed = az.json("identity", "create", "--name", unique_name("id"), "--resource-group", other)
    assert az.run("group", "delete", "--name", other, "--yes").returncode == 0
    assert az.run("ad", "sp", "show", "--id", doomed["clientId"]).returncode == 3
