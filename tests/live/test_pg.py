"""PostgreSQL fan-out: NOTIFY at commit wakes every process's hub; LISTEN survives a lost connection."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from center.live.hub import EventHub
from center.live.pg import APPLICATION_NAME
from tests.live.conftest import commit, open_store
from tests.live.test_hub import drain

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
