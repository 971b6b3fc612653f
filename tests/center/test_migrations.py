"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import center.db.connect as connect
from center.db.tables import metadata


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_migrations_match_the_tables(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'm.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = connect.make_engine(url)
    try:
        connect.upgrade(engine)
        connect.upgrade(engine)  # idempotent
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        names = set(inspect(engine).get_table_names())
        assert {"tickets", "events", "cases", "evaluations", "persons"} <= names
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("tickets")}
        assert {"ix_tickets_waiting_lane", "ix_tickets_waiting_direct"} <= indexes
    finally:
        engine.dispose()
