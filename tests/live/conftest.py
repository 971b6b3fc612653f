"""Live-event fixtures: a migrated store on SQLite and PostgreSQL, and a way to commit events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from center.db.connect import make_engine, upgrade
from center.engine.store import Event, Store
from tests.center.conftest import MONDAY_9


def open_store(url: str) -> Store:
    """A store over a migrated database."""
    engine = make_engine(url, pool_size=5)
    upgrade(engine)
    return Store(engine)


def commit(store: Store, *kinds: str, window: int | None = None) -> list[Event]:
    """Commit one transaction recording ``kinds`` (default one ``test.a``); its events."""
    events: list[Event] = []
    with store.write() as tx:
        for kind in kinds or ("test.a",):
            tx.emit(kind, at=MONDAY_9, hall_day=dt.date(2026, 11, 23), actor="test", window=window)
    events = tx.committed
    return events


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def make_store(live_url: str) -> Iterator[Callable[[], Store]]:
    """Factory: stores over the same database (two of them stand for two processes)."""
    opened: list[Store] = []

    def make() -> Store:
        store = open_store(live_url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.engine.dispose()


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()
