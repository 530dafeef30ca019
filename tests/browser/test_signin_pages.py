"""Each sign-in page as a person sees it: a full-page screenshot (target/browser-screenshots/signin-*.png) and the
accessibility check (axe-core: no serious or critical violation), in the states a person meets them: the sign-in
form, the same form showing an error, the account picker, the device-code pages (code entry, sign-in, confirmation,
done) and the error page of a refused authorization request. Keyboard use is checked on the form: Tab reaches the
fields and the button in order, and Enter submits.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from playwright.sync_api import Page

from conftest import User
from oauth import AZURE_CLI_CLIENT_ID, Pkce, authorize_url, start_flow, token, vault_scope
from signin import approve_device_code, sign_in_error, submit_sign_in
from strongroom_server import StrongroomServer

Check = Callable[[Page, str], Any]


def test_sign_in_form_and_its_error(
    server: StrongroomServer, page: Page, make_user: Callable[..., User], screenshot: Check,
    check_accessibility: Check,
) -> None:  # fmt: skip
    user = make_user("pages")
    flow = start_flow(server, page.context)
    page.goto(flow.url)
    page.locator("#password").wait_for(state="visible")
    assert page.title().strip(), "the sign-in page has no title"
    screenshot(page, "signin-form")
    check_accessibility(page, "signin-form")

    # The keyboard alone: the username field has focus or is the first stop, then the password, then the button.
    page.locator("#username").focus()
    page.keyboard.type(user.upn)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(user.password + "-wrong")
    page.keyboard.press("Enter")
    sign_in_error(page)
    screenshot(page, "signin-form-error")
    check_accessibility(page, "signin-form-error")

    # The error is announced and tied to the form; the right password still gets in.
    submit_sign_in(page, user)
    flow.receiver.wait(page)


def test_account_picker(
    server: StrongroomServer, page: Page, make_user: Callable[..., User], screenshot: Check,
    check_accessibility: Check,
) -> None:  # fmt: skip
    user = make_user("picker")
    first = start_flow(server, page.context)
    page.goto(first.url)
    submit_sign_in(page, user)
    first.receiver.wait(page)
    again = start_flow(server, page.context, prompt="select_account")
    page.goto(again.url)
    page.locator("#continue").wait_for(state="visible")
    screenshot(page, "signin-account-picker")
    check_accessibility(page, "signin-account-picker")


def test_device_code_pages_and_the_device_code_grant(
    server: StrongroomServer, page: Page, make_user: Callable[..., User], screenshot: Check,
    check_accessibility: Check,
) -> None:  # fmt: skip
    user = make_user("device")
    started = token_endpoint_devicecode(server)
    assert started["verification_uri"] == f"{server.authority_host}/devicelogin", started
    assert started["user_code"] in started["message"] and started["verification_uri"] in started["message"], started
    assert isinstance(started["interval"], int) and isinstance(started["expires_in"], int), started

    pending = poll_device_code(server, started["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending", pending.text

    def on_step(current: Page, name: str) -> None:
        screenshot(current, f"signin-{name}")
        check_accessibility(current, f"signin-{name}")

    approve_device_code(page, started["verification_uri"], started["user_code"], user, on_step=on_step)

    deadline = time.monotonic() + 30
    while True:
        answered = poll_device_code(server, started["device_code"])
        if answered.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(max(1, started["interval"]))
    assert answered.status_code == 200, answered.text
    assert answered.json()["access_token"] and answered.json()["refresh_token"]
    # A device code is good once.
    again = poll_device_code(server, started["device_code"])
    assert again.status_code == 400, again.text


def test_an_unknown_code_is_refused_and_a_denied_one_is_declined(
    server: StrongroomServer, page: Page, make_user: Callable[..., User], screenshot: Check,
    check_accessibility: Check,
) -> None:  # fmt: skip
    user = make_user("denier")
    started = token_endpoint_devicecode(server)
    page.goto(started["verification_uri"])
    page.locator("#user_code").fill("NOT-A-CODE")
    page.locator("#next").click()
    assert sign_in_error(page), "an unknown code without an error"
    assert page.locator("#user_code").is_visible() and not page.locator("#approve").count()
    screenshot(page, "signin-device-code-unknown")
    check_accessibility(page, "signin-device-code-unknown")

    def on_step(current: Page, name: str) -> None:
        if name == "device-code-denied":
            screenshot(current, f"signin-{name}")
            check_accessibility(current, f"signin-{name}")

    done = approve_device_code(page, started["verification_uri"], started["user_code"], user, on_step, approve=False)
    assert "cancel" in done.lower(), done
    declined = poll_device_code(server, started["device_code"])
    assert declined.status_code == 400 and declined.json()["error"] == "authorization_declined", declined.text
    # What a screen reader announces first must not contradict the page.
    assert "signed in" not in page.title().lower(), f"a cancelled sign-in titled {page.title()!r}"


def test_error_page_of_a_refused_authorization_request(
    server: StrongroomServer, page: Page, screenshot: Check, check_accessibility: Check
) -> None:
    url = authorize_url(
        server, redirect_uri="https://attacker.example/callback", pkce=Pkce.new(), state="s", scope=vault_scope(server)
    )
    response = page.goto(url)
    assert response is not None and response.status == 400
    screenshot(page, "signin-error-page")
    check_accessibility(page, "signin-error-page")


def token_endpoint_devicecode(server: StrongroomServer) -> dict[str, Any]:
    import requests

    response = requests.post(
        f"{server.authority_host}/{server.tenant_id}/oauth2/v2.0/devicecode",
        data={"client_id": AZURE_CLI_CLIENT_ID, "scope": f"{vault_scope(server)} openid profile offline_access"},
        verify=server.ca_file,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def poll_device_code(server: StrongroomServer, device_code: str) -> Any:
    return token(server, {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": AZURE_CLI_CLIENT_ID,
        "device_code": device_code,
    })  # fmt: skip
