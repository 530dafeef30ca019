"""A pytest plugin both Python suites load (`pytest_plugins = ["no_skips"]` in their conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

# No test may be skipped or expected to fail: a skip or an xfail (which xfail_strict in pytest.ini does not cover:
# it turns only an unexpected pass into a failure) makes the run fail, with the list at the end of the summary.

_NOT_RUN: list[str] = []


def _note_not_run(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped:
        kind = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        reason = getattr(report, "wasxfail", "") or (
            report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        )
        _NOT_RUN.append(f"{kind}: {report.nodeid}: {reason}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note_not_run(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note_not_run(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _NOT_RUN and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _NOT_RUN:
        terminalreporter.section("tests that did not run (a failure: nothing may be skipped or xfailed)", red=True)
        for line in _NOT_RUN:
            terminalreporter.line(line, red=True)

