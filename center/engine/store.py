"""Transactions over the case database, and the event log written in commit order.

Every state change is recorded as an event (全过程留痕) in the same transaction as the change.
Events are buffered during the transaction and inserted last. On PostgreSQL a transaction-level
advisory lock is taken just before that insert, so sequence numbers are handed out in commit
order: a subscriber that has seen ``seq = n`` can never later meet a committed event with a
smaller number (the property live streams resume on). SQLite serialises writers already.
After commit, listeners (the live event hub) receive the committed events.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, event, insert, select, text

from center.db.tables import events, windows
from center.engine import pgraw

log = logging.getLogger(__name__)


@functools.cache
def _pg_insert_events(n: int) -> bytes:
    """The PostgreSQL insert of ``n`` events behind the ordering lock (see Tx._commit_pg).

    Numbered placeholders: the statement is sent through libpq directly, in a pipeline with
    the COMMIT. Parameters: the lock key, seven per event, the channel, the origin."""
    rows = ", ".join(
        "(${}::timestamptz, ${}::date, ${}::varchar, ${}::varchar, ${}::bigint, ${}::integer, "
        "${}::json)".format(*range(2 + 7 * i, 9 + 7 * i))
        for i in range(n)
    )
    return (
        "WITH l AS (SELECT pg_advisory_xact_lock($1) AS locked), "
        'i AS (INSERT INTO events (at, hall_day, kind, actor, ticket_id, "window", data) '
        f"SELECT v.* FROM l CROSS JOIN (VALUES {rows}) AS v(at, hall_day, kind, actor, ticket_id, w, data) "
        "RETURNING seq), "
        f"n AS (SELECT pg_notify(${2 + 7 * n}, max(seq)::text || ' ' || ${3 + 7 * n}) AS notified FROM i) "
        "SELECT i.seq FROM i CROSS JOIN n"
    ).encode()


WINDOW_FOR_UPDATE = (
    select(windows).where(windows.c.number == bindparam("w_number")).with_for_update()
)
WINDOW_FOR_UPDATE_PG = "SELECT * FROM windows WHERE number = :w_number FOR UPDATE"
_INSERT_EVENTS = insert(events).returning(events.c.seq, sort_by_parameter_order=True)
EVENT_LOCK_KEY = 0x68616C6C  # "hall": the advisory lock that orders event sequence numbers
NOTIFY_CHANNEL = "hallq_events"  # NOTIFY'd with the newest seq at commit (center.live.pg)


@dataclass(frozen=True, slots=True)
class Event:
    """One committed entry of the event log."""

    seq: int
    at: dt.datetime
    hall_day: dt.date
    kind: str
    actor: str
    ticket_id: int | None
    window: int | None
    data: dict[str, Any]


@dataclass(slots=True)
class _Pending:
    at: dt.datetime
    hall_day: dt.date
    kind: str
    actor: str
    ticket_id: int | None
    window: int | None
    data: dict[str, Any]


@dataclass
class Tx:
    """A writing transaction: its connection and the events it will record."""

    conn: Connection
    postgres: bool
    origin: str = ""
    """The committing store's id, sent with the NOTIFY (see ``Store.origin``)."""
    pending: list[_Pending] = field(default_factory=list)
    committed: list[Event] = field(default_factory=list)
    _guards: dict[int, Callable[[Any], None]] = field(default_factory=dict)
    deferred: list[tuple[bytes, Any]] = field(default_factory=list)
    """PostgreSQL writes waiting to go with the next statement (``pgraw.defer``)."""

    def lock_window(self, number: int) -> Any:
        """Window ``number``'s row, locked for the rest of the transaction (``FOR UPDATE`` on
        PostgreSQL), or None if there is no such row. A guard on it runs first."""
        if self.postgres:  # often a transaction's first statement: see center.engine.pgraw
            row = pgraw.fetch_one(self, WINDOW_FOR_UPDATE_PG, {"w_number": number})
        else:
            row = self.conn.execute(WINDOW_FOR_UPDATE, {"w_number": number}).first()
        return self._guarded(number, row)

    def lock_window_and_read(
        self, number: int, sql: str, params: Mapping[str, Any]
    ) -> tuple[Any, list[Any]]:
        """PostgreSQL: ``lock_window(number)`` and then ``sql``'s rows, in one round trip.

        ``sql`` runs after the lock is taken, as it would as a statement of its own, but the
        action has not seen the row yet: what it reads or writes must not depend on the checks
        the action makes of the row, or must make the same ones itself (an action that
        refuses raises, and its transaction rolls back)."""
        row, rows = pgraw.fetch_pair(
            self, (WINDOW_FOR_UPDATE_PG, {"w_number": number}), (sql, params)
        )
        return self._guarded(number, row[0] if row else None), rows

    def guard_window(self, number: int, check: Callable[[Any], None]) -> None:
        """Run ``check`` on window ``number``'s row (or None) when this transaction locks it,
        before the action sees it; ``check`` raises to refuse the action. Every window action
        locks its window first; if one does not, the row is locked and checked at commit.

        A caller's check before an engine action (the staff member is still on duty there)
        thus costs no round trip of its own."""
        self._guards[number] = check

    def _guarded(self, number: int, row: Any) -> Any:
        check = self._guards.pop(number, None)
        if check is not None:
            check(row)
        return row

    def _check_guards_left(self) -> None:
        """Before commit: lock and check every guarded window the action did not lock."""
        while self._guards:
            self.lock_window(next(iter(self._guards)))

    def emit(
        self,
        kind: str,
        /,
        *,
        at: dt.datetime,
        hall_day: dt.date,
        actor: str,
        ticket_id: int | None = None,
        window: int | None = None,
        **data: Any,
    ) -> None:
        """Record that ``kind`` happened; written when the transaction commits."""
        self.pending.append(_Pending(at, hall_day, kind, actor, ticket_id, window, data))

    def lock(self) -> str:
        """``FOR UPDATE`` on PostgreSQL, nothing on SQLite (its writers are serialised)."""
        return " FOR UPDATE" if self.postgres else ""

    def _flush(self) -> None:
        """SQLite: insert the pending events (the commit follows)."""
        if self.pending:
            self._record(self._insert_sqlite())

    def _record(self, seqs: list[int]) -> None:
        self.committed = [
            Event(s, p.at, p.hall_day, p.kind, p.actor, p.ticket_id, p.window, p.data)
            for s, p in zip(seqs, self.pending, strict=True)
        ]

    def _commit_pg(self) -> None:
        """PostgreSQL: lock, insert, NOTIFY and COMMIT in one round trip.

        The advisory lock orders seq by commit: it is taken in a CTE the insert must join, so
        it is held before any row draws its seq, and held to commit. Under it no other
        transaction draws from the sequence, so this statement's rows get consecutive numbers
        in VALUES order. The statement and the COMMIT go to the server together (psycopg's
        pipeline mode), so the lock is held only while the server runs the two: a worker
        thread that loses the CPU (or the GIL) after the insert cannot make every other
        writer wait for it. The NOTIFY is delivered at commit; its payload is the newest seq
        and the store's origin, so the committing process's hub, which its store tells
        directly, and a hub that has published that far already need not read the log.

        SQLAlchemy's own commit then finds the connection idle and sends nothing. Without
        events there is nothing to lock: SQLAlchemy commits as usual."""
        if not self.pending:
            pgraw.flush_deferred(self)
            return
        params: list[Any] = [EVENT_LOCK_KEY]
        for p in self.pending:
            params += [p.at, p.hall_day, p.kind, p.actor, p.ticket_id, p.window, json.dumps(p.data)]
        params += [NOTIFY_CHANNEL, self.origin]
        rows = pgraw.send_with_commit(self, _pg_insert_events(len(self.pending)), params)
        self._record(sorted(int(row[0]) for row in rows))

    def _insert_sqlite(self) -> list[int]:
        rows = [
            {
                "at": p.at,
                "hall_day": p.hall_day,
                "kind": p.kind,
                "actor": p.actor,
                "ticket_id": p.ticket_id,
                "window": p.window,
                "data": p.data,
            }
            for p in self.pending
        ]
        result = self.conn.execute(_INSERT_EVENTS, rows)
        return [int(r.seq) for r in result]


