"""The authorization-code flow at the wire, with a person signing in on the page: what a public client gets, and
what it is refused.

The tests play the client themselves (PKCE, state, the token endpoint with `requests`); the redirect URI is a
loopback `http://localhost:PORT` where a `LoopbackReceiver` listens, as az's and azure-identity's listeners do, and
records the code, whether it came in the query or by `response_mode=form_post`.
"""

from __future__ import annotations

import html
from typing import Callable

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, Request

from conftest import User
from oauth import (
    AZURE_CLI_CLIENT_ID,
    Flow,
    Pkce,
    assert_entra_error,
    authorize_url,
    loopback_redirect_uri,
    page_text,
    start_flow,
    token,
    vault_scope,
)
from signin import complete_sign_in, sign_in_error, submit_sign_in
from strongroom_server import StrongroomServer
from vaults import jwt_claims, vault_with_secret

LOCKOUT_THRESHOLD = 10


def signed_in_code(server: StrongroomServer, page: Page, user: User, **extra: str) -> tuple[Flow, str]:
    """Open the authorization URL, sign in as `user`, and return the flow and the code the browser brought back."""
    flow = start_flow(server, page.context, **extra)
    page.goto(flow.url)
    complete_sign_in(page, user)
    caught = flow.receiver.wait(page)
    assert "error" not in caught.params, caught
    assert caught.params.get("state") == flow.state, caught
    return flow, caught.params["code"]


def read_secret(server: StrongroomServer, vault_url: str, name: str, access_token: str) -> requests.Response:
    return requests.get(
        f"{vault_url}/secrets/{name}",
        params={"api-version": "7.5"},
        headers={"Authorization": f"Bearer {access_token}"},
        verify=server.ca_file,
        timeout=30,
    )


# -- what works ---------------------------------------------------------------------------------------------------


def test_a_code_redeems_once_with_its_verifier_and_its_refresh_token_renews_access(
    server: StrongroomServer, page: Page, make_user: Callable[..., User]
) -> None:
    user = make_user("erin")
    vault = vault_with_secret(server, "codeflow", user)
    flow, code = signed_in_code(server, page, user)

    first = flow.redeem(server, code)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] >= 300, body
    for field in ("access_token", "refresh_token", "id_token"):
        assert body.get(field), f"no {field} in {sorted(body)}"
    claims = jwt_claims(body["access_token"])
    assert claims["oid"] == user.object_id and claims["tid"] == server.tenant_id, claims
    id_claims = jwt_claims(body["id_token"])
    assert id_claims["oid"] == user.object_id, id_claims
    assert id_claims.get("preferred_username", "").lower() == user.upn.lower(), id_claims
    read = read_secret(server, vault.url, vault.secret_name, body["access_token"])
    assert read.status_code == 200, read.text
    assert read.json()["value"] == vault.secret_value

    # A code is good once.
    assert_entra_error(flow.redeem(server, code), "invalid_grant")

    # The refresh token buys a new access token for the same user, which the vault accepts.
    refreshed = token(server, {
        "grant_type": "refresh_token",
        "client_id": AZURE_CLI_CLIENT_ID,
        "refresh_token": body["refresh_token"],
        "scope": flow.scope,
    })  # fmt: skip
    assert refreshed.status_code == 200, refreshed.text
    renewed = refreshed.json()
    assert jwt_claims(renewed["access_token"])["oid"] == user.object_id
    read = read_secret(server, vault.url, vault.secret_name, renewed["access_token"])
    assert read.status_code == 200, read.text


