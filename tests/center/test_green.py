"""``center.db.green``: blocking engine code as greenlets on the event loop, on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import await_only

from center.db.connect import make_engine, upgrade
from center.db.green import GreenRunner
from center.db.green_psycopg import GreenConnection
from center.engine import pgraw
from center.engine.store import Store, Tx

pytestmark = pytest.mark.postgres

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(params=["asyncio", "uvloop"])
def run_loop(request: pytest.FixtureRequest) -> Run:
    """Runs a coroutine on asyncio's loop, and on uvloop (the one uvicorn serves on)."""
    if request.param == "uvloop":
        import uvloop

        return uvloop.run  # type: ignore[no-any-return]
    return asyncio.run


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    engine = make_engine(pg_url, pool_size=4)
    upgrade(engine)
    store = Store(engine)
    with store.write() as tx:
        pgraw.execute(tx, "INSERT INTO windows (number, status) VALUES (1, 'closed')", {})
    try:
        yield store
    finally:
        engine.dispose()


async def run_ticking(runner: GreenRunner, fn: Callable[[], int]) -> tuple[int, int]:
    """``fn``'s result through ``runner``, and how often a 10 ms ticker ran meanwhile (about
    30 times in 0.3 s on a free loop; once on a blocked one)."""
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    result = await runner.run(fn)
    done.set()
    await task
    return result, ticks


def test_a_database_wait_lets_the_loop_run_other_work(store: Store, run_loop: Run) -> None:
    """GIVEN a greenlet whose statement takes 0.3 s in the server WHEN it runs THEN the loop
    keeps running other tasks meanwhile (a blocking wait would stop them all)."""

    def slow() -> int:
        with store.read() as conn:
            return int(conn.execute(text("SELECT 7 FROM pg_sleep(0.3)")).scalar_one())

    result, ticks = run_loop(run_ticking(GreenRunner(4), slow))
    assert result == 7
    assert ticks >= 10  # ~30 at 10 ms during 0.3 s; a blocked loop gives 1


def test_a_greenlet_waiting_on_a_row_lock_lets_the_holder_finish(
    store: Store, run_loop: Run
) -> None:
    """GIVEN one greenlet holding window 1's row lock while it waits on the server, and a
    second one asking for the same lock WHEN both run on one loop THEN the second waits for
    the first's commit instead of blocking the loop (which would deadlock them both), and
    sees its write."""
    order: list[str] = []

    def holder() -> None:
        with store.write() as tx:
            tx.lock_window(1)
            order.append("holder locked")
            tx.conn.execute(text("SELECT pg_sleep(0.2)"))
            pgraw.execute(tx, "UPDATE windows SET status = 'open' WHERE number = 1", {})
            order.append("holder commits")

    def waiter() -> str:
        with store.write() as tx:
            # A blocked loop would wait forever (the holder cannot run): fail instead.
            tx.conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            row = tx.lock_window(1)
            order.append("waiter locked")
            assert row is not None
            return str(row.status)

    async def main() -> str:
        runner = GreenRunner(4)
        first = asyncio.create_task(runner.run(holder))
        while not order:  # the holder has its lock
            await asyncio.sleep(0.005)
        status = await asyncio.wait_for(runner.run(waiter), timeout=10)
        await first
        return status

    assert run_loop(main()) == "open"
    assert order == ["holder locked", "holder commits", "waiter locked"]


def test_concurrent_greenlets_get_transactions_of_their_own(store: Store, run_loop: Run) -> None:
    """GIVEN two greenlets on one thread, each in ``store.write()`` WHEN they interleave
    THEN neither joins the other's transaction (the open one is per context, not per
    thread), and one that fails rolls back alone."""
    seen: dict[str, Tx] = {}

    def writer(name: str, fail: bool) -> None:
        with store.write() as tx:
            seen[name] = tx
            tx.conn.execute(text("SELECT pg_sleep(0.05)"))  # the other one runs meanwhile
            with store.write() as inner:  # a nested block joins its own outer one
                assert inner is tx
            tx.emit("test.green", at=dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC),
                    hall_day=dt.date(2026, 11, 23), actor=name)  # fmt: skip
            if fail:
                raise RuntimeError("this one fails")

    async def main() -> list[BaseException | None]:
        runner = GreenRunner(4)
        results = await asyncio.gather(
            runner.run(writer, "a", False), runner.run(writer, "b", True), return_exceptions=True
        )
        return list(results)  # type: ignore[arg-type]

    results = run_loop(main())
    assert results[0] is None and isinstance(results[1], RuntimeError)
    assert seen["a"] is not seen["b"]
    with store.read() as conn:
        actors = conn.execute(text("SELECT actor FROM events WHERE kind = 'test.green'")).all()
    assert [r.actor for r in actors] == ["a"]


def test_at_most_slots_greenlets_run_at_once(store: Store, run_loop: Run) -> None:
    """GIVEN a runner with 2 slots WHEN 6 slow calls arrive together THEN no more than 2
    hold a connection at any time, and all 6 finish."""
    running = 0
    most = 0

    def slow() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            with store.read() as conn:
                conn.execute(text("SELECT pg_sleep(0.05)"))
        finally:
            running -= 1

    async def main() -> None:
        runner = GreenRunner(2)
        await asyncio.gather(*(runner.run(slow) for _ in range(6)))

    run_loop(main())
    assert most == 2 and running == 0


