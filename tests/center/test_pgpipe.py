"""``center.db.pgpipe``: statements through libpq's pipeline, prepared once per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors

from center.db import pgpipe
from center.db.connect import make_engine
from center.db.green_psycopg import GreenConnection
from tests.live.conftest import open_store


def test_named_parameters_become_numbered_ones_and_casts_stay() -> None:
    sql = "SELECT :a::text, CAST(:b AS int), x::date, '50%' FROM t WHERE y = :y_1 OR z = :a"
    assert pgpipe.numbered(sql) == (
        b"SELECT $1::text, CAST($2 AS int), x::date, '50%' FROM t WHERE y = $3 OR z = $1",
        ("a", "b", "y_1"),
    )


@pytest.fixture
def raw(pg_url: str) -> Iterator[Any]:
    """A pooled connection of the engine (a GreenConnection), in a table's database."""
    store = open_store(pg_url)
    engine = store.engine
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, GreenConnection)
        raw.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        raw.commit()
        yield raw
        raw.rollback()
    engine.dispose()


def _ours(raw: Any) -> list[str]:
    names = raw.execute("SELECT name FROM pg_prepared_statements ORDER BY name").fetchall()
    raw.commit()
    return [n for (n,) in names if n.startswith("hq_")]


def _insert(raw: Any, i: int, v: str | None = "x") -> list[Any]:
    return pgpipe.round_trip(
        raw, [pgpipe.statement("INSERT INTO t VALUES (:i, :v)", {"i": i, "v": v})]
    )


@pytest.mark.postgres
def test_a_statement_is_prepared_once_per_session_and_types(raw: Any) -> None:
    query = pgpipe.statement("SELECT v FROM t WHERE id = :i", {"i": 1})
    for _ in range(3):
        (result,) = pgpipe.round_trip(raw, [query], begin=True)
        raw.commit()
        assert pgpipe.rows(raw, result) == []
    assert len(_ours(raw)) == 1
    _insert(raw, 1)
    _insert(raw, 2, None)  # NULL goes as untyped, like text: the same statement
    _insert(raw, 100_000)  # an int4, not an int2 (psycopg's choice): a second statement
    raw.commit()
    (result,) = pgpipe.round_trip(raw, [query], begin=True)
    raw.commit()
    assert [r.v for r in pgpipe.rows(raw, result)] == ["x"]
    assert len(_ours(raw)) == 3


@pytest.mark.postgres
def test_psycopg_dropping_every_prepared_statement_does_not_break_ours(raw: Any) -> None:
    """GIVEN a statement of ours prepared, and psycopg with prepared statements of its own
    WHEN a rollback makes psycopg send DEALLOCATE ALL THEN ours is prepared again when next
    used, not executed by a name the server has forgotten."""
    _insert(raw, 1)
    raw.commit()
    for _ in range(6):  # psycopg prepares a statement from its fifth execution on
        raw.execute("SELECT v FROM t WHERE id = %s", (1,)).fetchall()
    raw.rollback()
    raw.execute("SELECT 1")
    raw.rollback()  # psycopg: ROLLBACK, then DEALLOCATE ALL
    assert _ours(raw) == []
    _insert(raw, 2)
    raw.commit()
    assert len(_ours(raw)) == 1


@pytest.mark.postgres
def test_a_failing_statement_raises_psycopg_s_error_and_the_rest_does_not_run(raw: Any) -> None:
    _insert(raw, 1)
    raw.commit()
    with pytest.raises(errors.UniqueViolation):
        pgpipe.round_trip(
            raw,
            [
                pgpipe.statement("INSERT INTO t VALUES (:i, 'dup')", {"i": 1}),
                pgpipe.statement("INSERT INTO t VALUES (:i, 'after')", {"i": 2}),
            ],
            begin=True,
        )
    raw.rollback()
    with pytest.raises(errors.SyntaxError):
        pgpipe.round_trip(raw, [pgpipe.statement("SELEKT :i", {"i": 1})], begin=True)
    raw.rollback()
    rows = raw.execute("SELECT id, v FROM t ORDER BY id").fetchall()
    raw.commit()
    assert rows == [(1, "x")]
    assert all(b"SELEKT" not in q for q, _ in raw.hallq_prepared)  # not remembered as prepared


@pytest.mark.postgres
def test_on_a_plain_psycopg_connection_nothing_stays_prepared(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    engine.dispose()
    with psycopg.connect(url) as raw:
        raw.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        raw.commit()
        for i in range(3):
            _insert(raw, i)
        raw.commit()
        assert raw.execute("SELECT count(*) FROM t").fetchone() == (3,)
        assert _ours(raw) == []
