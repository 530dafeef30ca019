"""Certificate permissions through the real binary: `keyvault set-policy --certificate-permissions`
as the Python certificates quickstart writes it, and the ARM access-policy bodies behind it.

(The certificate operations themselves are issue 8's next step; these tests cover the access
policies that authorise them.)
"""

from __future__ import annotations

import requests

from strongroom_server import StrongroomServer, assert_az_json, unique_name


def granted(vault_json: dict, creator: str) -> dict:
    """The permissions of the one policy that is not the vault creator's, lists sorted."""
    others = [p for p in vault_json["properties"]["accessPolicies"] if p["objectId"] != creator]
    assert len(others) == 1, vault_json["properties"]["accessPolicies"]
    return {kind: sorted(names) for kind, names in others[0]["permissions"].items()}


def creator_permissions(vault_json: dict) -> dict:
    policies = vault_json["properties"]["accessPolicies"]
    assert len(policies) == 1, policies
    return policies[0]["permissions"]


def test_quickstart_set_policy_line_grants_certificate_permissions(server: StrongroomServer):
    group = "KeyVault-PythonQS-rg"
    name = unique_name("qscert")
    created = assert_az_json(server.cli("keyvault", "create", "--name", name, "--resource-group", group))
    # The vault's creator holds every certificate permission, as `az keyvault create` gives it.
    assert len(creator_permissions(created)["certificates"]) == 16
    creator = created["properties"]["accessPolicies"][0]["objectId"]
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("qscertsp"))

    # The quickstart's own line, flags as written, `strongroom` in place of `az`.
    updated = assert_az_json(
        server.cli(
            "keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "--resource-group", group,
            "--certificate-permissions", "delete", "get", "list", "create",
        )
    )
    assert granted(updated, creator) == {"certificates": ["create", "delete", "get", "list"], "keys": [], "secrets": []}

    # A second grant merges (any case accepted, ARM's lower-case names stored), and `show` reads
    # the stored policy back.
    server.cli("keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "-g", group,
               "--certificate-permissions", "ManageContacts", "GETISSUERS")
    shown = assert_az_json(server.cli("keyvault", "show", "--name", name, "-g", group))
    assert granted(shown, creator)["certificates"] == [
        "create", "delete", "get", "getissuers", "list", "managecontacts",
    ]


def test_unknown_certificate_permission_is_refused(server: StrongroomServer):
    name = unique_name("qscertbad")
    assert_az_json(server.cli("keyvault", "create", "--name", name))
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("qscertbadsp"))
    res = server.cli(
        "keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "--certificate-permissions", "sign",
        check=False,
    )
    assert res.returncode != 0
    assert "sign" in res.stderr
    assert "panicked" not in res.stderr


def test_certificate_permission_grants_and_denies_through_the_server(server: StrongroomServer):
    """A caller without `certificates list` is refused listing certificates with Azure's 403;
    once granted, the same call lists the vault's (no) certificates."""
    name = unique_name("qscertauthz")
    assert_az_json(server.cli("keyvault", "create", "--name", name))
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("qscertauthzsp"))
    server.cli_json("keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "--secret-permissions", "list")
    token = server.token(sp["appId"], sp["password"], f"{server.vault_audience}/.default")

    def list_certificates() -> requests.Response:
        return requests.get(
            f"{server.vault_url(name).rstrip('/')}/certificates?api-version=2026-04-01",
            headers={"Authorization": f"Bearer {token}"},
            verify=server.ca_file,
            timeout=30,
        )

    denied = list_certificates()
    assert denied.status_code == 403, denied.text
    error = denied.json()["error"]
    assert error["code"] == "Forbidden"
    assert "does not have certificates list permission" in error["message"]

    server.cli_json("keyvault", "set-policy", "--name", name, "--spn", sp["appId"], "--certificate-permissions", "list")
    allowed = list_certificates()
    assert allowed.status_code == 200, allowed.text
    assert allowed.json() == {"value": [], "nextLink": None}
