"""`az ad user …`, unmodified, against Strongroom's Microsoft Graph `users` (issue 12): create, show (by object id and
by user principal name), list (`--upn`, `--display-name`, `--filter`), update (display name, account enabled,
password), delete; Graph's refusals of a weak password and of a taken name reach az's error line; a user is assigned
a role by UPN (`az role assignment create --assignee UPN` resolves it through `users?$filter=…`) and named by
`role assignment list` (getByIds); `az ad signed-in-user show` as a service principal is Graph's 400, as in Azure.
The CLI's own `user …` commands print what az prints."""

from __future__ import annotations

from conftest import Az
from strongroom_server import StrongroomServer, unique_name

PASSWORD = "Corr3ct-Horse!"


def test_create_show_list_update_delete(signed_in: Az, server: StrongroomServer) -> None:
    upn = f"{unique_name('az-user')}@contoso.com"
    created = signed_in.json(
        "ad", "user", "create", "--display-name", "Az User", "--user-principal-name", upn, "--password", PASSWORD
    )
    assert created["userPrincipalName"] == upn and created["displayName"] == "Az User"
    assert created["@odata.context"] == "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
    oid = created["id"]

    assert signed_in.json("ad", "user", "show", "--id", oid) == created
    assert signed_in.json("ad", "user", "show", "--id", upn) == created
    # Strongroom's own CLI prints what az prints.
    assert server.cli_json("user", "show", "--id", upn) == created

    [listed] = signed_in.json("ad", "user", "list", "--upn", upn)
    assert listed == {k: v for k, v in created.items() if k != "@odata.context"}
    assert [u["id"] for u in signed_in.json("ad", "user", "list", "--display-name", "Az Us", "--upn", upn)] == [oid]
    assert oid in [u["id"] for u in signed_in.json("ad", "user", "list")]
    assert server.cli_json("user", "list", "--upn", upn) == [listed]
    filtered = signed_in.json("ad", "user", "list", "--filter", f"userPrincipalName eq '{upn}'")
    assert [u["id"] for u in filtered] == [oid]

    updated = signed_in.run(
        "ad", "user", "update", "--id", upn, "--display-name", "Az User 2", "--account-enabled", "false",
        "--password", "An0ther-Passw0rd", "--force-change-password-next-sign-in", "false",
    )  # fmt: skip
    assert updated.returncode == 0 and updated.stdout.strip() == "", updated.stderr
    assert signed_in.json("ad", "user", "show", "--id", oid)["displayName"] == "Az User 2"

    deleted = signed_in.run("ad", "user", "delete", "--id", oid)
    assert deleted.returncode == 0 and deleted.stdout.strip() == "", deleted.stderr
    missing = signed_in.run("ad", "user", "show", "--id", oid)
    assert missing.returncode != 0 and "does not exist" in missing.stderr, missing.stderr
    assert signed_in.json("ad", "user", "list", "--upn", upn) == []


def test_graphs_refusals_reach_az(signed_in: Az) -> None:
    upn = f"{unique_name('az-weak')}@contoso.com"
    weak = signed_in.run("ad", "user", "create", "--display-name", "W", "--user-principal-name", upn, "--password", "password")
    assert weak.returncode != 0
    assert "does not comply with password complexity requirements" in weak.stderr, weak.stderr

    signed_in.json("ad", "user", "create", "--display-name", "D", "--user-principal-name", upn, "--password", PASSWORD)
    taken = signed_in.run("ad", "user", "create", "--display-name", "D", "--user-principal-name", upn, "--password", PASSWORD)
    assert taken.returncode != 0
    assert "Another object with the same value for property userPrincipalName already exists." in taken.stderr, taken.stderr

    bad = signed_in.run("ad", "user", "create", "--display-name", "B", "--user-principal-name", "nodomain", "--password", PASSWORD)
    assert bad.returncode != 0 and "Property userPrincipalName is invalid." in bad.stderr, bad.stderr


def test_roles_name_users_by_upn(signed_in: Az, server: StrongroomServer) -> None:
    group = unique_name("rg-users")
    signed_in.json("group", "create", "--name", group, "--location", "westeurope")
    scope = f"/subscriptions/{server.subscription_id}/resourceGroups/{group}"
    upn = f"{unique_name('az-reader')}@contoso.com"
    user = signed_in.json("ad", "user", "create", "--display-name", "R", "--user-principal-name", upn, "--password", PASSWORD)

    assigned = signed_in.json("role", "assignment", "create", "--role", "Reader", "--assignee", upn, "--scope", scope)
    assert assigned["principalId"] == user["id"] and assigned["principalType"] == "User", assigned
    by_object_id = signed_in.json(
        "role", "assignment", "create", "--role", "Key Vault Reader", "--assignee-object-id", user["id"], "--scope", scope
    )
    assert by_object_id["principalType"] == "User", "az asks getByIds for the type of a bare object id"
    listed = signed_in.json("role", "assignment", "list", "--assignee", upn, "--scope", scope)
    assert sorted((a["roleDefinitionName"], a["principalName"], a["principalType"]) for a in listed) == [
        ("Key Vault Reader", upn, "User"),
        ("Reader", upn, "User"),
    ]


def test_signed_in_user_show_needs_a_user(signed_in: Az) -> None:
    done = signed_in.run("ad", "signed-in-user", "show")
    assert done.returncode != 0
    assert "/me request is only valid with delegated authentication flow." in done.stderr, done.stderr
