"""The session PostgreSQL server and the per-test databases behave as promised."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy
from sqlalchemy import text

try:
    from .pg import PostgresError, TempPostgres
except ImportError:
    from pg import PostgresError, TempPostgres

pytestmark = pytest.mark.postgres


def _scalar(url: str, query: str) -> object:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query)).scalar_one()
    finally:
        engine.dispose()


def test_server_answers(pg_url: str) -> None:
    version = _scalar(pg_url, "select version()")
    assert isinstance(version, str)
    assert "PostgreSQL" in version


def test_two_urls_are_two_databases(pg_url: str, make_pg_url: Callable[[], str]) -> None:
    other = make_pg_url()
    assert other != pg_url
    assert _scalar(pg_url, "select current_database()") != _scalar(
        other, "select current_database()"
    )
    engine = sqlalchemy.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("create table only_here (x int)"))
    finally:
        engine.dispose()
    assert _scalar(other, "select count(*) from pg_tables where tablename = 'only_here'") == 0


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_empty(pg_url: str, run: int) -> None:
    """Both runs create the same table: a database shared between tests would fail one."""
    engine = sqlalchemy.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("create table marker (run int)"))
            conn.execute(text("insert into marker values (:run)"), {"run": run})
            assert conn.execute(text("select array_agg(run) from marker")).scalar_one() == [run]
    finally:
        engine.dispose()


def test_left_open_connection_does_not_block_drop(postgres: TempPostgres) -> None:
    url = postgres.create_database("hallq_left_open")
    engine = sqlalchemy.create_engine(url)
    conn = engine.connect()
    try:
        conn.execute(text("select 1"))
        postgres.drop_database("hallq_left_open")
        assert (
            _scalar(
                postgres.url(), "select count(*) from pg_database where datname = 'hallq_left_open'"
            )
            == 0
        )
    finally:
        conn.invalidate()
        engine.dispose()


def test_server_directory_is_removed_on_exit() -> None:
    with TempPostgres() as server:
        assert server.dir is not None
        directory = server.dir
        assert (directory / "data" / "postmaster.pid").exists()
    assert not directory.exists()


def test_failed_start_reports_log_and_cleans_up() -> None:
    server = TempPostgres(settings={"max_connections": "not-a-number"})
    with pytest.raises(PostgresError, match="max_connections"):
        server.start()
    assert server.dir is None
    assert not server.started
