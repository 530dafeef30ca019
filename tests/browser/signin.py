"""What a person does on Strongroom's sign-in pages, as Playwright actions (ids from the pages' contract):

- sign-in form: `#username`, `#password`, submit `#signin`; an error in `#error` (`role="alert"`);
- account picker (a session cookie and `prompt=select_account`): `#continue` ("Continue as ..."), `#other-account`;
- device code: `#user_code` + `#next`, then the sign-in form when not signed in, then `#approve` / `#deny`, then
  `#done` ("you may close this window").

`on_step(page, name)`, where given, is called on each page as it appears (screenshots, the accessibility check).
"""

from __future__ import annotations

from typing import Callable, Optional

from playwright.sync_api import Page

from conftest import User

Step = Optional[Callable[[Page, str], object]]


def _step(on_step: Step, page: Page, name: str) -> None:
    if on_step is not None:
        on_step(page, name)


def submit_sign_in(page: Page, user: User, password: str | None = None) -> None:
    """On the sign-in form: type the UPN (unless the page shows it fixed) and the password, press Sign in."""
    page.locator("#password").wait_for(state="visible")
    username = page.locator("#username")
    if username.is_editable():
        username.fill(user.upn)
    page.locator("#password").fill(user.password if password is None else password)
    page.locator("#signin").click()


def sign_in_error(page: Page) -> str:
    """The text of the page's `role="alert"` error once it shows."""
    alert = page.locator("#error[role='alert'], [role='alert']#error")
    alert.wait_for(state="visible")
    return alert.inner_text().strip()


def complete_sign_in(page: Page, user: User, on_step: Step = None, prefix: str = "sign-in") -> str:
    """Whichever the page shows: the sign-in form (filled in) or the account picker (`#continue`). Returns which."""
    page.locator("#password, #continue").first.wait_for(state="visible")
    if page.locator("#continue").is_visible():
        _step(on_step, page, f"{prefix}-account-picker")
        page.locator("#continue").click()
        return "picker"
    _step(on_step, page, f"{prefix}-form")
    submit_sign_in(page, user)
    return "form"


def approve_device_code(
    page: Page, verification_uri: str, user_code: str, user: User, on_step: Step = None, approve: bool = True
) -> str:
    """Open the verification page, enter the code, sign in when asked, approve (or deny); returns the last page's
    text."""
    page.goto(verification_uri)
    page.locator("#user_code").wait_for(state="visible")
    _step(on_step, page, "device-code-entry")
    page.locator("#user_code").fill(user_code)
    page.locator("#next").click()
    page.locator("#approve, #password").first.wait_for(state="visible")
    if page.locator("#password").is_visible():
        _step(on_step, page, "device-code-sign-in")
        submit_sign_in(page, user)
        page.locator("#approve").wait_for(state="visible")
    _step(on_step, page, "device-code-confirm")
    page.locator("#approve" if approve else "#deny").click()
    page.locator("#done").wait_for(state="visible")
    _step(on_step, page, "device-code-done" if approve else "device-code-denied")
    return page.locator("#done").inner_text()
