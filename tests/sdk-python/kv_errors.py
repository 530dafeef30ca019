"""Assertions on the errors Key Vault clients raise, written once so every test checks the same fields.

Azure's error envelope is `{"error":{"code","message","innererror":{"code"}}}` (AZURE-ERRORS.md part B); azure-core
parses it into `HttpResponseError.error` (an `ODataV4Format` with `code`, `message`, `innererror`).
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError


def error_fields(err: HttpResponseError) -> tuple[int | None, str | None, str | None, Any]:
    body = err.error
    if body is None:
        return err.status_code, None, None, None
    return err.status_code, body.code, body.message, dict(body.innererror or {})


def assert_http_error(
    err: HttpResponseError,
    status: int,
    code: str | None = None,
    inner: str | None = None,
    message_contains: str | None = None,
) -> None:
    got_status, got_code, got_message, got_inner = error_fields(err)
    where = f"\nfull error: {err}"
    assert got_status == status, f"status {got_status}, want {status}{where}"
    if code is not None:
        assert got_code == code, f"error.code {got_code!r}, want {code!r}{where}"
    if inner is not None:
        assert got_inner == {"code": inner}, f"innererror {got_inner!r}, want {{'code': {inner!r}}}{where}"
    if message_contains is not None:
        assert got_message and message_contains in got_message, (
            f"error.message {got_message!r} does not contain {message_contains!r}{where}"
        )


def assert_access_denied(err: HttpResponseError, permission: str) -> None:
    """403 for a missing access-policy permission (AZURE-ERRORS.md section 3.1)."""
    assert_http_error(
        err,
        403,
        code="Forbidden",
        inner="AccessDenied",
        message_contains=f"does not have secrets {permission} permission",
    )
