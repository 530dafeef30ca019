"""Least privilege on workload hosts (issue 9): an identity's credential is issued on the server host into a file,
and the agent and `env` on the workload host take that file: no administrator credential is needed there.

- `identity credential create --name N --out FILE` writes FILE (0600) and `ca.pem` beside it.
- `strongroom agent --credential-file FILE` runs with a data directory that holds nothing (no admin.json) and serves
  the identity's tokens to `ManagedIdentityCredential` (App Service protocol), in a fresh process.
- `env --credential-file FILE --vault V` (again without a data directory) gives `DefaultAzureCredential` the
  identity's secret; deleting that credential (`ad sp credential delete`) ends its access at once.
- An agent started with `--identity` (which mints a secret with admin.json) deletes that secret when it stops.
- Secrets minted for a process (the agent's, `env --proxy --identity`'s) live a day, not a year; the agent replaces
  its own at half its life, keeps serving, and deletes every secret it minted when it stops.
- `admin rotate` replaces the administrator's secret and revokes the old one.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from strongroom_server import StrongroomServer, parse_env_exports, running_server, unique_name
from test_managed_identity import AGENT_READY_PREFIX, PROGRAM, run_program, vault_with_secret

SUBPROCESS_TIMEOUT_S = 120
DAY_S = 24 * 60 * 60

# Reads one secret with DefaultAzureCredential() (EnvironmentCredential) and reports the value or the failure.
ENV_PROGRAM = PROGRAM.replace("ManagedIdentityCredential()", "DefaultAzureCredential()").replace(
    "import ManagedIdentityCredential", "import DefaultAzureCredential"
)


def start_agent(server: StrongroomServer, root: Path, *identity_args: str) -> tuple[subprocess.Popen[bytes], dict]:
    empty = root / "no-data-dir"
    empty.mkdir(parents=True, exist_ok=True)
    data_dir = str(server.data_dir) if identity_args[0] == "--identity" else str(empty)
    args = [
        server.binary, "--data-dir", data_dir, "agent", *identity_args,
        "--listen", "127.0.0.1:0", "--agent-dir", str(root / "agent"), "--arc-key-dir", str(root / "arc"),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    log = open(root / "agent.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(AGENT_READY_PREFIX):
            return proc, json.loads(line[len(AGENT_READY_PREFIX) :])
    proc.wait(timeout=10)
    raise AssertionError(f"the agent did not start:\n{(root / 'agent.log').read_text(errors='replace')}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    assert proc.wait(timeout=30) == 0, "the agent stops cleanly on SIGTERM"


def program_env(printed: str) -> dict[str, str]:
    env = parse_env_exports(printed)
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    env["HOME"] = os.environ.get("HOME", "/tmp")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_env_program(tmp_path: Path, env: dict[str, str], vault_url: str, name: str) -> dict[str, Any]:
    program = tmp_path / "env_program.py"
    program.write_text(ENV_PROGRAM)
    done = subprocess.run(
        [sys.executable, str(program), vault_url, name],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, f"program failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_without_data_dir(server: StrongroomServer, tmp_path: Path, *args: str) -> str:
    """The CLI on a workload host: a data directory that does not exist."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    done = subprocess.run(
        [server.binary, "--data-dir", str(tmp_path / "absent"), *args],
        env=env, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_credential_file_runs_the_agent_and_env_without_the_administrator(server: StrongroomServer, tmp_path: Path):
    created = server.cli_json("identity", "create", "--name", unique_name("lp"))
    vault, name, value = vault_with_secret(server, "leastpriv")
    server.cli_json(
        "keyvault", "set-policy", "--name", vault, "--object-id", created["principalId"], "--secret-permissions", "get"
    )  # fmt: skip
    out = tmp_path / "host" / "web.credential.json"
    out.parent.mkdir()
    issued = server.cli_json("identity", "credential", "create", "--name", created["name"], "--out", str(out))
    assert issued["clientId"] == created["clientId"] and issued["file"] == str(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert Path(issued["caFile"]) == out.parent / "ca.pem"
    assert (out.parent / "ca.pem").read_bytes() == Path(server.ca_file).read_bytes()
    admin = json.loads((Path(server.data_dir) / "admin.json").read_text())
    assert admin["clientSecret"] not in out.read_text(), "the administrator's secret never goes into the file"

    # The agent with the file and an empty data directory.
    proc, info = start_agent(server, tmp_path, "--credential-file", str(out))
    try:
        assert info["clientId"] == created["clientId"]
        agent_json = json.loads((tmp_path / "agent" / "agent.json").read_text())
        env = {
            "IDENTITY_ENDPOINT": f"http://127.0.0.1:{info['port']}/msi/token",
            "IDENTITY_HEADER": agent_json["identityHeader"],
            "REQUESTS_CA_BUNDLE": str(out.parent / "ca.pem"),
            "SSL_CERT_FILE": str(out.parent / "ca.pem"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        assert run_program(tmp_path, env, server.vault_url(vault), name) == {"value": value}
    finally:
        stop(proc)

    # env on the workload host: the identity's secret, never the administrator's.
    printed = cli_without_data_dir(server, tmp_path, "env", "--credential-file", str(out), "--vault", vault)
    env = program_env(printed)
    assert env["AZURE_CLIENT_ID"] == created["clientId"] and env["AZURE_CLIENT_SECRET"] != admin["clientSecret"]
    assert env["SSL_CERT_FILE"] == str(out.parent / "ca.pem")
    assert run_env_program(tmp_path, env, env["AZURE_KEYVAULT_URL"], name) == {"value": value}

    # Through the proxy too.
    printed = cli_without_data_dir(server, tmp_path, "env", "--proxy", "--credential-file", str(out))
    proxy = parse_env_exports(printed)["HTTPS_PROXY"]
    assert created["clientId"] in proxy and admin["clientId"] not in proxy

    # Deleting the file's credential ends its access at once.
    server.cli("ad", "sp", "credential", "delete", "--id", created["clientId"], "--key-id", issued["keyId"])
    assert server.cli_json("ad", "sp", "credential", "list", "--id", created["clientId"]) == []
    report = run_env_program(tmp_path, env, env["AZURE_KEYVAULT_URL"], name)
    assert "AADSTS7000215" in report.get("auth_error", ""), report


def test_an_agent_deletes_the_secret_it_minted_when_it_stops(server: StrongroomServer, tmp_path: Path):
    created = server.cli_json("identity", "create", "--name", unique_name("lpmint"))
    before = server.cli_json("ad", "sp", "credential", "list", "--id", created["clientId"])
    proc, info = start_agent(server, tmp_path, "--identity", created["name"])
    during = server.cli_json("ad", "sp", "credential", "list", "--id", created["clientId"])
    assert len(during) == len(before) + 1, "the agent made one secret"
    res = requests.get(
        f"http://127.0.0.1:{info['port']}/msi/token",
        params={"api-version": "2019-08-01", "resource": server.vault_audience},
        headers={"X-IDENTITY-HEADER": json.loads((tmp_path / "agent" / "agent.json").read_text())["identityHeader"]},
        timeout=30,
    )
    assert res.status_code == 200, res.text
    token = res.json()["access_token"]
    stop(proc)
    after = server.cli_json("ad", "sp", "credential", "list", "--id", created["clientId"])
    assert after == before, "the agent's secret went with it"
    # And the token it handed out stopped working with it.
    vault, name, _ = vault_with_secret(server, "lpmint")
    grant_res = requests.get(
        f"{server.vault_url(vault)}/secrets/{name}?api-version=7.4",
        headers={"Authorization": f"Bearer {token}"},
        verify=server.ca_file,
        timeout=30,
    )
    assert grant_res.status_code == 401 and "revoked" in grant_res.text, grant_res.text


def lifetime_s(credential: dict[str, Any]) -> float:
    start = datetime.fromisoformat(credential["startDateTime"])
    end = datetime.fromisoformat(credential["endDateTime"])
    return (end - start).total_seconds()


def test_secrets_minted_for_a_process_live_a_day(server: StrongroomServer):
    created = server.cli_json("identity", "create", "--name", unique_name("lpday"))
    printed = server.cli("env", "--proxy", "--identity", created["name"]).stdout
    assert created["clientId"] in parse_env_exports(printed)["HTTPS_PROXY"]
    minted = server.cli_json("ad", "sp", "credential", "list", "--id", created["clientId"])
    assert [c["displayName"] for c in minted] == ["strongroom env --proxy"], minted
    assert abs(lifetime_s(minted[0]) - DAY_S) <= 60, minted


def test_the_agent_renews_its_minted_secret_and_deletes_every_one_when_it_stops(server: StrongroomServer, tmp_path: Path):
    created = server.cli_json("identity", "create", "--name", unique_name("lprenew"))
    lifetime = 6
    started = time.monotonic()
    proc, info = start_agent(server, tmp_path, "--identity", created["name"], "--minted-secret-lifetime", str(lifetime))
    header = json.loads((tmp_path / "agent" / "agent.json").read_text())["identityHeader"]

    def token(resource: str) -> requests.Response:
        return requests.get(
            f"http://127.0.0.1:{info['port']}/msi/token",
            params={"api-version": "2019-08-01", "resource": resource},
            headers={"X-IDENTITY-HEADER": header},
            timeout=30,
        )

    def minted() -> list[dict[str, Any]]:
        listed = server.cli_json("ad", "sp", "credential", "list", "--id", created["clientId"])
        return [c for c in listed if c["displayName"] == "strongroom agent"]

    first = minted()
    assert len(first) == 1 and abs(lifetime_s(first[0]) - lifetime) <= 1, first
    assert token(server.vault_audience).status_code == 200
    deadline = started + 4 * lifetime
    while len(renewed := minted()) < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert {c["keyId"] for c in renewed} > {first[0]["keyId"]}, renewed
    # Past the first secret's end, a token the cache never held is still served: bought with the new one.
    time.sleep(max(0.0, started + lifetime + 0.5 - time.monotonic()))
    fresh = token("https://management.azure.com/")
    assert fresh.status_code == 200, fresh.text
    stop(proc)
    assert minted() == [], "every secret the agent minted went with it"


def test_admin_rotate_leaves_no_stale_administrator_credential(strongroom_bin: str, tmp_path_factory: Any) -> None:
    """`strongroom admin rotate`: a new secret in admin.json, every older credential deleted, and tokens bought with
    the old one refused at once (on its own server: the session's shared administrator must keep working)."""
    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-rotate"), extra_args=()) as srv:
        admin_file = Path(srv.data_dir) / "admin.json"
        old = json.loads(admin_file.read_text())
        management = "https://management.azure.com/.default"
        old_token = srv.token(old["clientId"], old["clientSecret"], management)

        rotated = srv.cli_json("admin", "rotate")
        new = json.loads(admin_file.read_text())
        assert stat.S_IMODE(admin_file.stat().st_mode) == 0o600
        assert new["clientId"] == old["clientId"] == rotated["clientId"] and new["objectId"] == old["objectId"]
        assert new["clientSecret"] != old["clientSecret"]
        assert rotated["removed"] == 1

        listed = requests.get(
            f"{srv.authority_host}/v1.0/servicePrincipals",
            headers={"Authorization": f"Bearer {old_token}"},
            verify=srv.ca_file,
            timeout=30,
        )
        assert listed.status_code == 401, listed.text
        refused = requests.post(
            f"{srv.authority_host}/{srv.tenant_id}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": old["clientId"],
                  "client_secret": old["clientSecret"], "scope": management},
            verify=srv.ca_file,
            timeout=30,
        )  # fmt: skip
        assert "AADSTS7000215" in refused.text, refused.text
        # The CLI carries on with the new admin.json, and the principal holds exactly that one secret.
        assert len(srv.cli_json("ad", "sp", "credential", "list", "--id", new["clientId"])) == 1
        srv.cli_json("keyvault", "create", "--name", unique_name("rotated"))
