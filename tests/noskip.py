"""No quiet skips where everything is installed: a skipped test must not look like a pass.

Under ``make test`` (``HALLQ_NO_SKIPS=1``) or on CI, the run fails if any test or test module
was skipped, except tests marked ``hardware`` (they need real devices and say so). A
missing Xvfb, font, browser or PySide6 then shows as a failure naming what is missing,
instead of a green run that tested less.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def strict() -> bool:
    """Are skips forbidden in this run?"""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("HALLQ_NO_SKIPS") == "1"


def disallowed(reports: list[Any]) -> list[Any]:
    """The skip reports that do not belong to hardware tests."""
    return [r for r in reports if "hardware" not in getattr(r, "keywords", {})]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not strict():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    bad = disallowed(reporter.stats.get("skipped", []))
    for report in bad:
        reporter.write_line(
            f"skipped where nothing may be: {report.nodeid}: {report.longrepr}", red=True
        )
    if bad and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
