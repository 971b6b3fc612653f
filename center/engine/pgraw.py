"""The hot PostgreSQL statements, sent through libpq directly (``center.db.pgpipe``).

SQLAlchemy's execution layer costs about 64 µs of CPU per statement on the 2-core test
machine, psycopg's cursors and pipelines about 35 µs; on the paths every call and ticket
takes (lock the window, read the lane heads, write the call or the finish, issue) that was a
fifth of a request's CPU. The statements run on the transaction's own connection, so they
are part of the same transaction as everything else; only the execution layers are skipped.

The first statement of a transaction goes out in one pipeline together with the BEGIN that
psycopg would have sent before it: one round trip, not two. Writes whose results nothing
reads (``defer``) wait and go out with the transaction's next statement.

Rows come back as named tuples: attribute access like SQLAlchemy's rows. Timestamps are
aware; the engine's PostgreSQL sessions run in UTC (``center.db.connect``), so they are the
same UTC datetimes SQLAlchemy's ``UTCDateTime`` would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from center.engine.store import Tx

COMMIT = (b"COMMIT", None)


def _raw(tx: Tx) -> Any:
    return tx.conn.connection.driver_connection  # a psycopg Connection


def _send(tx: Tx, batch: list[tuple[bytes, Sequence[Any] | None]]) -> list[Any]:
    """``tx``'s deferred writes, then ``batch``, in one round trip; the results of ``batch``."""
    from psycopg import pq  # PostgreSQL only: psycopg is the postgres extra's

    from center.db import pgpipe

    raw = _raw(tx)
    deferred, tx.deferred = tx.deferred, []
    begin = raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
    results = pgpipe.round_trip(raw, deferred + batch, begin=begin)
    return results[len(deferred) :]


def _rows(tx: Tx, sql: str, params: Mapping[str, Any]) -> list[Any]:
    from center.db import pgpipe

    (result,) = _send(tx, [pgpipe.statement(sql, params)])
    return pgpipe.rows(_raw(tx), result)


def fetch_pair(
    tx: Tx, first: tuple[str, Mapping[str, Any]], second: tuple[str, Mapping[str, Any]]
) -> tuple[list[Any], list[Any]]:
    """The rows of two statements run in ``tx`` one after the other, in one round trip."""
    from center.db import pgpipe

    one, two = _send(tx, [pgpipe.statement(*first), pgpipe.statement(*second)])
    raw = _raw(tx)
    return pgpipe.rows(raw, one), pgpipe.rows(raw, two)


def defer(tx: Tx, sql: str, params: Mapping[str, Any]) -> None:
    """Run ``sql`` in ``tx`` for its effect, with the transaction's next statement.

    A write whose result nothing reads need not cost a round trip of its own: it is sent in
    one pipeline with whatever ``tx`` runs next, in order — the next statement here, one
    through SQLAlchemy (``flush_deferred`` runs first), or the events and the COMMIT. An
    error in it fails the transaction then, which rolls back as a whole."""
    from center.db import pgpipe

    tx.deferred.append(pgpipe.statement(sql, params))


def flush_deferred(tx: Tx) -> None:
    """Send ``tx``'s deferred writes now (before a statement that must see them)."""
    if tx.deferred:
        _send(tx, [])


def send_with_commit(tx: Tx, query: bytes, params: Sequence[Any]) -> list[Any]:
    """The deferred writes, then ``query`` (``$n`` placeholders), then COMMIT, in one round
    trip; the rows ``query`` returned."""
    from center.db import pgpipe

    result, _ = _send(tx, [(query, params), COMMIT])
    return pgpipe.rows(_raw(tx), result)


def fetch_one(tx: Tx, sql: str, params: Mapping[str, Any]) -> Any | None:
    """The first row of ``sql`` (SQLAlchemy ``:name`` style) run in ``tx``, or None."""
    found = _rows(tx, sql, params)
    return found[0] if found else None


def execute(tx: Tx, sql: str, params: Mapping[str, Any]) -> None:
    """Run ``sql`` in ``tx`` for its effect."""
    _rows(tx, sql, params)
