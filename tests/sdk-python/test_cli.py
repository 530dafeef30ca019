"""The `az`-shaped CLI end to end (CONTRACTS.md "CLI"), cross-checked with the official SDK where it can be.

Output is JSON as `az` prints it (2-space indented); an error is one `ERROR: …` line on stderr and exit code 1,
never a Rust panic or a backtrace.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient

from kv_errors import assert_access_denied
from strongroom_server import (
    CliResult,
    StrongroomServer,
    assert_az_json,
    assert_cli_error,
    parse_env_exports,
    unique_name,
)

ENV_NAMES = {
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_AUTHORITY_HOST",
    "AZURE_KEYVAULT_URL",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
}
EXPORT_LINE = re.compile(r"^export [A-Z_][A-Z0-9_]*='(?:[^']|'\\'')*'$")




def test_vault_create_show_list_delete(server: StrongroomServer):
    name = unique_name("clivault")
    created = assert_az_json(server.cli("keyvault", "create", "--name", name))
    assert created["name"] == name
    assert created["type"] == "Microsoft.KeyVault/vaults"
    assert created["id"].endswith(f"/providers/Microsoft.KeyVault/vaults/{name}")
    props = created["properties"]
    assert props["vaultUri"] == f"https://{name}.vault.{server.domain}:{server.port}/"
    assert props["tenantId"] == server.tenant_id
    assert props["enableSoftDelete"] is True
    assert props["softDeleteRetentionInDays"] == 90
    assert props["provisioningState"] == "Succeeded"
    assert props["sku"] == {"family": "A", "name": "standard"}
    # Without --secret-permissions the creator gets every permission, as with `az keyvault create`.
    (creator,) = props["accessPolicies"]
    assert {"get", "list", "set", "delete", "backup", "restore", "recover", "purge"} <= set(
        creator["permissions"]["secrets"]
    )

    shown = assert_az_json(server.cli("keyvault", "show", "--name", name))
    assert shown["id"] == created["id"]
    assert shown["properties"]["vaultUri"] == props["vaultUri"]

    listed = assert_az_json(server.cli("keyvault", "list"))
    assert isinstance(listed, list)
    assert name in [v["name"] for v in listed]

    server.cli("keyvault", "delete", "--name", name)
    assert_cli_error(server.cli("keyvault", "show", "--name", name, check=False), name)
    assert name not in [v["name"] for v in server.cli_json("keyvault", "list")]


def assert_refused_without_panic(res: CliResult) -> None:
    """A refused argument: exit 1 with one `ERROR:` line, or a usage error (exit 2) if the CLI checks it itself."""
    if res.returncode == 2:
        assert "panicked" not in res.stderr and res.stdout.strip() == "", res.stderr
    else:
        assert_cli_error(res)


def test_vault_retention_days(server: StrongroomServer):
    created = server.cli_json("keyvault", "create", "--name", unique_name("retention"), "--retention-days", "30")
    assert created["properties"]["softDeleteRetentionInDays"] == 30
    for bad in ("6", "91"):
        assert_refused_without_panic(
            server.cli(
                "keyvault", "create", "--name", unique_name("badretention"), "--retention-days", bad, check=False
            )
        )


@pytest.mark.parametrize("bad_name", ["ab", "bad_name", "-leading", "x" * 25, "double--hyphen", "9startsdigit"])
def test_invalid_vault_names_fail_cleanly(server: StrongroomServer, bad_name: str):
    assert_refused_without_panic(server.cli("keyvault", "create", "--name", bad_name, check=False))
    assert bad_name not in [v["name"] for v in server.cli_json("keyvault", "list")]


def test_secret_commands(server: StrongroomServer, make_vault):
    vault = make_vault("clisecrets")
    base = vault.url.rstrip("/")
    value = "cli value with 'quotes', \"double\", spaces and $dollar"
    first = assert_az_json(
        server.cli("keyvault", "secret", "set", "--vault-name", vault.name, "--name", "cli-secret", "--value", value)
    )
    assert first["value"] == value
    assert first["id"].startswith(f"{base}/secrets/cli-secret/")

    shown = assert_az_json(server.cli("keyvault", "secret", "show", "--vault-name", vault.name, "--name", "cli-secret"))
    assert shown["value"] == value
    assert shown["id"] == first["id"]

    # The SDK reads what the CLI wrote, and the CLI reads what the SDK wrote.
    assert vault.client.get_secret("cli-secret").value == value
    vault.client.set_secret("sdk-secret", "written by the SDK")
    assert server.cli_json("keyvault", "secret", "show", "--vault-name", vault.name, "--name", "sdk-secret")[
        "value"
    ] == ("written by the SDK")

    second = server.cli_json(
        "keyvault", "secret", "set", "--vault-name", vault.name, "--name", "cli-secret", "--value", "v2"
    )
    assert second["id"] != first["id"]
    assert (
        server.cli_json("keyvault", "secret", "show", "--vault-name", vault.name, "--name", "cli-secret")["value"]
        == "v2"
    )

    listed = assert_az_json(server.cli("keyvault", "secret", "list", "--vault-name", vault.name))
    assert isinstance(listed, list)
    ids = sorted(item["id"] for item in listed)
    assert ids == [f"{base}/secrets/cli-secret", f"{base}/secrets/sdk-secret"]
    assert all("value" not in item or item["value"] is None for item in listed), "list must not print values"

    deleted = assert_az_json(
        server.cli("keyvault", "secret", "delete", "--vault-name", vault.name, "--name", "cli-secret")
    )
    assert isinstance(deleted, dict)
    assert vault.client.get_deleted_secret("cli-secret").name == "cli-secret"
    assert_cli_error(
        server.cli("keyvault", "secret", "show", "--vault-name", vault.name, "--name", "cli-secret", check=False)
    )
    assert [item["id"] for item in server.cli_json("keyvault", "secret", "list", "--vault-name", vault.name)] == [
        f"{base}/secrets/sdk-secret"
    ]


def test_secret_commands_on_missing_vault_fail_cleanly(server: StrongroomServer):
    missing = unique_name("novault")
    assert_cli_error(server.cli("keyvault", "secret", "show", "--vault-name", missing, "--name", "x", check=False))
    assert_cli_error(server.cli("keyvault", "secret", "list", "--vault-name", missing, check=False))


def test_create_for_rbac_and_policies(server: StrongroomServer, make_vault, admin_token, sdk_env):
    vault = make_vault("clipolicy")
    display_name = unique_name("clisp")
    sp = assert_az_json(server.cli("ad", "sp", "create-for-rbac", "--name", display_name))
    assert set(sp) >= {"appId", "displayName", "password", "tenant"}
    assert sp["displayName"] == display_name
    assert sp["tenant"] == server.tenant_id
    assert len(sp["password"]) >= 16

    updated = assert_az_json(
        server.cli(
            "keyvault",
            "set-policy",
            "--name",
            vault.name,
            "--spn",
            sp["appId"],
            "--secret-permissions",
            "get",
            "list",
        )  # fmt: skip
    )
    policies = updated["properties"]["accessPolicies"]
    granted = [p for p in policies if sorted(p["permissions"]["secrets"]) == ["get", "list"]]
    assert len(granted) == 1, policies
    object_id = granted[0]["objectId"]
    assert granted[0]["tenantId"] == server.tenant_id
    assert sorted(
        server.cli_json("keyvault", "show", "--name", vault.name)["properties"]["accessPolicies"], key=str
    ) == sorted(policies, key=str)

    # The objectId in the policy is the service principal's, as Graph reports it.
    graph = requests.get(
        f"{server.authority_host}/v1.0/servicePrincipals(appId='{sp['appId']}')",
        headers={"Authorization": f"Bearer {admin_token('https://graph.microsoft.com/.default')}"},
        verify=server.ca_file,
        timeout=30,
    )
    assert graph.status_code == 200, graph.text
    assert graph.json()["id"] == object_id
    assert graph.json()["appId"] == sp["appId"]

    credential = ClientSecretCredential("adfs", sp["appId"], sp["password"], authority=server.authority_host)
    client = SecretClient(vault.url, credential)
    vault.client.set_secret("policy-secret", "visible")
    assert client.get_secret("policy-secret").value == "visible"
    with pytest.raises(HttpResponseError) as caught:
        client.set_secret("policy-secret", "nope")
    assert_access_denied(caught.value, "set")

    # --object-id adds to the same entry.
    server.cli_json(
        "keyvault", "set-policy", "--name", vault.name, "--object-id", object_id, "--secret-permissions", "set"
    )
    assert client.set_secret("policy-secret", "now allowed").value == "now allowed"

    server.cli("keyvault", "delete-policy", "--name", vault.name, "--spn", sp["appId"])
    remaining = server.cli_json("keyvault", "show", "--name", vault.name)["properties"]["accessPolicies"]
    assert object_id not in [p["objectId"] for p in remaining]
    with pytest.raises(HttpResponseError) as caught:
        client.get_secret("policy-secret")
    assert_access_denied(caught.value, "get")


def test_set_policy_with_unknown_permission_fails_cleanly(server: StrongroomServer, make_vault):
    vault = make_vault("clibadperm")
    sp = server.cli_json("ad", "sp", "create-for-rbac", "--name", unique_name("badperm"))
    res = server.cli(
        "keyvault", "set-policy", "--name", vault.name, "--spn", sp["appId"], "--secret-permissions", "fly",
        check=False,
    )  # fmt: skip
    assert_refused_without_panic(res)


def _bash_eval(script: str) -> dict[str, str]:
    """`eval` the CLI's output in bash and read back every variable it set."""
    names = " ".join(sorted(ENV_NAMES))
    program = (
        f'eval "$1"; for n in {names}; do if [ -n "${{!n+x}}" ]; then printf "%s\\0%s\\0" "$n" "${{!n}}"; fi; done'
    )
    done = subprocess.run(
        ["bash", "-c", program, "bash", script], capture_output=True, check=True, env={"PATH": os.environ["PATH"]}
    )
    fields = done.stdout.decode().split("\0")[:-1]
    return dict(zip(fields[0::2], fields[1::2], strict=True))


