"""Microsoft's tutorial "Use a Linux VM system-assigned managed identity to access Azure Key Vault", start to finish,
with the unmodified `az` and the tutorial's own code:

1. the administrator's set-up, as written: `az group create`, `az keyvault create`, `az keyvault secret set`,
   `az vm identity assign --name myVM`, `az keyvault set-policy --object-id <systemAssignedIdentity>
   --secret-permissions get list`. The one Strongroom step: the "VM" is a workload host registered with
   `strongroom vm create` (Strongroom runs no machines, and refuses the real `az vm create`), and az 2.91 makes
   RBAC vaults by default, so the vault is created with access policies as the tutorial's set-policy needs;
2. on the VM: its credential file (`strongroom identity credential create`, the host's only secret) and the
   variables `strongroom env --proxy --credential-file` prints; then the tutorial's raw REST code (a token from
   IMDS at 169.254.169.254, then GET https://<vault>.vault.azure.net/secrets/<name>), and `az login --identity`
   followed by `az keyvault secret show`: both read the secret, and neither can write it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import AZ_TIMEOUT_S, Az
from strongroom_server import StrongroomServer, parse_env_exports, unique_name

# The tutorial's Python, verbatim in substance: IMDS token, then the secret (api-version 2016-10-01, no trailing /).
TUTORIAL_PROGRAM = """
import json, sys, requests
vault, name = sys.argv[1], sys.argv[2]
token = requests.get(
    "http://169.254.169.254/metadata/identity/oauth2/token",
    params={"api-version": "2018-02-01", "resource": "https://vault.azure.net"},
    headers={"Metadata": "true"}, timeout=30,
).json()["access_token"]
secret = requests.get(
    f"https://{vault}.vault.azure.net/secrets/{name}?api-version=2016-10-01",
    headers={"Authorization": f"Bearer {token}"}, timeout=30,
)
write = requests.put(
    f"https://{vault}.vault.azure.net/secrets/{name}?api-version=2016-10-01",
    headers={"Authorization": f"Bearer {token}"}, json={"value": "overwritten"}, timeout=30,
)
print(json.dumps({"value": secret.json().get("value"), "write_status": write.status_code}))
"""


def test_the_vm_managed_identity_tutorial(signed_in: Az, server: StrongroomServer, az_bin: str, tmp_path: Path) -> None:
    admin = signed_in
    group, vault, vm = unique_name("myResourceGroup"), unique_name("kv"), unique_name("myVM")

    # 1. The administrator's set-up.
    admin.json("group", "create", "--name", group, "--location", "westeurope")
    admin.json(
        "keyvault", "create", "--name", vault, "--resource-group", group, "--location", "westeurope",
        "--enable-rbac-authorization", "false",
    )  # fmt: skip
    admin.json("keyvault", "secret", "set", "--vault-name", vault, "--name", "mysecret", "--value", "s3cr3t")
    not_registered = admin.run("vm", "identity", "assign", "--name", vm, "--resource-group", group)
    assert not_registered.returncode != 0 and "ResourceNotFound" in not_registered.stderr, not_registered.stderr
    registered = server.cli_json("vm", "create", "--name", vm, "--resource-group", group, "--location", "westeurope")
    assert registered["id"].endswith(f"/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{vm}")
    refused = admin.run("vm", "create", "--name", unique_name("realvm"), "--resource-group", group, "--image", "Ubuntu2204")
    assert refused.returncode != 0, "Strongroom must not pretend to run a machine"
    assigned = admin.json("vm", "identity", "assign", "--name", vm, "--resource-group", group)
    principal_id = assigned["systemAssignedIdentity"]
    assert assigned == {"systemAssignedIdentity": principal_id, "userAssignedIdentities": {}}
    # Assigning again keeps the same identity.
    assert admin.json("vm", "identity", "assign", "--name", vm, "--resource-group", group)["systemAssignedIdentity"] == principal_id
    assert admin.json("vm", "identity", "show", "--name", vm, "--resource-group", group)["principalId"] == principal_id
    policy = admin.json("keyvault", "set-policy", "--name", vault, "--object-id", principal_id, "--secret-permissions", "get", "list")
    assert principal_id in [p["objectId"] for p in policy["properties"]["accessPolicies"]]

    # 2. On the VM: nothing but its own credential file and what `strongroom env --proxy` prints from it.
    credential = tmp_path / "vm" / "myVM.credential.json"
    credential.parent.mkdir()
    server.cli_json("identity", "credential", "create", "--name", vm, "--out", str(credential))
    host_env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    printed = subprocess.run(
        [server.binary, "--data-dir", str(tmp_path / "no-data-dir"), "env", "--proxy", "--credential-file", str(credential)],
        env=host_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    vm_env = {**parse_env_exports(printed.stdout), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "vm")}

    ran = subprocess.run(
        [sys.executable, "-c", TUTORIAL_PROGRAM, vault, "mysecret"], env=vm_env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"value": "s3cr3t", "write_status": 403}

    # The same VM, with the unmodified az: `az login --identity` through the proxy's IMDS.
    on_vm = Az(az_bin, server, tmp_path / "vm-az")
    on_vm.env = {**vm_env, "AZURE_CONFIG_DIR": str(tmp_path / "vm-az" / ".azure"), "AZURE_CORE_COLLECT_TELEMETRY": "no"}
    login = on_vm.json("login", "--identity", "--allow-no-subscriptions")
    assert login[0]["user"]["type"] == "servicePrincipal" and login[0]["user"]["assignedIdentityInfo"] == "MSI"
    assert on_vm.json("keyvault", "secret", "show", "--vault-name", vault, "--name", "mysecret")["value"] == "s3cr3t"
    assert on_vm.run("keyvault", "secret", "set", "--vault-name", vault, "--name", "mysecret", "--value", "x").returncode != 0

    # Deleting the group takes the VM and its identity with it: the credential file stops working.
    assert admin.run("group", "delete", "--name", group, "--yes").returncode == 0
    gone = subprocess.run(
        [sys.executable, "-c", TUTORIAL_PROGRAM, vault, "mysecret"], env=vm_env, capture_output=True, text=True, timeout=AZ_TIMEOUT_S
    )
    assert gone.returncode != 0 or json.loads(gone.stdout)["value"] is None, gone.stdout
