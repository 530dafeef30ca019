"""Soft-delete retention with the dev clock (`--dev-clock`, CONTRACTS.md "Dev clock").

Moving the clock invalidates every token issued before the move (their `exp` is now in the past for the
server), so this module runs its own server and never touches the clock of the shared one.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

from strongroom_server import StrongroomServer, running_server, unique_name

DAY_S = 86400


@pytest.fixture(scope="module")
def clock_server(
    resolve_localhost_names, strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StrongroomServer]:
    with running_server(strongroom_bin, tmp_path_factory.mktemp("server-clock")) as srv:
        yield srv


def test_deleted_secret_is_purged_after_retention(clock_server: StrongroomServer):
    vault = clock_server.cli_json("keyvault", "create", "--name", unique_name("retain"), "--retention-days", "7")
    assert vault["properties"]["softDeleteRetentionInDays"] == 7
    vault_name = vault["name"]
    keep_vault = clock_server.cli_json("keyvault", "create", "--name", unique_name("keep"))
    assert keep_vault["properties"]["softDeleteRetentionInDays"] == 90

    with clock_server.activated_env(vault_name) as env:
        credential = DefaultAzureCredential()
        client = SecretClient(env["AZURE_KEYVAULT_URL"], credential)
        keep_client = SecretClient(keep_vault["properties"]["vaultUri"], credential)

        name = unique_name("shortlived")
        client.set_secret(name, "gone in a week")
        deleted = client.begin_delete_secret(name).result()
        assert deleted.scheduled_purge_date is not None and deleted.deleted_date is not None
        retention_s = (deleted.scheduled_purge_date - deleted.deleted_date).total_seconds()
        assert abs(retention_s - 7 * DAY_S) <= 5, f"scheduled purge {retention_s / DAY_S:.3f} days after deletion"
        assert client.get_deleted_secret(name).name == name

        survivor = unique_name("survivor")
        keep_client.set_secret(survivor, "kept for 90 days")
        keep_client.begin_delete_secret(survivor).wait()

        # 6 days later: still recoverable.
        admin_token = credential.get_token("https://management.azure.com/.default").token
        assert clock_server.advance_clock(admin_token, 6 * DAY_S)["offsetSeconds"] == 6 * DAY_S

    # Tokens issued before the move are now expired for the server: fresh credential and clients.
    with clock_server.activated_env(vault_name) as env:
        credential = DefaultAzureCredential()
        client = SecretClient(env["AZURE_KEYVAULT_URL"], credential)
        assert client.get_deleted_secret(name).name == name

        admin_token = credential.get_token("https://management.azure.com/.default").token
        assert clock_server.advance_clock(admin_token, 2 * DAY_S)["offsetSeconds"] == 8 * DAY_S

    with clock_server.activated_env(vault_name) as env:
        credential = DefaultAzureCredential()
        client = SecretClient(env["AZURE_KEYVAULT_URL"], credential)
        keep_client = SecretClient(keep_vault["properties"]["vaultUri"], credential)
        with pytest.raises(ResourceNotFoundError):
            client.get_deleted_secret(name)
        assert name not in [d.name for d in client.list_deleted_secrets()]
        with pytest.raises(ResourceNotFoundError):
            client.get_secret(name)
        # The purge freed the name.
        assert client.set_secret(name, "new life").value == "new life"
        # A vault with 90-day retention still holds its deleted secret.
        assert keep_client.get_deleted_secret(survivor).name == survivor
        keep_client.begin_recover_deleted_secret(survivor).wait()
        assert keep_client.get_secret(survivor).value == "kept for 90 days"
