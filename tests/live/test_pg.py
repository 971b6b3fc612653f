"""PostgreSQL fan-out: NOTIFY at commit wakes every process's hub; LISTEN survives a lost connection."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from center.engine.store import Store
from center.live.hub import EventHub
from center.live.pg import APPLICATION_NAME
from tests.live.conftest import commit, open_store
from tests.live.test_hub import _counting_reads, drain

pytestmark = pytest.mark.postgres


def test_a_commit_in_another_process_arrives_by_notify_not_by_polling(pg_url: str) -> None:
    mine, other = open_store(pg_url), open_store(pg_url)
    try:
        with EventHub(mine, poll_seconds=60).start() as hub:
            assert hub._listener is not None and hub._listener.connected.wait(5)
            sub = hub.subscribe()
            drain(sub)
            started = time.monotonic()
            theirs = commit(other, "ticket.called", window=4)
            assert drain(sub, until=theirs[0].seq, timeout=5) == [theirs[0].seq]
            assert time.monotonic() - started < 2
    finally:
        mine.engine.dispose()
        other.engine.dispose()


def test_the_listener_reconnects_and_catches_up_after_its_connection_dies(pg_url: str) -> None:
    mine, other = open_store(pg_url), open_store(pg_url)
    try:
        with EventHub(mine, poll_seconds=60).start() as hub:
            listener = hub._listener
            assert listener is not None and listener.connected.wait(5)
            sub = hub.subscribe()
            drain(sub)
            with other.engine.connect() as conn:
                killed = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :name AND datname = current_database()"
                    ),
                    {"name": APPLICATION_NAME},
                ).scalar()
            assert killed == 1
            theirs = commit(other)  # most likely sent while nobody listened
            assert drain(sub, until=theirs[0].seq, timeout=10) == [theirs[0].seq]
            assert listener.connected.wait(5)
    finally:
        mine.engine.dispose()
        other.engine.dispose()


def test_the_notification_carries_the_newest_seq_of_the_transaction(pg_url: str) -> None:
    """GIVEN a raw LISTEN session WHEN one transaction commits three events THEN exactly one
    notification arrives and its payload is the third event's seq and the store's origin (so the
    committing process's hub skips the read)."""
    import psycopg

    from center.engine.store import NOTIFY_CHANNEL
    from center.live.pg import conninfo

    store = open_store(pg_url)
    try:
        with psycopg.connect(conninfo(store.engine.url), autocommit=True) as listen:
            listen.execute(f"LISTEN {NOTIFY_CHANNEL}")
            events = commit(store, "test.a", "test.b", "test.c")
            payloads = [n.payload for n in listen.notifies(timeout=2, stop_after=2)]
        assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 3))
        assert payloads == [f"{events[-1].seq} {store.origin}"]
    finally:
        store.engine.dispose()


def test_a_hub_that_published_the_notified_seq_does_not_read_the_log(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        with EventHub(store, poll_seconds=60).start() as hub:
            assert hub._listener is not None and hub._listener.connected.wait(5)
            time.sleep(0.3)  # the listener's first "look anyway" has been handled
            reads = _counting_reads(store)
            mine = [commit(store)[0].seq for _ in range(20)]
            deadline = time.monotonic() + 2
            while hub.head < mine[-1] and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # every notification has been heard
            assert hub.head == mine[-1]
            assert reads == []
    finally:
        store.engine.dispose()


def test_in_the_server_the_listener_runs_on_the_server_s_loop(pg_url: str) -> None:
    """GIVEN a hub started with the server's running loop WHEN another process commits THEN
    the notification is handled on that loop's thread (no thread of the listener's own, which
    each of the process's own commits would wake) and reaches subscribers; closing the hub
    from another thread ends the LISTEN session."""
    import asyncio
    import threading

    mine, other = open_store(pg_url), open_store(pg_url)
    loop = asyncio.new_event_loop()
    server = threading.Thread(target=loop.run_forever, name="server-loop", daemon=True)
    server.start()
    heard_on: list[str] = []
    try:
        hub = EventHub(mine, poll_seconds=60)
        notified = hub.notified

        def recording(seq: int | None, origin: str | None = None) -> None:
            heard_on.append(threading.current_thread().name)
            notified(seq, origin)

        hub.notified = recording  # type: ignore[method-assign]
        with hub.start(loop=loop):
            assert hub._listener is not None and hub._listener.connected.wait(5)
            assert not any(t.name == "hallq-event-listen" for t in threading.enumerate())
            sub = hub.subscribe()
            drain(sub)
            theirs = commit(other, "ticket.called", window=4)
            assert drain(sub, until=theirs[0].seq, timeout=5) == [theirs[0].seq]
        deadline = time.monotonic() + 2  # the server process ends just after the client
        while _listening(other) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _listening(other) == 0
        assert heard_on and set(heard_on) == {"server-loop"}
    finally:
        loop.call_soon_threadsafe(loop.stop)
        server.join(5)
        loop.close()
        mine.engine.dispose()
        other.engine.dispose()


def _listening(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            ).scalar_one()
        )
