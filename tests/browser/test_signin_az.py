"""`az login` for a person, with the real Azure CLI through transparent mode, completed in the browser.

- `az login --use-device-code`: az prints the verification URI (`https://login.microsoftonline.com/devicelogin`,
  which Chromium reaches through Strongroom's proxy) and the code; the browser enters the code, signs in and
  approves. az then finds the tenants and subscriptions with the refresh token (one per tenant).
- `az login` (browser): msal opens the authorize URL with `$BROWSER` (a script that records it), the browser signs
  in, and the sign-in page hands the code to az's loopback listener with `response_mode=form_post`.

Afterwards `az account show` names the user, and `az keyvault secret show` reads a secret the user was granted
(at `https://{vault}.vault.azure.net`, a token for `https://vault.azure.net` bought with the refresh token).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext

from az_cli import Az, wait_for_line
from conftest import User
from signin import approve_device_code, complete_sign_in
from strongroom_server import StrongroomServer
from vaults import SecretVault, vault_with_secret

DEVICE_CODE_MESSAGE = r"(?s)(https://\S+?/devicelogin)\b.*?\bcode\s+([A-Za-z0-9-]+)"


@pytest.fixture(scope="session")
def az_bin() -> str:
    binary = os.environ.get("STRONGROOM_AZ")
    if not binary or not os.access(binary, os.X_OK):
        pytest.exit("STRONGROOM_AZ must name the pinned `az`: run ./scripts/test-browser.sh", 2)
    return binary


@pytest.fixture
def az(az_bin: str, server: StrongroomServer, tmp_path: Path) -> Iterator[Az]:
    person = Az(az_bin, server, tmp_path / "az-home")
    yield person
    person.stop_all()


def assert_signed_in_as(az: Az, server: StrongroomServer, user: User, vault: SecretVault) -> None:
    shown = az.json("account", "show")
    assert shown["user"]["name"].lower() == user.upn.lower(), shown
    assert shown["user"]["type"] == "user", shown
    assert shown["tenantId"] == server.tenant_id, shown
    secret = az.json("keyvault", "secret", "show", "--vault-name", vault.name, "--name", vault.secret_name)
    assert secret["value"] == vault.secret_value
    assert secret["id"].startswith(f"https://{vault.name}.vault.azure.net/secrets/{vault.secret_name}/"), secret


def test_az_login_use_device_code_is_approved_in_the_browser(
    az: Az, server: StrongroomServer, make_user: Callable[..., User], new_context: Callable[..., BrowserContext]
) -> None:
    user = make_user("carol")
    vault = vault_with_secret(server, "azdevice", user)
    # A person who administers nothing: az finds the tenant and no subscription, hence --allow-no-subscriptions.
    login = az.start("login", "--use-device-code", "--allow-no-subscriptions")
    found = login.wait_for_stderr(DEVICE_CODE_MESSAGE)
    verification_uri, user_code = found.group(1), found.group(2)
    assert verification_uri == "https://login.microsoftonline.com/devicelogin", login.stderr

    approve_device_code(new_context().new_page(), verification_uri, user_code, user)
    accounts = login.finish().json()
    assert accounts, "az login printed no account"
    for account in accounts:
        assert account["user"]["type"] == "user", account
        assert account["user"]["name"].lower() == user.upn.lower(), account
        assert account["tenantId"] == server.tenant_id, account
    assert_signed_in_as(az, server, user, vault)


def test_az_login_in_the_browser_signs_in_with_the_authorization_code_flow(
    az: Az, server: StrongroomServer, make_user: Callable[..., User], new_context: Callable[..., BrowserContext]
) -> None:
    user = make_user("dave", admin=True)
    vault = vault_with_secret(server, "azbrowser", user)
    opened = az.recording_browser()
    login = az.start("login")
    url = wait_for_line(opened, login)
    assert url.startswith("https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?"), url

    page = new_context().new_page()
    page.goto(url)
    assert complete_sign_in(page, user) == "form"
    accounts = login.finish().json()
    # The deployment administrator's subscription, as for a service principal (tests/az/test_login.py).
    assert [account["id"] for account in accounts] == [server.subscription_id], accounts
    assert accounts[0]["user"]["name"].lower() == user.upn.lower(), accounts
    assert accounts[0]["user"]["type"] == "user", accounts
    # The browser ended on az's own loopback page, which the sign-in page's form post reached.
    page.wait_for_url(lambda current: current.startswith("http://localhost:"), wait_until="commit")
    assert_signed_in_as(az, server, user, vault)
