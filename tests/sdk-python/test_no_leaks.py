"""Secret material never reaches the server's logs or the data directory in plaintext.

Distinctive values go in through every path that carries one (SDK set, a new version, an update of a disabled
secret, CLI set, backup/restore into another vault, delete/recover, a failed oversized set); then the server's
stdout/stderr (run with `STRONGROOM_LOG=info,strongroom=debug`) and every file in the data directory (SQLite db, -wal,
-shm, ...) are searched for the raw bytes and their base64 forms. Client secrets and bearer tokens must not be
logged either.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError

from strongroom_server import StrongroomServer, unique_name


def _marker(label: str) -> str:
    return f"LEAKCHECK-{label}-{uuid.uuid4().hex}{uuid.uuid4().hex}"


def _forms(value: str) -> dict[str, bytes]:
    raw = value.encode()
    return {
        "raw": raw,
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "utf-16-le": value.encode("utf-16-le"),
    }


def _find(haystacks: dict[str, bytes], needles: dict[str, str]) -> list[str]:
    found = []
    for where, data in haystacks.items():
        for label, value in needles.items():
            for form, needle in _forms(value).items():
                if needle and needle in data:
                    found.append(f"{label} ({form}) in {where}")
    return found


def _data_dir_files(server: StrongroomServer, skip: set[str]) -> dict[str, bytes]:
    files = {}
    for path in sorted(Path(server.data_dir).rglob("*")):
        if path.is_file() and path.name not in skip:
            files[str(path.relative_to(server.data_dir))] = path.read_bytes()
    return files


def test_values_never_reach_logs_or_disk(server: StrongroomServer, make_vault, make_principal, admin_token, sdk_env):
    vault = make_vault("leaks")
    other = make_vault("leakstarget")
    client = vault.client
    values = {
        label: _marker(label)
        for label in ("sdk-set", "sdk-v2", "disabled", "cli-set", "restored", "recovered", "too-big")
    }

    client.set_secret("leak-a", values["sdk-set"], tags={"kind": "leak-test"})
    client.set_secret("leak-a", values["sdk-v2"])
    disabled = client.set_secret("leak-disabled", values["disabled"])
    client.update_secret_properties("leak-disabled", disabled.properties.version, enabled=False)
    with pytest.raises(HttpResponseError):
        client.get_secret("leak-disabled")

    server.cli_json(
        "keyvault", "secret", "set", "--vault-name", vault.name, "--name", "leak-cli", "--value", values["cli-set"]
    )
    assert (
        server.cli_json("keyvault", "secret", "show", "--vault-name", vault.name, "--name", "leak-cli")["value"]
        == values["cli-set"]
    )

    client.set_secret("leak-restore", values["restored"])
    blob = client.backup_secret("leak-restore")
    other.client.restore_secret_backup(blob)
    assert other.client.get_secret("leak-restore").value == values["restored"]

    client.set_secret("leak-recover", values["recovered"])
    client.begin_delete_secret("leak-recover").wait()
    client.begin_recover_deleted_secret("leak-recover").wait()
    assert client.get_secret("leak-recover").value == values["recovered"]

    too_big = values["too-big"] + "x" * (25 * 1024)
    with pytest.raises(HttpResponseError):
        client.set_secret(unique_name("leak-big"), too_big)

    for name in ("leak-a", "leak-cli"):
        client.get_secret(name)
    list(client.list_properties_of_secrets())

    principal = make_principal("leaksp", vault.name, ["get"])
    assert principal.client(vault.url).get_secret("leak-a").value == values["sdk-v2"]
    vault_token = admin_token(f"{server.vault_audience}/.default")

    server.assert_running()
    logs = {"server stdout/stderr": server.log_bytes()}
    assert logs["server stdout/stderr"], "the server logged nothing at all: the check would be vacuous"
    disk = _data_dir_files(server, skip=set())
    assert any(name.startswith("strongroom.db") for name in disk), sorted(disk)

    leaks = _find({**logs, **{f"data dir {k}": v for k, v in disk.items()}}, values)
    assert not leaks, "secret values found in plaintext:\n" + "\n".join(leaks)

    credentials = {
        "admin client secret": sdk_env["AZURE_CLIENT_SECRET"],
        "service principal password": principal.password,
        "vault bearer token": vault_token,
        "backup blob": base64.urlsafe_b64encode(blob).decode().rstrip("="),
    }
    leaks = _find(logs, credentials)
    assert not leaks, "credentials found in the server log:\n" + "\n".join(leaks)

    # Client secrets are verified, not stored: none in the database (admin.json holds the CLI's own copy).
    db_files = {f"data dir {k}": v for k, v in _data_dir_files(server, skip={"admin.json"}).items()}
    leaks = _find(
        db_files,
        {"service principal password": principal.password, "admin client secret": sdk_env["AZURE_CLIENT_SECRET"]},
    )
    assert not leaks, "client secrets stored in plaintext:\n" + "\n".join(leaks)