def test_the_account_picker_continues_a_session_and_offers_another_account(
    server: StrongroomServer, page: Page, make_user: Callable[..., User]
) -> None:
    user = make_user("frank")
    flow, code = signed_in_code(server, page, user)
    assert flow.redeem(server, code).status_code == 200

    # The session is a cookie the page's scripts cannot read, sent only over HTTPS, bound to this host.
    cookies = [c for c in page.context.cookies() if c["name"].startswith("__Host-")]
    assert cookies, f"no __Host- session cookie: {page.context.cookies()}"
    for cookie in cookies:
        assert cookie["secure"] and cookie["httpOnly"] and cookie["path"] == "/", cookie

    # prompt=select_account: "Continue as ..." signs in without the password.
    again = start_flow(server, page.context, prompt="select_account")
    page.goto(again.url)
    page.locator("#continue").wait_for(state="visible")
    label = page.locator("#continue").inner_text() + " " + page_text(page)
    assert user.upn.lower() in label.lower() or user.display_name in label, label
    page.locator("#continue").click()
    caught = again.receiver.wait(page)
    assert caught.params.get("state") == again.state
    assert again.redeem(server, caught.params["code"]).status_code == 200

    # "Use another account" leads to the sign-in form.
    third = start_flow(server, page.context, prompt="select_account")
    page.goto(third.url)
    page.locator("#other-account").click()
    page.locator("#password").wait_for(state="visible")


def test_sign_out_ends_the_session(server: StrongroomServer, page: Page, make_user: Callable[..., User]) -> None:
    user = make_user("grace")
    flow, code = signed_in_code(server, page, user)
    logout = f"{server.authority_host}/{server.tenant_id}/oauth2/v2.0/logout"
    page.goto(f"{logout}?post_logout_redirect_uri={flow.redirect_uri}")
    # Back to the client's own (registered) redirect URI, with nothing in the query.
    page.wait_for_url(lambda current: current.startswith(flow.redirect_uri))
    assert flow.receiver.caught[-1].params == {}, flow.receiver.caught
    after = start_flow(server, page.context, prompt="select_account")
    page.goto(after.url)
    page.locator("#password, #continue").first.wait_for(state="visible")
    assert page.locator("#password").is_visible(), "signed out, yet the account picker offers the old session"
    assert not page.locator("#continue").is_visible()


# -- what is refused ---------------------------------------------------------------------------------------------


def test_a_wrong_pkce_verifier_is_invalid_grant(
    server: StrongroomServer, page: Page, make_user: Callable[..., User]
) -> None:
    flow, code = signed_in_code(server, page, make_user("heidi"))
    assert_entra_error(flow.redeem(server, code, verifier=Pkce.new().verifier), "invalid_grant")


def test_a_redirect_uri_other_than_the_authorize_requests_is_invalid_grant(
    server: StrongroomServer, page: Page, make_user: Callable[..., User]
) -> None:
    flow, code = signed_in_code(server, page, make_user("ivan"))
    assert_entra_error(flow.redeem(server, code, redirect_uri=loopback_redirect_uri()), "invalid_grant")


@pytest.mark.parametrize(
    "foreign",
    ["https://attacker.example/callback", "http://attacker.example:8400/", "https://localhost.attacker.example/"],
)
def test_a_foreign_redirect_uri_gets_an_error_page_and_never_a_redirect(
    server: StrongroomServer, context: BrowserContext, page: Page, foreign: str
) -> None:
    reached: list[str] = []

    def note(request: Request) -> None:
        if "attacker.example" in request.url.split("?")[0]:
            reached.append(request.url)

    context.on("request", note)
    pkce = Pkce.new()
    url = authorize_url(server, redirect_uri=foreign, pkce=pkce, state="s", scope=vault_scope(server))
    response = page.goto(url)
    assert response is not None
    assert response.status == 400, f"{response.status}: {page_text(page)}"
    assert "text/html" in response.headers.get("content-type", ""), response.headers
    assert page.url.startswith(server.authority_host), page.url
    assert not page.locator("#password").count(), "a sign-in form for a client that would send the code elsewhere"
    page.wait_for_timeout(300)
    assert reached == [], f"the browser went to the foreign redirect URI: {reached}"


