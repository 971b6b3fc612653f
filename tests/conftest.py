"""Shared fixtures: a session PostgreSQL server, a fresh database per test, --hardware."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest

try:  # tests/ is a package; the fallback keeps working if tests/__init__.py goes
    from .pg import PostgresNotFound, TempPostgres
except ImportError:
    from pg import PostgresNotFound, TempPostgres

pytest_plugins = ["tests.noskip"]

# Qt aborts without a display unless told otherwise; Xvfb-based tests set their own.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hardware",
        action="store_true",
        default=False,
        help="also run tests marked 'hardware' (they need real devices attached)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_hardware = pytest.mark.skip(reason="needs real hardware: run pytest --hardware")
    run_hardware = config.getoption("--hardware")
    for item in items:
        # A test that reaches the server is a postgres test, whether or not it says so,
        # so `-m "not postgres"` always deselects every one of them.
        if "postgres" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "postgres"
        ):
            item.add_marker(pytest.mark.postgres)
        if not run_hardware and item.get_closest_marker("hardware"):
            item.add_marker(skip_hardware)


def _postgres_required() -> bool:
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("HALLQ_REQUIRE_PG") == "1"


@pytest.fixture(scope="session")
def postgres() -> Iterator[TempPostgres]:
    """The session's PostgreSQL server (unix socket only), started on first use."""
    try:
        server = TempPostgres()
    except PostgresNotFound as exc:
        missing = str(exc)  # fail or skip outside the except: no chained traceback
    else:
        missing = ""
    if missing and _postgres_required():
        pytest.fail(f"{missing} (required here: CI or HALLQ_REQUIRE_PG=1 is set)", pytrace=False)
    if missing:
        pytest.skip(missing)
    with server:
        yield server


_database_numbers = itertools.count(1)


@pytest.fixture
def make_pg_url(postgres: TempPostgres) -> Iterator[Callable[[], str]]:
    """Factory: each call creates a fresh, empty database and returns its URL.

    The databases are dropped when the test ends (open connections are closed by force).
    """
    created: list[str] = []

    def make() -> str:
        name = f"hallq_test_{next(_database_numbers)}"
        url = postgres.create_database(name)
        created.append(name)
        return url

    yield make
    for name in created:
        postgres.drop_database(name)


@pytest.fixture
def pg_url(make_pg_url: Callable[[], str]) -> str:
    """URL of a fresh, empty database for this test only."""
    return make_pg_url()
