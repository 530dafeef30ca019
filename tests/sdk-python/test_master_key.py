"""`strongroom master-key rotate` under the official SDK (issue 9): clients that were working before the rotation
keep working through and after it, with no new token and no restart: secrets read, a key made before the rotation
decrypts what it encrypted before it, and a secret backup made before the rotation restores after it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from azure.identity import ClientSecretCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm
from azure.keyvault.secrets import SecretClient

from strongroom_server import running_server, unique_name


def test_master_key_rotation_is_invisible_to_sdk_clients(strongroom_bin: str, tmp_path_factory: Any) -> None:
    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-master-key"), extra_args=()) as srv:
        admin = json.loads((Path(srv.data_dir) / "admin.json").read_text())
        credential = ClientSecretCredential(
            "adfs", admin["clientId"], admin["clientSecret"],
            authority=srv.authority_host, connection_verify=srv.ca_file,
        )  # fmt: skip
        vault = str(srv.create_vault("mk")["name"])
        secrets = SecretClient(srv.vault_url(vault), credential, connection_verify=srv.ca_file)
        keys = KeyClient(srv.vault_url(vault), credential, connection_verify=srv.ca_file)
        secrets.set_secret("kept", "sealed before the rotation")
        key = keys.create_rsa_key(unique_name("rsa"), size=2048)
        crypto = CryptographyClient(key, credential, connection_verify=srv.ca_file)
        ciphertext = crypto.encrypt(EncryptionAlgorithm.rsa_oaep_256, b"encrypted before").ciphertext
        backup = secrets.backup_secret("kept")
        key_file = Path(srv.data_dir) / "master.key"
        old_key = key_file.read_bytes()

        rotated = srv.cli_json("master-key", "rotate")
        assert rotated["vaults"] >= 1 and rotated["keySource"] == "file", rotated
        assert key_file.read_bytes() != old_key

        assert secrets.get_secret("kept").value == "sealed before the rotation"
        assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, ciphertext).plaintext == b"encrypted before"
        secrets.set_secret("kept", "sealed after the rotation")
        assert secrets.get_secret("kept").value == "sealed after the rotation"

        other = str(srv.create_vault("mkrestore")["name"])
        restored = SecretClient(srv.vault_url(other), credential, connection_verify=srv.ca_file)
        assert restored.restore_secret_backup(backup).name == "kept"
        assert restored.get_secret("kept").value == "sealed before the rotation"