def test_a_sign_in_posted_from_another_site_is_refused(
    server: StrongroomServer, context: BrowserContext, page: Page, make_user: Callable[..., User]
) -> None:
    """CSRF: a page elsewhere that posts a person's credentials (or a login of the attacker's) to the authorization
    endpoint gets no session and no code, even though the browser has visited the sign-in page before."""
    user = make_user("csrf")
    flow = start_flow(server, context)
    page.goto(flow.url)
    page.locator("#password").wait_for(state="visible")
    attacker = "https://attacker.invalid/"
    fields = {"username": user.upn, "password": user.password, "step": "signin", "csrf": "x" * 43}
    inputs = "".join(f"<input type='hidden' name='{k}' value='{html.escape(v)}'>" for k, v in fields.items())
    form = f"<form method='post' action='{html.escape(flow.url)}'>{inputs}<button id='go'>Go</button></form>"
    context.route(attacker, lambda route: route.fulfill(
        status=200, content_type="text/html", body=f"<!doctype html><html lang='en'><title>x</title>{form}</html>"
    ))  # fmt: skip
    page.goto(attacker)
    with page.expect_navigation():
        page.locator("#go").click()
    assert page.url.startswith(server.authority_host), page.url
    text = page_text(page)
    assert "Sign-in failed" in text and "AADSTS" in text, text
    page.wait_for_timeout(300)
    assert flow.receiver.caught == [], "a cross-site post got a code"
    assert not [c for c in context.cookies() if "session" in c["name"]], context.cookies()


def test_a_wrong_password_shows_an_error_and_gives_no_code(
    server: StrongroomServer, page: Page, make_user: Callable[..., User]
) -> None:
    user = make_user("judy")
    flow = start_flow(server, page.context)
    page.goto(flow.url)
    submit_sign_in(page, user, password=user.password + "x")
    message = sign_in_error(page)
    assert message, "an empty error"
    assert user.password not in page.content()
    assert page.locator("#password").is_visible() and page.locator("#password").input_value() == ""
    page.wait_for_timeout(300)
    assert flow.receiver.caught == []
    # The right password still works after one mistake.
    submit_sign_in(page, user)
    caught = flow.receiver.wait(page)
    assert flow.redeem(server, caught.params["code"]).status_code == 200


def test_repeated_wrong_passwords_lock_the_account_for_a_while(
    server: StrongroomServer, page: Page, make_user: Callable[..., User], admin_credential: dict[str, str]
) -> None:
    user, bystander = make_user("mallory-target"), make_user("bystander")
    flow = start_flow(server, page.context)
    page.goto(flow.url)
    for attempt in range(LOCKOUT_THRESHOLD):
        submit_sign_in(page, user, password=f"Wrong-{attempt}-Password")
        sign_in_error(page)
    wrong_message = sign_in_error(page)

    submit_sign_in(page, user)
    page.wait_for_load_state()
    locked_message = sign_in_error(page)
    assert locked_message, "no error for a locked account"
    page.wait_for_timeout(300)
    assert flow.receiver.caught == [], "a locked account got a code with the right password"

    # The lockout is the user's, not the browser's or the client's: another user signs in from the same page.
    other_flow = start_flow(server, page.context)
    page.goto(other_flow.url)
    submit_sign_in(page, bystander)
    assert other_flow.redeem(server, other_flow.receiver.wait(page).params["code"]).status_code == 200

    # And it ends: an hour later (the dev clock) the right password works again.
    admin_token = server.token(
        admin_credential["clientId"], admin_credential["clientSecret"], "https://management.azure.com/.default"
    )
    server.advance_clock(admin_token, 3600)
    later = start_flow(server, page.context)
    page.context.clear_cookies()
    page.goto(later.url)
    submit_sign_in(page, user)
    caught = later.receiver.wait(page)
    assert later.redeem(server, caught.params["code"]).status_code == 200, (wrong_message, locked_message)
