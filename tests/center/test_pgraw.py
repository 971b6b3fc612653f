"""``center.engine.pgraw``: the hot statements through libpq, in the same transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from center.db.connect import make_engine, upgrade
from center.engine import pgraw
from center.engine.store import Store


@pytest.mark.postgres
def test_a_raw_first_statement_belongs_to_the_transaction_and_rolls_back_with_it(
    pg_url: str,
) -> None:
    engine = make_engine(pg_url, pool_size=2)
    upgrade(engine)
    store = Store(engine)
    try:
        with store.write() as tx:
            pgraw.execute(
                tx, "INSERT INTO windows (number, status) VALUES (:n, 'closed')", {"n": 7}
            )
            row = pgraw.fetch_one(tx, "SELECT * FROM windows WHERE number = :n", {"n": 7})
            assert row is not None and row.number == 7 and row.status == "closed"
        with pytest.raises(RuntimeError), store.write() as tx:
            pgraw.execute(tx, "UPDATE windows SET status = 'open' WHERE number = :n", {"n": 7})
            raise RuntimeError("the action fails after its first statement")
        with store.read() as conn:
            assert conn.execute(text("SELECT status FROM windows WHERE number = 7")).scalar() == (
                "closed"
            )
            assert conn.execute(text("SHOW TimeZone")).scalar() == "UTC"
        with store.write() as tx:
            stamp = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
            pgraw.execute(
                tx,
                "UPDATE windows SET status_since = :at WHERE number = :n",
                {"at": stamp, "n": 7},
            )
            row = pgraw.fetch_one(tx, "SELECT status_since FROM windows WHERE number = 7", {})
        assert row is not None and row.status_since == stamp
        assert row.status_since.utcoffset() == dt.timedelta(0)  # read back in UTC
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_deferred_write_goes_before_whatever_the_transaction_runs_next(pg_url: str) -> None:
    """GIVEN a write deferred to the next statement WHEN the next statement is a raw one, a
    SQLAlchemy one, or the commit THEN each sees (or commits) it; a failing transaction
    discards it."""
    engine = make_engine(pg_url, pool_size=2)
    upgrade(engine)
    store = Store(engine)
    insert = "INSERT INTO windows (number, status) VALUES (:n, 'closed')"
    try:
        with store.write() as tx:
            pgraw.defer(tx, insert, {"n": 1})
            assert tx.deferred  # not sent yet
            seen = pgraw.fetch_one(tx, "SELECT count(*) AS n FROM windows", {})
            assert seen is not None and seen.n == 1 and not tx.deferred
            pgraw.defer(tx, insert, {"n": 2})
            assert tx.conn.execute(text("SELECT count(*) FROM windows")).scalar() == 2
            pgraw.defer(tx, insert, {"n": 3})  # nothing runs after it: goes with the commit
            tx.emit("test.a", at=dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC),
                    hall_day=dt.date(2026, 11, 23), actor="test")  # fmt: skip
        with pytest.raises(RuntimeError), store.write() as tx:
            pgraw.defer(tx, insert, {"n": 4})
            raise RuntimeError("the action fails")
        with store.write() as tx:
            pgraw.defer(tx, insert, {"n": 5})  # no events: the commit still takes it
        with store.read() as conn:
            numbers = conn.execute(text("SELECT number FROM windows ORDER BY number")).scalars()
            assert list(numbers) == [1, 2, 3, 5]
    finally:
        engine.dispose()
