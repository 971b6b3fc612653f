"""Migrations build exactly the tables the code declares (autogenerate finds no difference)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import center.db.auth_tables  # noqa: F401  (its tables join the metadata)
from center.db.connect import alembic_config, make_engine, upgrade
from center.db.tables import metadata

SERVICE_TABLES = {"devices", "staff_sessions", "pin_attempts", "idempotency_keys", "number_leases"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'schema.db'}"
    make: Callable[[], str] = request.getfixturevalue("make_pg_url")
    return make()


def test_the_migrated_schema_equals_the_metadata(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        assert set(inspect(engine).get_table_names()) >= SERVICE_TABLES
    finally:
        engine.dispose()


def test_migration_0002_downgrades_cleanly(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        names = set(inspect(engine).get_table_names())
        assert not SERVICE_TABLES & names and "tickets" in names
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= SERVICE_TABLES
    finally:
        engine.dispose()