def test_outside_a_greenlet_a_connection_waits_the_blocking_way(store: Store) -> None:
    """The event hub's and the maintenance thread's reads use the same pool, not in a
    greenlet: they block as before."""
    with store.read() as conn:
        assert isinstance(conn.connection.driver_connection, GreenConnection)
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_a_failing_statement_raises_in_the_greenlet_and_the_connection_stays_usable(
    store: Store, run_loop: Run
) -> None:
    """GIVEN a statement the server refuses, run in a greenlet THEN its error reaches the
    caller as from a blocking call, the transaction rolls back, and the pooled connections
    keep working."""

    def failing() -> None:
        with store.write() as tx:
            pgraw.execute(tx, "UPDATE windows SET status = 'open' WHERE number = 1", {})
            tx.conn.execute(text("SELECT 1 / 0"))

    def status() -> str:
        with store.read() as conn:
            return str(conn.execute(text("SELECT status FROM windows WHERE number = 1")).scalar())

    async def main() -> str:
        runner = GreenRunner(1)  # one slot: the next call gets the same connection back
        with pytest.raises(DBAPIError, match="division by zero"):
            await runner.run(failing)
        return await runner.run(status)

    assert run_loop(main()) == "closed"


def test_the_loop_stops_watching_a_connection_when_it_goes_back_to_the_pool(
    store: Store,
) -> None:
    """GIVEN a greenlet's transaction WHEN its connection is checked in THEN the loop no
    longer watches that socket (it must never watch one that a thread uses or closes)."""
    sockets: list[int] = []

    def work() -> None:
        with store.read() as conn:
            raw = conn.connection.driver_connection
            assert isinstance(raw, GreenConnection)
            sockets.append(raw.pgconn.socket)
            conn.execute(text("SELECT 1"))
            assert raw.pgconn.socket in watched(), "watched while in use"

    def watched() -> set[int]:
        loop = asyncio.get_running_loop()
        return {key.fd for key in loop._selector.get_map().values()}  # type: ignore[attr-defined]

    async def main() -> set[int]:
        await GreenRunner(1).run(work)
        return watched()

    loop = asyncio.SelectorEventLoop()  # asyncio's own loop: its selector can be inspected
    try:
        still = loop.run_until_complete(main())
    finally:
        loop.close()
    assert sockets and sockets[0] not in still


def test_a_server_closing_an_idle_connection_does_not_spin_the_loop(
    store: Store, run_loop: Run
) -> None:
    """GIVEN a greenlet holding a connection the loop watches, between statements WHEN the
    server ends that session THEN the loop is woken once (the registration is dropped, not
    reported again and again while the greenlet sleeps), and the next statement fails as a
    closed connection."""
    unasked = 0  # wake-ups of the loop for a socket nobody waits on
    original = GreenConnection._readable

    def counting(self: GreenConnection) -> None:
        nonlocal unasked
        unasked += self._waiter is None
        original(self)

    def work() -> None:
        with pytest.raises(DBAPIError, match="terminating connection"), store.read() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with store.engine.connect() as other:  # another pooled connection, same greenlet
                other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            await_only(asyncio.sleep(0.2))  # nobody waits on the first connection now
            conn.execute(text("SELECT 1"))

    GreenConnection._readable = counting  # type: ignore[method-assign]
    try:
        run_loop(GreenRunner(2).run(work))
    finally:
        GreenConnection._readable = original  # type: ignore[method-assign]
    assert unasked == 1


def test_a_new_connection_is_opened_off_the_loop(
    store: Store, run_loop: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a server that takes 0.3 s to accept a connection WHEN a greenlet needs a new
    one THEN it is opened on another thread and the loop keeps running meanwhile."""
    store.engine.dispose()  # the pool is empty: the next checkout connects
    opened_on: list[int] = []
    connect = GreenConnection.connect

    def slow_connect(*args: Any, **kwargs: Any) -> GreenConnection:
        opened_on.append(threading.get_ident())
        time.sleep(0.3)
        return connect(*args, **kwargs)

    monkeypatch.setattr(GreenConnection, "connect", slow_connect)

    def work() -> int:
        with store.read() as conn:
            return int(conn.execute(text("SELECT 5")).scalar_one())

    result, ticks = run_loop(run_ticking(GreenRunner(2), work))
    assert result == 5
    assert opened_on and opened_on[0] != threading.get_ident()
    assert ticks >= 10


def test_a_cancelled_request_s_work_runs_to_its_end_and_a_failure_is_logged(
    store: Store, run_loop: Run, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a request cancelled while its greenlet waits on the server THEN the greenlet
    still runs to its end (a transaction is never left half-way) and keeps its slot until
    then; as nobody awaits it any more, its failure is logged."""
    order: list[str] = []

    def work() -> None:
        with store.write() as tx:
            tx.conn.execute(text("SELECT pg_sleep(0.2)"))
            order.append("cancelled one ends")
            raise RuntimeError("fails after its request left")

    def next_one() -> None:
        order.append("next one starts")

    async def main() -> None:
        runner = GreenRunner(1)
        task = asyncio.create_task(runner.run(work))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await runner.run(next_one)  # the one slot frees when the first greenlet ends
        await asyncio.sleep(0.05)

    with caplog.at_level(logging.ERROR, logger="center.db.green"):
        run_loop(main())
    assert order == ["cancelled one ends", "next one starts"]
    [record] = [r for r in caplog.records if r.name == "center.db.green"]
    assert "cancelled request failed" in record.getMessage()
    assert record.exc_info is not None and "fails after its request left" in str(record.exc_info[1])
