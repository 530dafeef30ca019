"""`az ad sp …` and `az ad app …`, unmodified, against Strongroom's Microsoft Graph: create-for-rbac (with a role at a
scope, and idempotent by name), show and list, credential reset / list / delete for secrets and certificates,
sign-in with what they hand out, and deletion. Each credential change is proven by signing in (or failing to)."""

from __future__ import annotations

from pathlib import Path

from conftest import Az
from strongroom_server import StrongroomServer, unique_name


NO_ROLE = "--allow-no-subscriptions"


def sign_in_fails(az: Az, app_id: str, *credential: str) -> str:
    """Runs `az login --service-principal` with `credential` (e.g. `--password=X`) and asserts that Entra (Strongroom's
    token endpoint) refused it; returns stderr."""
    done = az.run("login", "--service-principal", "--username", app_id, *credential, "--tenant", az.server.tenant_id, NO_ROLE)
    assert done.returncode != 0, f"signed in with a credential that should be gone: {done.stdout}"
    assert "AADSTS" in done.stderr, done.stderr
    return done.stderr


def test_create_for_rbac_assigns_the_role_and_its_password_signs_in(
    signed_in: Az, az_bin: str, server: StrongroomServer, tmp_path: Path
) -> None:
    group, name = unique_name("rg"), unique_name("ci-app")
    signed_in.json("group", "create", "--name", group, "--location", "westeurope")
    scope = f"/subscriptions/{server.subscription_id}/resourceGroups/{group}"

    created = signed_in.json("ad", "sp", "create-for-rbac", "--name", name, "--role", "Reader", "--scopes", scope)
    assert sorted(created) == ["appId", "displayName", "password", "tenant"]
    assert created["displayName"] == name and created["tenant"] == server.tenant_id
    assert not created["password"].startswith("-"), "az login -p $SECRET would read a leading dash as an option"

    sp = signed_in.json("ad", "sp", "show", "--id", created["appId"])
    assert sp["appId"] == created["appId"] and sp["displayName"] == name
    assert sp["servicePrincipalType"] == "Application" and sp["servicePrincipalNames"] == [created["appId"]]
    app = signed_in.json("ad", "app", "show", "--id", created["appId"])
    assert app["appId"] == created["appId"] and app["id"] != sp["id"], "an application and its principal are two objects"
    [password] = sp["passwordCredentials"]
    assert password["displayName"] == "rbac" and created["password"].startswith(password["hint"])
    assert password["endDateTime"] > password["startDateTime"]

    assignments = signed_in.json("role", "assignment", "list", "--assignee", created["appId"], "--scope", scope)
    assert [(a["roleDefinitionName"], a["scope"], a["principalId"]) for a in assignments] == [("Reader", scope, sp["id"])]
    assert assignments[0]["principalName"] == created["appId"], "az names the principal through directoryObjects/getByIds"

    # The new principal signs in with the password and sees the subscription its role is in.
    workload = Az(az_bin, server, tmp_path / "workload").login(created["appId"], created["password"])
    assert workload.json("account", "show")["user"] == {"name": created["appId"], "type": "servicePrincipal"}

    # Run again with the same name: the same app, a new password, and the old one no longer works.
    again = signed_in.json("ad", "sp", "create-for-rbac", "--name", name)
    assert again["appId"] == created["appId"] and again["password"] != created["password"]
    stderr = sign_in_fails(Az(az_bin, server, tmp_path / "stale"), created["appId"], f"--password={created['password']}")
    assert "AADSTS7000215" in stderr, "Entra's invalid-secret code: " + stderr
    Az(az_bin, server, tmp_path / "fresh").login(again["appId"], again["password"])
    assert "Reader" in [a["roleDefinitionName"] for a in signed_in.json("role", "assignment", "list", "--assignee", created["appId"], "--all")]


