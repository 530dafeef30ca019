"""`serve --throttle azure` through the official Python SDK (issue 9).

Past Azure's per-vault limit (here the 300 secret creations per 10 seconds), the server answers Azure's 429
`Throttled` body with a `Retry-After`. A `SecretClient` with its default retry policy gets through: it waits the
`Retry-After` the server sent and its one retry succeeds (the policy's own exponential back-off would have
retried after 0.8 s and been refused again). This module runs its own server, with the flag.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pytest
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

from strongroom_server import StrongroomServer, running_server

SECRET_CREATES_PER_WINDOW = 300
WINDOW_S = 10


@pytest.fixture(scope="module")
def throttled_server(
    resolve_localhost_names, strongroom_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StrongroomServer]:
    root = tmp_path_factory.mktemp("server-throttle")
    with running_server(strongroom_bin, root, ("--dev-clock", "--throttle", "azure")) as srv:
        yield srv


class Answers:
    """A `raw_response_hook`: every response the client received (retries included), as (status, Retry-After)."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str | None]] = []

    def __call__(self, response: Any) -> None:
        http_response = response.http_response
        self.seen.append((http_response.status_code, http_response.headers.get("Retry-After")))


def test_secret_client_waits_retry_after_and_gets_through(throttled_server: StrongroomServer) -> None:
    vault = throttled_server.create_vault("throttled")["name"]
    with throttled_server.activated_env(vault) as env:
        client = SecretClient(env["AZURE_KEYVAULT_URL"], DefaultAzureCredential())
        # Token and challenge first, outside the window below.
        list(client.list_properties_of_secrets())

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda i: client.set_secret(f"fill-{i}", "v"), range(SECRET_CREATES_PER_WINDOW)))
        filled_s = time.monotonic() - started
        assert filled_s < WINDOW_S - 1, f"{SECRET_CREATES_PER_WINDOW} creations took {filled_s:.1f} s: too slow"

        answers = Answers()
        started = time.monotonic()
        secret = client.set_secret("one-too-many", "made it", raw_response_hook=answers)
        waited_s = time.monotonic() - started

    assert secret.value == "made it"
    assert len(answers.seen) == 2, f"one 429, then the retry's answer: {answers.seen}"
    (status, retry_after), (final_status, _) = answers.seen
    assert status == 429 and final_status == 200, answers.seen
    assert retry_after is not None and 1 <= int(retry_after) <= WINDOW_S, answers.seen
    # The policy slept the server's Retry-After (whole seconds, rounded up from the window's end).
    assert waited_s >= int(retry_after) - 1, f"retried after {waited_s:.1f} s, Retry-After was {retry_after}"