def test_env_output(server: StrongroomServer, main_vault: str):
    res = server.cli("env", "--vault", main_vault)
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    for line in lines:
        assert EXPORT_LINE.match(line), f"not a single-quoted export line: {line!r}"
    env = parse_env_exports(res.stdout)
    assert set(env) == ENV_NAMES
    assert env["AZURE_TENANT_ID"] == "adfs"
    assert env["AZURE_AUTHORITY_HOST"] == server.authority_host == f"https://{server.domain}:{server.port}"
    assert env["AZURE_KEYVAULT_URL"] == server.vault_url(main_vault)
    for ca_variable in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"):
        assert Path(env[ca_variable]).is_absolute()
        assert Path(env[ca_variable]).resolve() == Path(server.ca_file).resolve()
    assert Path(server.ca_file).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert _bash_eval(res.stdout) == env

    # Least privilege: the vault's own application principal, never the administrator, reused on the next call.
    admin = json.loads((Path(server.data_dir) / "admin.json").read_text())
    assert env["AZURE_CLIENT_ID"] != admin["clientId"] and env["AZURE_CLIENT_SECRET"] != admin["clientSecret"]
    again = parse_env_exports(server.cli("env", "--vault", main_vault).stdout)
    assert (again["AZURE_CLIENT_ID"], again["AZURE_CLIENT_SECRET"]) == (env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"])
    kept = Path(server.data_dir) / "apps" / f"{main_vault}.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    token = server.token(env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"], f"{server.vault_audience}/.default")
    other = str(server.create_vault("envother")["name"])

    def status(vault: str) -> int:
        res = requests.get(
            f"{server.vault_url(vault)}/secrets?api-version=7.4",
            headers={"Authorization": f"Bearer {token}"},
            verify=server.ca_file,
            timeout=30,
        )
        return res.status_code

    assert status(main_vault) == 200
    assert status(other) == 403, "the application's principal holds only its own vault's policy"
    management = server.token(env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"], "https://management.azure.com/.default")
    res = requests.get(
        f"{server.authority_host}/v1.0/servicePrincipals",
        headers={"Authorization": f"Bearer {management}"},
        verify=server.ca_file,
        timeout=30,
    )
    assert res.status_code == 403 and res.json()["error"]["code"] == "AuthorizationFailed"

    # Deleted behind its back, the principal is made again.
    server.cli("ad", "sp", "credential", "delete", "--id", env["AZURE_CLIENT_ID"], "--key-id",
               server.cli_json("ad", "sp", "credential", "list", "--id", env["AZURE_CLIENT_ID"])[0]["keyId"])  # fmt: skip
    renewed = parse_env_exports(server.cli("env", "--vault", main_vault).stdout)
    assert renewed["AZURE_CLIENT_SECRET"] != env["AZURE_CLIENT_SECRET"]
    server.token(renewed["AZURE_CLIENT_ID"], renewed["AZURE_CLIENT_SECRET"], f"{server.vault_audience}/.default")

    # No vault: no credential, unless the operator asks for the administrator's.
    alone = server.cli("env", check=False)
    assert alone.returncode == 1 and "--vault" in alone.stderr and alone.stdout == ""
    without_vault = parse_env_exports(server.cli("env", "--admin").stdout)
    assert set(without_vault) == ENV_NAMES - {"AZURE_KEYVAULT_URL"}
    assert without_vault["AZURE_CLIENT_ID"] == admin["clientId"]


def test_env_quoting_survives_awkward_paths(server: StrongroomServer, main_vault: str, tmp_path: Path):
    awkward = tmp_path / 'it\'s a "data" dir $HOME'
    awkward.symlink_to(server.data_dir, target_is_directory=True)
    res = server.cli("env", "--vault", main_vault, data_dir=awkward)
    env = parse_env_exports(res.stdout)
    assert _bash_eval(res.stdout) == env
    assert Path(env["REQUESTS_CA_BUNDLE"]).read_bytes() == Path(server.ca_file).read_bytes()
    assert env["AZURE_KEYVAULT_URL"] == server.vault_url(main_vault)


def test_data_dir_from_environment_variable(server: StrongroomServer):
    env = dict(os.environ, STRONGROOM_DATA_DIR=str(server.data_dir))
    done = subprocess.run(
        [server.binary, "keyvault", "list"], capture_output=True, env=env, timeout=60, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_missing_data_dir_fails_cleanly(server: StrongroomServer, tmp_path: Path):
    res = server.cli("keyvault", "list", check=False, data_dir=tmp_path / "nothing-here")
    assert_cli_error(res)


def test_usage_errors_do_not_panic(server: StrongroomServer):
    res = server.cli("keyvault", "create", check=False)  # --name missing
    assert res.returncode != 0
    assert "panicked" not in res.stderr and "Traceback" not in res.stderr
