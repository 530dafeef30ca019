"""Fixtures for the Azure CLI suite: the real `strongroom` binary, driven by the real, unmodified `az`.

- `az` is Microsoft's `azure-cli` from PyPI, pinned (requirements.txt) and installed by scripts/test.sh into a venv
  outside the clone; `$STRONGROOM_AZ` names its `az`.
- Each `az` runs as a subprocess whose environment is what `strongroom env --proxy` prints (the transparent proxy
  and the CA bundle) plus its own `AZURE_CONFIG_DIR`, `HOME` and `PATH`: nothing else, so the CLI reaches Azure's
  own names (`login.microsoftonline.com`, `management.azure.com`, `*.vault.azure.net`) and Strongroom answers them.
- The server, its CLI and the no-skip rule are the SDK suite's (tests/sdk-python: strongroom_server.py, no_skips.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sdk-python"))

from strongroom_server import StrongroomServer, parse_env_exports, running_server  # noqa: E402

pytest_plugins = ["no_skips"]

# `az login` starts slowly (it imports its command modules on first use): generous, not unbounded.
AZ_TIMEOUT_S = 180


@pytest.fixture(scope="session")
def strongroom_bin() -> str:
    binary = os.environ.get("STRONGROOM_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.exit("STRONGROOM_BIN must name the strongroom binary: run ./scripts/test.sh", 2)
    return binary


@pytest.fixture(scope="session")
def az_bin() -> str:
    binary = os.environ.get("STRONGROOM_AZ")
    if not binary or not os.access(binary, os.X_OK):
        pytest.exit("STRONGROOM_AZ must name the pinned `az`: run ./scripts/test.sh, which installs it", 2)
    return binary


@pytest.fixture(scope="session")
def server(strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with running_server(strongroom_bin, tmp_path_factory.mktemp("az-server")) as srv:
        yield srv


@dataclass
class AzResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, f"`az {' '.join(self.argv)}` exited {self.returncode}: {self.stderr}"
        return json.loads(self.stdout)


class Az:
    """One `az` user: its own config directory (its login), the environment `strongroom env --proxy` prints."""

    def __init__(self, binary: str, server: StrongroomServer, home: Path):
        self.binary = binary
        self.server = server
        home.mkdir(parents=True, exist_ok=True)
        exported = parse_env_exports(server.cli("env", "--proxy").stdout)
        self.env = {
            **exported,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "AZURE_CONFIG_DIR": str(home / ".azure"),
            # Telemetry would try to reach Microsoft in the background; the CLI's own switch turns it off.
            "AZURE_CORE_COLLECT_TELEMETRY": "no",
        }

    def run(self, *args: str) -> AzResult:
        done = subprocess.run(
            [self.binary, *args, "--output", "json"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=self.env,
            timeout=AZ_TIMEOUT_S,
        )
        return AzResult(
            list(args), done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
        )

    def json(self, *args: str) -> Any:
        return self.run(*args).json()

    def login(self, client_id: str, secret: str, *extra: str) -> "Az":
        """`az login --service-principal` in the deployment's tenant; fails the test if it fails. `extra`: more
        arguments, e.g. `--allow-no-subscriptions` for a principal that holds no role (az refuses it otherwise)."""
        self.json(
            "login", "--service-principal", "--username", client_id, f"--password={secret}",
            "--tenant", self.server.tenant_id, *extra,
        )  # fmt: skip
        return self

    def assign_role(self, role: str, object_id: str, scope: str) -> Any:
        """`az role assignment create` for a service principal by object id."""
        return self.json(
            "role", "assignment", "create",
            "--role", role,
            "--assignee-object-id", object_id,
            "--assignee-principal-type", "ServicePrincipal",
            "--scope", scope,
        )  # fmt: skip


@pytest.fixture
def az(az_bin: str, server: StrongroomServer, tmp_path: Path) -> Az:
    """A fresh `az` user (not signed in)."""
    return Az(az_bin, server, tmp_path / "az-home")


@pytest.fixture(scope="session")
def admin_credential(server: StrongroomServer) -> dict[str, str]:
    """The deployment administrator's service principal (admin.json): `clientId`, `clientSecret`."""
    return json.loads((server.data_dir / "admin.json").read_text())


@pytest.fixture
def signed_in(az: Az, admin_credential: dict[str, str]) -> Az:
    """A fresh `az` user signed in as the deployment's administrator."""
    return az.login(admin_credential["clientId"], admin_credential["clientSecret"])
