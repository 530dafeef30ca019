"""Vaults for the sign-in tests, made by the administrator with the CLI: one secret, and optionally a user granted
secret get/list by an access policy on the user's object id."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from conftest import User
from strongroom_server import StrongroomServer

SECRET_NAME = "greeting"


@dataclass(frozen=True)
class SecretVault:
    name: str
    url: str
    secret_name: str
    secret_value: str


def vault_with_secret(server: StrongroomServer, prefix: str, *granted: User) -> SecretVault:
    resource = server.create_vault(prefix)
    name = str(resource["name"])
    value = f"hello-{secrets.token_hex(8)}"
    server.cli_json("keyvault", "secret", "set", "--vault-name", name, "--name", SECRET_NAME, "--value", value)
    for user in granted:
        server.cli_json(
            "keyvault", "set-policy", "--name", name, "--object-id", user.object_id,
            "--secret-permissions", "get", "list",
        )  # fmt: skip
    return SecretVault(name, str(resource["properties"]["vaultUri"]).rstrip("/"), SECRET_NAME, value)


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (the vault verifies it; the tests only look at whom it names)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
