"""The real `az` (`$STRONGROOM_AZ`, the pinned azure-cli) as a person runs it, for the interactive sign-ins.

As in tests/az/conftest.py, each `Az` has its own `AZURE_CONFIG_DIR` and `HOME` and the environment
`strongroom env --proxy` prints, so the CLI talks to Azure's own names and Strongroom answers them. `start()` runs
a command in the background (a login waits for the browser) and collects its output as it comes, so the test can
read the device code or the URL az opened while az keeps waiting.

The browser flow: az (msal) opens the sign-in URL with Python's `webbrowser`, which on Linux always registers
`$BROWSER` and runs it with the URL (waiting for it to exit); `az` decides it can launch a browser when
`webbrowser.get()` succeeds (azure.cli.core.util.can_launch_browser). `BROWSER` here is a small script that
appends the URL to a file and exits 0.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strongroom_server import StrongroomServer, parse_env_exports

AZ_TIMEOUT_S = 180


@dataclass
class AzResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, f"`az {' '.join(self.argv)}` exited {self.returncode}: {self.stderr}"
        return json.loads(self.stdout)


class AzProcess:
    """One `az` command running in the background, its stdout and stderr read as they come."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        self._stdout: list[bytes] = []
        self._stderr: list[bytes] = []
        self._readers = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self._stdout), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self._stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _drain(stream: Any, into: list[bytes]) -> None:
        for line in stream:
            into.append(line)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    def wait_for_stderr(self, pattern: str, timeout_s: float = 90) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = re.search(pattern, self.stderr)
            if found:
                return found
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the readers finish
                found = re.search(pattern, self.stderr)
                if found:
                    return found
                raise AssertionError(f"az exited {self.proc.returncode} before printing /{pattern}/: {self.stderr}")
            time.sleep(0.1)
        raise AssertionError(f"az printed no /{pattern}/ within {timeout_s} s: {self.stderr}")

    def finish(self, timeout_s: float = AZ_TIMEOUT_S) -> AzResult:
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            for reader in self._readers:
                reader.join(timeout=5)
            raise AssertionError(f"`az {' '.join(self.argv[1:])}` did not finish within {timeout_s} s: {self.stderr}")
        for reader in self._readers:
            reader.join(timeout=10)
        return AzResult(
            self.argv[1:], self.proc.returncode, b"".join(self._stdout).decode("utf-8", "replace"), self.stderr
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Az:
    """One person's `az`: a config directory of its own, transparent mode, and (optionally) a recording BROWSER."""

    def __init__(self, binary: str, server: StrongroomServer, home: Path):
        self.binary = binary
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        exported = parse_env_exports(server.cli("env", "--proxy").stdout)
        self.env = {
            **exported,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "AZURE_CONFIG_DIR": str(home / ".azure"),
            "AZURE_CORE_COLLECT_TELEMETRY": "no",
        }
        self.running: list[AzProcess] = []

    def recording_browser(self) -> Path:
        """Set `BROWSER` to a script that appends each URL it is given to a file; returns that file."""
        urls = self.home / "browser-urls.txt"
        script = self.home / "record-browser.sh"
        script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{urls}"\nexit 0\n')
        script.chmod(0o755)
        self.env["BROWSER"] = str(script)
        return urls

    def start(self, *args: str) -> AzProcess:
        process = AzProcess([self.binary, *args, "--output", "json"], self.env)
        self.running.append(process)
        return process

    def run(self, *args: str) -> AzResult:
        return self.start(*args).finish()

    def json(self, *args: str) -> Any:
        return self.run(*args).json()

    def stop_all(self) -> None:
        for process in self.running:
            process.kill()


def wait_for_line(path: Path, process: AzProcess, timeout_s: float = 90) -> str:
    """The first line written to `path` (the URL az opened), or az's failure if it ends first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().splitlines()[0].strip()
        if process.proc.poll() is not None:
            raise AssertionError(f"az exited {process.proc.returncode} without opening a browser: {process.stderr}")
        time.sleep(0.1)
    raise AssertionError(f"az opened no browser within {timeout_s} s: {process.stderr}")
