"""`az login --service-principal` and `az account` through transparent mode, with the unmodified Azure CLI.

The CLI signs in at `login.microsoftonline.com` (instance discovery, OpenID configuration, client credentials for
`https://management.core.windows.net//.default`), then lists subscriptions and tenants at `management.azure.com`;
Strongroom answers each of those names through the proxy. `az account show|list` then read what login stored.
"""

from __future__ import annotations

from typing import Any

from conftest import Az
from strongroom_server import StrongroomServer


def login(az: Az, server: StrongroomServer, credential: dict[str, str], secret: str | None = None) -> Any:
    return az.run(
        "login",
        "--service-principal",
        "--username",
        credential["clientId"],
        "--password",
        secret if secret is not None else credential["clientSecret"],
        "--tenant",
        server.tenant_id,
    )


def test_a_service_principal_signs_in_and_sees_the_deployment_subscription(
    az: Az, server: StrongroomServer, admin_credential: dict[str, str]
) -> None:
    subscription_id = server.info["subscriptionId"]
    accounts = login(az, server, admin_credential).json()
    assert [account["id"] for account in accounts] == [subscription_id]
    (account,) = accounts
    assert account["tenantId"] == server.tenant_id
    assert account["homeTenantId"] == server.tenant_id
    assert account["state"] == "Enabled"
    assert account["isDefault"] is True
    assert account["cloudName"] == "AzureCloud"
    assert account["user"] == {"name": admin_credential["clientId"], "type": "servicePrincipal"}

    shown = az.json("account", "show")
    assert shown["id"] == subscription_id
    assert shown["tenantId"] == server.tenant_id
    assert shown["name"] == account["name"]
    assert shown["environmentName"] == "AzureCloud"
    assert [entry["id"] for entry in az.json("account", "list")] == [subscription_id]

    # A token the CLI buys for ARM is one of ours (the login's cached refresh, no new credential).
    token = az.json("account", "get-access-token")
    assert token["subscription"] == subscription_id
    assert token["tenant"] == server.tenant_id
    assert token["tokenType"] == "Bearer"
    assert token["accessToken"].count(".") == 2


def test_a_wrong_secret_is_refused_as_entra_refuses_it(
    az: Az, server: StrongroomServer, admin_credential: dict[str, str]
) -> None:
    refused = login(az, server, admin_credential, secret="not-the-secret")
    assert refused.returncode != 0
    assert "AADSTS7000215" in refused.stderr, refused.stderr
    assert "not-the-secret" not in refused.stderr
    # Nothing was stored: the CLI has no account.
    assert az.json("account", "list") == []


def test_another_subscription_is_not_found(az: Az, server: StrongroomServer, admin_credential: dict[str, str]) -> None:
    login(az, server, admin_credential).json()
    missing = az.run("account", "show", "--subscription", "00000000-0000-0000-0000-000000000000")
    assert missing.returncode != 0
    # The CLI answers from its login's list, which holds only the deployment's subscription.
    assert "00000000-0000-0000-0000-000000000000" in missing.stderr, missing.stderr