def test_credential_reset_list_and_delete_decide_who_signs_in(signed_in: Az, az_bin: str, server: StrongroomServer, tmp_path: Path) -> None:
    created = signed_in.json("ad", "sp", "create-for-rbac", "--name", unique_name("rotating"))
    app_id = created["appId"]
    listed = signed_in.json("ad", "sp", "list", "--display-name", created["displayName"])
    assert [sp["appId"] for sp in listed] == [app_id]
    assert [sp["appId"] for sp in signed_in.json("ad", "sp", "list", "--spn", app_id)] == [app_id]

    # --append keeps the first password; both sign in.
    appended = signed_in.json("ad", "sp", "credential", "reset", "--id", app_id, "--append", "--years", "2")
    assert appended["appId"] == app_id and appended["tenant"] == server.tenant_id
    secrets = signed_in.json("ad", "sp", "credential", "list", "--id", app_id)
    assert len(secrets) == 2
    two_years = [s for s in secrets if appended["password"].startswith(s["hint"]) and s["endDateTime"][:4] != s["startDateTime"][:4]]
    assert two_years and int(two_years[0]["endDateTime"][:4]) - int(two_years[0]["startDateTime"][:4]) == 2
    Az(az_bin, server, tmp_path / "first").login(app_id, created["password"], NO_ROLE)
    Az(az_bin, server, tmp_path / "second").login(app_id, appended["password"], NO_ROLE)

    # Without --append, a reset replaces every password.
    replaced = signed_in.json("ad", "sp", "credential", "reset", "--id", app_id)
    assert len(signed_in.json("ad", "sp", "credential", "list", "--id", app_id)) == 1
    for old in (created["password"], appended["password"]):
        sign_in_fails(Az(az_bin, server, tmp_path / "old"), app_id, f"--password={old}")

    # Deleting the last password by key id: nothing signs in.
    [remaining] = signed_in.json("ad", "sp", "credential", "list", "--id", app_id)
    assert signed_in.run("ad", "sp", "credential", "delete", "--id", app_id, "--key-id", remaining["keyId"]).returncode == 0
    assert signed_in.json("ad", "sp", "credential", "list", "--id", app_id) == []
    sign_in_fails(Az(az_bin, server, tmp_path / "deleted"), app_id, f"--password={replaced['password']}")


def test_a_certificate_from_create_cert_signs_in_until_it_is_deleted(
    signed_in: Az, az_bin: str, server: StrongroomServer, tmp_path: Path
) -> None:
    group = unique_name("rg")
    signed_in.json("group", "create", "--name", group, "--location", "westeurope")
    scope = f"/subscriptions/{server.subscription_id}/resourceGroups/{group}"
    created = signed_in.json(
        "ad", "sp", "create-for-rbac", "--name", unique_name("cert-app"), "--create-cert", "--role", "Reader", "--scopes", scope
    )
    assert created["password"] is None
    pem_file = Path(created["fileWithCertAndPrivateKey"])
    assert "PRIVATE KEY" in pem_file.read_text() and "CERTIFICATE" in pem_file.read_text()
    [certificate] = signed_in.json("ad", "sp", "credential", "list", "--id", created["appId"], "--cert")
    assert certificate["type"] == "AsymmetricX509Cert" and certificate["usage"] == "Verify"
    assert len(certificate["customKeyIdentifier"]) == 40, "Graph names a certificate by its SHA-1 thumbprint"

    workload = Az(az_bin, server, tmp_path / "cert-login")
    workload.json("login", "--service-principal", "--username", created["appId"], "--certificate", str(pem_file), "--tenant", server.tenant_id)
    assert workload.json("account", "show")["user"]["name"] == created["appId"]

    # A second certificate appended; deleting the first leaves one, and the first no longer signs in.
    second = signed_in.json("ad", "sp", "credential", "reset", "--id", created["appId"], "--create-cert", "--append")
    certificates = signed_in.json("ad", "sp", "credential", "list", "--id", created["appId"], "--cert")
    assert len(certificates) == 2
    deleted = signed_in.run("ad", "sp", "credential", "delete", "--id", created["appId"], "--key-id", certificate["keyId"], "--cert")
    assert deleted.returncode == 0, deleted.stderr
    assert [c["keyId"] for c in signed_in.json("ad", "sp", "credential", "list", "--id", created["appId"], "--cert")] != [certificate["keyId"]]
    sign_in_fails(Az(az_bin, server, tmp_path / "first-cert"), created["appId"], "--certificate", str(pem_file))
    Az(az_bin, server, tmp_path / "second-cert").json(
        "login", "--service-principal", "--username", created["appId"], "--certificate", second["fileWithCertAndPrivateKey"], "--tenant", server.tenant_id
    )


def test_deleting_a_service_principal_or_its_app_removes_both(signed_in: Az, az_bin: str, server: StrongroomServer, tmp_path: Path) -> None:
    for delete in (("ad", "sp", "delete"), ("ad", "app", "delete")):
        created = signed_in.json("ad", "sp", "create-for-rbac", "--name", unique_name("doomed"))
        done = signed_in.run(*delete, "--id", created["appId"])
        assert done.returncode == 0, done.stderr
        missing = signed_in.run("ad", "sp", "show", "--id", created["appId"])
        assert missing.returncode == 3 and "does not exist" in missing.stderr, missing.stderr
        assert signed_in.json("ad", "app", "list", "--app-id", created["appId"]) == []
        sign_in_fails(Az(az_bin, server, tmp_path / "_".join(delete)), created["appId"], f"--password={created['password']}")
