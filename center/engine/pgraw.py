"""The hot PostgreSQL statements, sent through psycopg directly.

SQLAlchemy's execution layer costs about 64 µs of CPU per statement on the 2-core test
machine, psycopg alone about 35 µs; on the paths every call and ticket takes (lock the
window, read the lane heads, write the call or the finish, issue) that difference is a
tenth of a request's CPU. The statements run on the transaction's own connection, so they
are part of the same transaction as everything else; only the execution layer is skipped.

The first statement of a transaction goes out in a psycopg pipeline together with the
BEGIN that psycopg sends before it: one round trip, not two.

Rows come back as named tuples: attribute access like SQLAlchemy's rows. Timestamps are
aware; the engine's PostgreSQL sessions run in UTC (``center.db.connect``), so they are the
same UTC datetimes SQLAlchemy's ``UTCDateTime`` would give.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from center.engine.store import Tx

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@functools.cache
def psycopg_sql(sql: str) -> str:
    """``sql`` with SQLAlchemy's ``:name`` parameters as psycopg's ``%(name)s``.

    ``::type`` casts are left alone; a literal ``%`` is doubled."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


def _run(tx: Tx, sql: str, params: Mapping[str, Any]) -> Any:
    from psycopg import pq  # PostgreSQL only: psycopg is the postgres extra's
    from psycopg.rows import namedtuple_row

    raw: Any = tx.conn.connection.driver_connection  # a psycopg Connection
    cursor = raw.cursor(row_factory=namedtuple_row)
    if tx.deferred or raw.info.transaction_status == pq.TransactionStatus.IDLE:
        with raw.pipeline():  # the BEGIN and the deferred writes go with the statement
            _send_deferred(tx, raw)
            cursor.execute(psycopg_sql(sql), params)
    else:
        cursor.execute(psycopg_sql(sql), params)
    return cursor


def _send_deferred(tx: Tx, raw: Any) -> None:
    deferred, tx.deferred = tx.deferred, []
    for query, params in deferred:
        raw.execute(query, params)


def defer(tx: Tx, sql: str, params: Mapping[str, Any]) -> None:
    """Run ``sql`` in ``tx`` for its effect, with the transaction's next statement.

    A write whose result nothing reads need not cost a round trip of its own: it is sent in
    one pipeline with whatever ``tx`` runs next, in order — the next statement here, one
    through SQLAlchemy (``flush_deferred`` runs first), or the events and the COMMIT. An
    error in it fails the transaction then, which rolls back as a whole."""
    tx.deferred.append((psycopg_sql(sql), params))


def flush_deferred(tx: Tx) -> None:
    """Send ``tx``'s deferred writes now (before a statement that must see them)."""
    if tx.deferred:
        raw: Any = tx.conn.connection.driver_connection
        with raw.pipeline():
            _send_deferred(tx, raw)


def send_with_commit(tx: Tx, sql: str, params: Sequence[Any]) -> list[Any]:
    """The deferred writes, then ``sql`` (psycopg placeholders), then COMMIT, in one round
    trip; the rows ``sql`` returned."""
    raw: Any = tx.conn.connection.driver_connection
    with raw.pipeline():
        _send_deferred(tx, raw)
        cursor = raw.execute(sql, params)
        raw.execute("COMMIT")
    return list(cursor.fetchall())


def fetch_all(tx: Tx, sql: str, params: Mapping[str, Any]) -> list[Any]:
    """Every row of ``sql`` (SQLAlchemy ``:name`` style) run in ``tx``."""
    with _run(tx, sql, params) as cursor:
        return list(cursor.fetchall())


def fetch_one(tx: Tx, sql: str, params: Mapping[str, Any]) -> Any | None:
    """The first row of ``sql`` run in ``tx``, or None."""
    with _run(tx, sql, params) as cursor:
        return cursor.fetchone()


def execute(tx: Tx, sql: str, params: Mapping[str, Any]) -> None:
    """Run ``sql`` in ``tx`` for its effect."""
    _run(tx, sql, params).close()
