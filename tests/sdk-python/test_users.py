"""User accounts (issue 12): `strongroom user …` and Graph's `/v1.0/users` and `/v1.0/me` over HTTPS.

Users are principals of kind User: the CLI prints Graph's user object as `az ad user …` prints it; Graph refuses a
weak password, a taken or malformed user principal name with Graph's 400s; users never show up as service principals
or applications, `directoryObjects/getByIds` names them `#microsoft.graph.user`, role assignments name them with
`principalType: User`, access policies take their object ids. Only administrators manage users (403 otherwise);
`/me` is open to every signed-in caller and is Graph's 400 for an application.

A user's own token comes from the sign-in form (authorization code + PKCE, as the console signs in; the protocol's
own tests are crates/strongroom/tests/it/signin.rs): `/me` answers it, a plain user gets 403 from the rest of Graph
and an `--admin` user does not, and deleting the user or replacing its password refuses its token at once.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import subprocess
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit
from typing import Any, Callable

import pytest
import requests

from strongroom_server import StrongroomServer, assert_az_json, assert_cli_error, unique_name

GRAPH = "https://graph.microsoft.com/.default"
MANAGEMENT = "https://management.azure.com/.default"
PASSWORD = "Corr3ct-Horse!"
# Graph's default property set of a user, plus `@odata.context` (what `az ad user create|show` prints).
USER_KEYS = {
    "@odata.context", "id", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
}  # fmt: skip
WEAK = "The specified password does not comply with password complexity requirements. Please provide a different password."
TAKEN = "Another object with the same value for property userPrincipalName already exists."


def upn(prefix: str = "user") -> str:
    return f"{unique_name(prefix)}@contoso.com"


def graph(server: StrongroomServer, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method,
        f"{server.authority_host}/v1.0/{path}",
        headers={"Authorization": f"Bearer {token}"},
        verify=server.ca_file,
        timeout=30,
        **kwargs,
    )


def create_user(server: StrongroomServer, name: str, *extra: str) -> dict[str, Any]:
    return assert_az_json(
        server.cli(
            "user", "create", "--display-name", "Test User", "--user-principal-name", name,
            "--password", PASSWORD, *extra,
        )
    )  # fmt: skip


def graph_error(res: requests.Response, status: int, code: str, message: str) -> None:
    assert res.status_code == status, f"{res.status_code} {res.text}"
    error = res.json()["error"]
    assert (error["code"], error["message"]) == (code, message), error


def test_create_show_list_update_delete_through_the_cli(server: StrongroomServer) -> None:
    name = upn("ann")
    created = create_user(server, name)
    assert set(created) == USER_KEYS, created
    assert created["@odata.context"] == "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
    assert created["userPrincipalName"] == name and created["displayName"] == "Test User"
    assert created["businessPhones"] == [] and created["mail"] is None and created["givenName"] is None
    uuid.UUID(created["id"])

    # By object id and by user principal name (any case), through both spellings of the command.
    assert server.cli_json("user", "show", "--id", created["id"]) == created
    assert server.cli_json("ad", "user", "show", "--id", name.upper()) == created

    listed = server.cli_json("user", "list", "--upn", name)
    assert listed == [{k: v for k, v in created.items() if k != "@odata.context"}]
    assert created["id"] in {u["id"] for u in server.cli_json("user", "list")}
    assert server.cli_json("user", "list", "--display-name", "test us", "--upn", name)[0]["id"] == created["id"]
    assert server.cli_json("user", "list", "--display-name", "nobody-by-this-name") == []

    res = server.cli("user", "update", "--id", name, "--display-name", "Ann Lee", "--account-enabled", "false")
    assert res.returncode == 0 and res.stdout == "", res.stderr
    assert server.cli_json("user", "show", "--id", created["id"])["displayName"] == "Ann Lee"
    disabled = server.cli_json("user", "list", "--filter", "accountEnabled eq false")
    assert created["id"] in {u["id"] for u in disabled}

    res = server.cli("user", "set-password", "--id", created["id"], "--password", "An0ther-Passw0rd")
    assert res.returncode == 0 and res.stdout == "", res.stderr

    res = server.cli("user", "delete", "--id", created["id"])
    assert res.returncode == 0 and res.stdout == "", res.stderr
    assert_cli_error(server.cli("user", "show", "--id", created["id"], check=False), "Request_ResourceNotFound")
    assert server.cli_json("user", "list", "--upn", name) == []


def test_passwords_come_from_stdin_or_the_environment(server: StrongroomServer) -> None:
    def run(stdin: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [server.binary, "--data-dir", str(server.data_dir), *args],
            input=stdin, capture_output=True, text=True, timeout=60, env={**os.environ, **env},
        )  # fmt: skip

    name = upn("stdin")
    done = run(f"{PASSWORD}\n", {}, "user", "create", "--display-name", "S", "--upn", name, "--password-stdin")
    assert done.returncode == 0, done.stderr
    done = run("", {"STRONGROOM_USER_PASSWORD": "Fr0m-the-Env"}, "user", "set-password", "--id", name)
    assert done.returncode == 0, done.stderr
    done = run("", {"STRONGROOM_USER_PASSWORD": ""}, "user", "set-password", "--id", name)
    assert done.returncode == 1 and "needs a password" in done.stderr, done.stderr
    # The weak one from stdin is refused by the server, with Graph's words.
    done = run("weak\n", {}, "user", "set-password", "--id", name, "--password-stdin")
    assert done.returncode == 1 and WEAK in done.stderr, done.stderr


def test_weak_passwords_taken_and_malformed_names_are_graphs_400s(
    server: StrongroomServer, admin_token: Callable[[str], str]
) -> None:
    name = upn("dup")
    assert_cli_error(
        server.cli("user", "create", "--display-name", "W", "--upn", name, "--password", "password", check=False),
        "(Request_BadRequest)",
        WEAK,
    )
    create_user(server, name)
    assert_cli_error(
        server.cli("user", "create", "--display-name", "D", "--upn", name.upper(), "--password", PASSWORD, check=False),
        TAKEN,
    )

    token = admin_token(GRAPH)
    body = {
        "accountEnabled": True,
        "displayName": "Raw",
        "mailNickname": "raw",
        "passwordProfile": {"password": PASSWORD, "forceChangePasswordNextSignIn": False},
        "userPrincipalName": name,
    }
    graph_error(graph(server, token, "POST", "users", json=body), 400, "Request_BadRequest", TAKEN)
    for bad in ("no-at-sign", "two@@contoso.com", ".dot@contoso.com", "a@nodot", "sp ace@contoso.com"):
        res = graph(server, token, "POST", "users", json={**body, "userPrincipalName": bad})
        graph_error(res, 400, "Request_BadRequest", "Property userPrincipalName is invalid.")
    res = graph(server, token, "POST", "users", json={**body, "userPrincipalName": upn(), "passwordProfile": {}})
    graph_error(
        res, 400, "Request_BadRequest", "A value is required for property 'passwordProfile' of resource 'User'."
    )
    res = graph(server, token, "POST", "users", json={**body, "userPrincipalName": upn(), "mailNickname": "a b"})
    graph_error(
        res, 400, "Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'User'."
    )
    weak = {**body, "userPrincipalName": upn(), "passwordProfile": {"password": "Short1!"}}
    graph_error(graph(server, token, "POST", "users", json=weak), 400, "Request_BadRequest", WEAK)
    user = server.cli_json("user", "show", "--id", name)
    patch = graph(server, token, "PATCH", f"users/{user['id']}", json={"passwordProfile": {"password": "lowercase1"}})
    graph_error(patch, 400, "Request_BadRequest", WEAK)


def test_graph_shapes_filters_and_select(server: StrongroomServer, admin_token: Callable[[str], str]) -> None:
    token = admin_token(GRAPH)
    name = upn("Shape")
    body = {
        "accountEnabled": True,
        "displayName": "Shape O'Neil",
        "mailNickname": "shape",
        "passwordProfile": {"password": PASSWORD, "forceChangePasswordNextSignIn": True},
        "userPrincipalName": name,
        "givenName": "Shape",
        "surname": "O'Neil",
    }
    res = graph(server, token, "POST", "users", json=body)
    assert res.status_code == 201, res.text
    created = res.json()
    assert set(created) == USER_KEYS and (created["givenName"], created["surname"]) == ("Shape", "O'Neil")
    oid = created["id"]

    # `users/{upn}`, `users('{upn}')`, percent-encoded `@`.
    for path in (f"users/{name}", f"users('{name}')", f"users/{name.replace('@', '%40')}", f"users/{oid}"):
        res = graph(server, token, "GET", path)
        assert res.status_code == 200 and res.json() == created, (path, res.text)

    def ids(query: str) -> list[str]:
        res = graph(server, token, "GET", "users", params={"$filter": query})
        assert res.status_code == 200, res.text
        assert res.json()["@odata.context"] == "https://graph.microsoft.com/v1.0/$metadata#users"
        return [user["id"] for user in res.json()["value"]]

    assert ids(f"userPrincipalName eq '{name.upper()}'") == [oid]
    assert ids("displayName eq 'Shape O''Neil'") == [oid]
    assert oid in ids("startswith(displayName,'shape o''')")
    assert ids(f"startswith(displayName,'Shape') and userPrincipalName eq '{name}' and accountEnabled eq true") == [oid]
    assert ids(f"mail eq '{name}'") == []
    res = graph(server, token, "GET", "users", params={"$filter": "jobTitle eq 'x'"})
    assert res.status_code == 400 and res.json()["error"]["code"] == "Request_UnsupportedQuery", res.text

    res = graph(server, token, "GET", f"users/{oid}", params={"$select": "accountEnabled,displayName,mailNickname"})
    assert res.status_code == 200, res.text
    assert res.json() == {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(accountEnabled,displayName,mailNickname)/$entity",
        "accountEnabled": True,
        "displayName": "Shape O'Neil",
        "mailNickname": name.split("@")[0],
    }
    res = graph(server, token, "GET", f"users/{oid}", params={"$select": "salary"})
    assert res.status_code == 400 and res.json()["error"]["code"] == "BadRequest", res.text

    res = graph(server, token, "PATCH", f"users/{name}", json={"surname": None, "accountEnabled": False})
    assert res.status_code == 204, res.text
    shown = graph(server, token, "GET", f"users/{oid}", params={"$select": "surname,accountEnabled"}).json()
    assert (shown["surname"], shown["accountEnabled"]) == (None, False)
    res = graph(server, token, "PATCH", f"users/{oid}", json={"jobTitle": "Engineer"})
    assert res.status_code == 400 and res.json()["error"]["code"] == "Request_BadRequest", res.text

    res = graph(server, token, "DELETE", f"users/{oid}")
    assert res.status_code == 204, res.text
    for method in ("GET", "PATCH", "DELETE"):
        res = graph(server, token, method, f"users/{oid}", json={} if method == "PATCH" else None)
        assert res.status_code == 404 and res.json()["error"]["code"] == "Request_ResourceNotFound", res.text


def test_users_are_not_service_principals_or_applications(
    server: StrongroomServer, admin_token: Callable[[str], str]
) -> None:
    token = admin_token(GRAPH)
    name = upn("notsp")
    user = create_user(server, name)
    oid = user["id"]
    for listing in ("servicePrincipals", "applications"):
        res = graph(server, token, "GET", listing)
        assert res.status_code == 200, res.text
        values = res.json()["value"]
        assert oid not in {v["id"] for v in values} and name.lower() not in {v["appId"] for v in values}, listing
    for path in (f"servicePrincipals/{oid}", f"servicePrincipals(appId='{name}')", f"applications(appId='{name}')"):
        res = graph(server, token, "GET", path)
        assert res.status_code == 404, (path, res.text)
    res = graph(server, token, "POST", f"servicePrincipals/{oid}/addPassword", json={})
    assert res.status_code == 404, res.text
    res = graph(server, token, "POST", "servicePrincipals", json={"appId": name})
    assert res.status_code == 400, res.text

    # getByIds: a user is a user, and only when users are asked for.
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("byids"))
    sp_oid = graph(server, token, "GET", f"servicePrincipals(appId='{sp['appId']}')").json()["id"]
    az_types = ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"]
    for types in (None, az_types):
        body: dict[str, Any] = {"ids": [oid, sp_oid]}
        if types is not None:
            body["types"] = types
        res = graph(server, token, "POST", "directoryObjects/getByIds", json=body)
        assert res.status_code == 200, res.text
        found = {v["id"]: v for v in res.json()["value"]}
        assert found[oid]["@odata.type"] == "#microsoft.graph.user", found
        assert found[oid]["userPrincipalName"] == name
        assert found[sp_oid]["@odata.type"] == "#microsoft.graph.servicePrincipal", found
    res = graph(server, token, "POST", "directoryObjects/getByIds", json={"ids": [oid], "types": ["servicePrincipal"]})
    assert res.json()["value"] == [], res.text


def test_only_administrators_manage_users_and_me_is_for_users(
    server: StrongroomServer, admin_token: Callable[[str], str]
) -> None:
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("notadmin"))
    token = server.token(sp["appId"], sp["password"], GRAPH)
    body = {
        "accountEnabled": True,
        "displayName": "Nope",
        "mailNickname": "nope",
        "passwordProfile": {"password": PASSWORD},
        "userPrincipalName": upn("nope"),
    }
    res = graph(server, token, "POST", "users", json=body)
    assert res.status_code == 403 and res.json()["error"]["code"] == "AuthorizationFailed", res.text
    for method, path in (("GET", "users"), ("GET", f"users/{body['userPrincipalName']}"), ("DELETE", "users/x@y.z")):
        res = graph(server, token, method, path)
        assert res.status_code == 403, (method, path, res.text)
    # An administrator's `strongroomAdministrator` is Strongroom's own property; it needs no more than admin.
    res = graph(server, admin_token(GRAPH), "POST", "users", json={**body, "strongroomAdministrator": True})
    assert res.status_code == 201 and set(res.json()) == USER_KEYS, res.text

    # `/me` passes the administrator check, and an application is not a user: Graph's 400, for both.
    me = "/me request is only valid with delegated authentication flow."
    for caller in (token, admin_token(GRAPH)):
        graph_error(graph(server, caller, "GET", "me"), 400, "BadRequest", me)
    res = graph(server, admin_token(GRAPH), "PATCH", "me", json={})
    assert res.status_code == 405, res.text
    assert graph(server, "not-a-token", "GET", "me").status_code == 401


def test_role_assignments_and_access_policies_name_users(
    server: StrongroomServer, admin_token: Callable[[str], str]
) -> None:
    user = create_user(server, upn("rbac"))
    oid = user["id"]
    vault = server.create_vault("users")

    policy = server.cli_json(
        "keyvault", "set-policy", "--name", vault["name"], "--object-id", oid, "--secret-permissions", "get", "list"
    )
    entries = policy["properties"]["accessPolicies"]
    assert any(e["objectId"] == oid and sorted(e["permissions"]["secrets"]) == ["get", "list"] for e in entries)

    token = admin_token(MANAGEMENT)
    sub = server.subscription_id
    reader = "21090545-7ca7-4776-b22c-e363652d74d2"  # Key Vault Reader

    def assign(principal_type: str | None) -> requests.Response:
        properties: dict[str, str] = {
            "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{reader}",
            "principalId": oid,
        }
        if principal_type is not None:
            properties["principalType"] = principal_type
        return requests.put(
            f"{server.authority_host}{vault['id']}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}",
            params={"api-version": "2022-04-01"},
            json={"properties": properties},
            headers={"Authorization": f"Bearer {token}"},
            verify=server.ca_file,
            timeout=30,
        )

    res = assign("ServicePrincipal")
    assert res.status_code == 400, res.text
    error = res.json()["error"]
    assert error["code"] == "UnmatchedPrincipalType", error
    assert f"The PrincipalId '{oid.replace('-', '')}' has type 'User'" in error["message"], error
    res = assign(None)
    assert res.status_code == 201 and res.json()["properties"]["principalType"] == "User", res.text
    requests.delete(
        f"{server.authority_host}{res.json()['id']}",
        params={"api-version": "2022-04-01"},
        headers={"Authorization": f"Bearer {token}"},
        verify=server.ca_file,
        timeout=30,
    ).raise_for_status()
    res = assign("User")
    assert res.status_code == 201 and res.json()["properties"]["principalType"] == "User", res.text


@pytest.mark.parametrize("args", [("user", "show"), ("user", "set-password", "--id", "a@b.c")])
def test_usage_errors_name_what_is_missing(server: StrongroomServer, args: tuple[str, ...]) -> None:
    res = server.cli(*args, check=False)
    assert res.returncode != 0 and res.stdout == "", res


CONSOLE_CLIENT_ID = "3331b43c-9750-4aad-bfea-85b7bf2f071f"


def user_token(server: StrongroomServer, name: str, password: str) -> str:
    """Signs `name` in as the console does: the sign-in form (CSRF cookie and field, `Origin`), then the code redeemed
    with its PKCE verifier; a management-audience access token."""
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    origin = server.authority_host.rstrip("/")
    query = urlencode({
        "client_id": CONSOLE_CLIENT_ID, "response_type": "code", "redirect_uri": f"{origin}/",
        "scope": f"{MANAGEMENT} openid offline_access", "state": "s", "nonce": "n",
        "code_challenge": challenge, "code_challenge_method": "S256",
    })  # fmt: skip
    url = f"{origin}/organizations/oauth2/v2.0/authorize?{query}"
    with requests.Session() as browser:
        page = browser.get(url, verify=server.ca_file, timeout=30)
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf, page.text
        form = {"csrf": csrf.group(1), "step": "signin", "username": name, "password": password}
        answer = browser.post(url, data=form, headers={"Origin": origin}, allow_redirects=False, verify=server.ca_file, timeout=30)
    assert answer.status_code == 303, f"{answer.status_code} {answer.text}"
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = requests.post(
        f"{origin}/organizations/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code", "client_id": CONSOLE_CLIENT_ID, "code": code,
            "redirect_uri": f"{origin}/", "code_verifier": verifier, "scope": MANAGEMENT,
        },
        verify=server.ca_file,
        timeout=30,
    )  # fmt: skip
    assert token.status_code == 200, token.text
    return str(token.json()["access_token"])


def test_me_answers_a_signed_in_user_until_the_user_is_deleted(server: StrongroomServer) -> None:
    name = upn("me")
    created = create_user(server, name)
    token = user_token(server, name, PASSWORD)

    me = graph(server, token, "GET", "me")
    assert me.status_code == 200, me.text
    assert me.json() == created
    res = graph(server, token, "GET", "me", params={"$select": "id,userPrincipalName,accountEnabled"})
    assert res.json() == {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,accountEnabled)/$entity",
        "id": created["id"],
        "userPrincipalName": name,
        "accountEnabled": True,
    }, res.text
    # A user who is not an administrator reads only themself.
    for method, path in (("GET", "users"), ("GET", f"users/{created['id']}"), ("POST", "users"), ("PATCH", "me")):
        res = graph(server, token, method, path, json={} if method != "GET" else None)
        assert res.status_code == 403 and res.json()["error"]["code"] == "AuthorizationFailed", (method, path, res.text)

    server.cli("user", "delete", "--id", name)
    assert graph(server, token, "GET", "me").status_code == 401


def test_a_new_password_ends_the_token_and_admin_users_manage_users(server: StrongroomServer) -> None:
    name = upn("boss")
    create_user(server, name, "--admin")
    token = user_token(server, name, PASSWORD)
    listed = graph(server, token, "GET", "users", params={"$filter": f"userPrincipalName eq '{name}'"})
    assert listed.status_code == 200 and [u["userPrincipalName"] for u in listed.json()["value"]] == [name], listed.text

    server.cli("user", "set-password", "--id", name, "--password", "N3w-Passw0rd!")
    assert graph(server, token, "GET", "me").status_code == 401
    assert graph(server, user_token(server, name, "N3w-Passw0rd!"), "GET", "me").status_code == 200