Listener = Callable[[list[Event]], None]


class Store:
    """Opens transactions and tells listeners about committed events."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        # The open transaction of this request: a context variable, not a thread-local,
        # because requests run as greenlets sharing the loop's thread (center.db.green).
        self._current: ContextVar[Tx | None] = ContextVar(f"hallq_tx_{id(self)}", default=None)
        self.origin = secrets.token_hex(6)
        """Names this store in its NOTIFY payloads (``center.live.pg``): a hub ignores those
        of its own store, whose commits reach it through ``subscribe``."""
        if self.postgres:
            event.listen(engine, "before_cursor_execute", self._before_statement)

    def _before_statement(self, conn: Connection, *_: Any) -> None:
        """Deferred writes go before any statement SQLAlchemy runs in their transaction."""
        tx = self._current.get()
        if tx is not None and tx.deferred and tx.conn is conn:
            pgraw.flush_deferred(tx)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with each transaction's events after it commits; returns an unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A writing transaction; committed when the block ends, rolled back on any exception.

        Inside another ``write()`` on the same thread it joins that transaction, so a caller
        can make an engine action and its own records (an idempotent reply) one atomic unit:
        the outermost block commits, flushes the events and notifies listeners.
        """
        outer = self._current.get()
        if outer is not None:
            yield outer
            return
        with self.engine.connect() as conn:
            tx = Tx(conn, self.postgres, self.origin)
            token = self._current.set(tx)
            try:
                with conn.begin():
                    yield tx
                    tx._check_guards_left()
                    if tx.postgres:
                        tx._commit_pg()
                    else:
                        tx._flush()
            finally:
                self._current.reset(token)
        if tx.committed:
            self._notify(tx.committed)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a deferred BEGIN on SQLite: it never blocks writers)."""
        with self.engine.connect() as conn:
            conn.execution_options(readonly=True)
            with conn.begin():
                yield conn

    def _notify(self, committed: list[Event]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(committed)
            except Exception:
                log.exception("event listener failed")

    def events_after(self, seq: int, limit: int = 1000) -> list[Event]:
        """Committed events with a sequence number above ``seq``, oldest first."""
        with self.read() as conn:
            rows = conn.execute(
                select(events).where(events.c.seq > seq).order_by(events.c.seq).limit(limit)
            ).all()
        return [
            Event(r.seq, r.at, r.hall_day, r.kind, r.actor, r.ticket_id, r.window, r.data)
            for r in rows
        ]

    def last_seq(self) -> int:
        """The newest committed sequence number (0 when the log is empty)."""
        with self.read() as conn:
            value = conn.execute(text("SELECT max(seq) FROM events")).scalar()
        return int(value or 0)
