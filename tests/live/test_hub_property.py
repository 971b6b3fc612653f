"""Property: whatever the interleaving of commits, late or reordered commit notices, polls, reads,
reconnects and overflows, every client receives each matching event exactly once, in order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from center.engine.store import Event, Store
from center.live.hub import EventFilter, EventHub, Overflowed, Subscription
from tests.center.conftest import MONDAY_9
from tests.live.conftest import open_store

KINDS = ("ticket.called", "ticket.issued", "window.paused")
FILTERS = (
    EventFilter(),
    EventFilter(kinds=("ticket.",)),
    EventFilter(windows=frozenset({2})),
    EventFilter(kinds=("window.",), windows=frozenset({1, 2})),
)


class HeldStore(Store):
    """A store whose commit notices wait until the test hands them on, in any order, and
    that can slip commits in just after a subscriber read the log (before it goes live)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)
        self.held: list[list[Event]] = []
        self.after_next_read: list[Callable[[], None]] = []

    def events_after(self, seq: int, limit: int = 1000) -> list[Event]:
        page = super().events_after(seq, limit)
        actions, self.after_next_read = self.after_next_read, []
        for action in actions:
            action()
        return page

    def _notify(self, committed: list[Event]) -> None:
        self.held.append(committed)

    def hand_on(self, index: int) -> None:
        if self.held:
            super()._notify(self.held.pop(index % len(self.held)))


@dataclass
class Client:
    """A display that reconnects from the last seq it was told about."""

    event_filter: EventFilter
    sub: Subscription
    got: list[int] = field(default_factory=list)
    known: int = 0  # the newest seq a message told it (an event or a heartbeat's position)

    def read(self, hub: EventHub, limit: int) -> None:
        try:
            batch = self.sub.read(limit)
        except Overflowed as exc:  # the close message tells the position to resume after
            self.known = max(self.known, exc.position)
            self.reconnect(hub)
            return
        self.got += [e.seq for e in batch]
        if batch:
            self.known = batch[-1].seq

    def heartbeat(self) -> None:
        self.known = max(self.known, self.sub.position)

    def reconnect(self, hub: EventHub) -> None:
        self.sub.close()
        self.sub = hub.subscribe(since=self.known, event_filter=self.event_filter)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("live") / "property.db"
    store = open_store(f"sqlite:///{path}")
    yield store
    store.engine.dispose()


op = st.one_of(
    st.tuples(
        st.just("commit"),
        st.lists(st.sampled_from(KINDS), min_size=1, max_size=3),
        st.sampled_from([None, 1, 2, 3]),
    ),
    st.tuples(st.just("race"), st.integers(1, 3)),
    st.tuples(st.just("hand_on"), st.integers(0, 5)),
    st.tuples(st.just("poll")),
    st.tuples(st.just("read"), st.integers(0, 3), st.integers(1, 8)),
    st.tuples(st.just("read"), st.integers(0, 3), st.just(100)),
    st.tuples(st.just("heartbeat"), st.integers(0, 3)),
    st.tuples(st.just("reconnect"), st.integers(0, 3)),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(op, min_size=10, max_size=60),
    backlog=st.lists(st.integers(0, 5), min_size=4, max_size=4),
    queue_size=st.integers(1, 4),
    page_size=st.integers(1, 4),
)
def test_every_client_gets_each_matching_event_once_in_order(
    shared_store: Store,
    ops: list[tuple[object, ...]],
    backlog: list[int],
    queue_size: int,
    page_size: int,
) -> None:
    store = HeldStore(shared_store)
    hub = EventHub(store, queue_size=queue_size, page_size=page_size).start(background=False)
    head = hub.head
    clients = []
    for f, back in zip(FILTERS, backlog, strict=True):
        since = max(0, head - back)
        clients.append(Client(f, hub.subscribe(since=since, event_filter=f), known=since))
    starts = [c.known for c in clients]
    try:
        for step in ops:
            _apply(store, hub, clients, step)
        while store.held:
            store.hand_on(0)
        hub.poll()
        for c in clients:
            for _ in range(10_000):
                before = len(c.got)
                c.read(hub, 4)
                if c.sub.live and len(c.got) == before:
                    break
        for c, since in zip(clients, starts, strict=True):
            expected = [
                e.seq for e in store.events_after(since, 100_000) if c.event_filter.matches(e)
            ]
            assert c.got == expected
    finally:
        hub.close()


def _commit(store: Store, kinds: list[str], window: int | None) -> None:
    with store.write() as tx:
        for kind in kinds:
            tx.emit(kind, at=MONDAY_9, hall_day=dt.date(2026, 11, 23), actor="t", window=window)


def _apply(
    store: HeldStore, hub: EventHub, clients: list[Client], step: tuple[object, ...]
) -> None:
    name = step[0]
    if name == "commit":
        kinds, window = step[1], step[2]
        assert isinstance(kinds, list)
        assert window is None or isinstance(window, int)
        _commit(store, kinds, window)
    elif name == "race":  # commits published between a replay's read and its going live
        count = step[1]
        assert isinstance(count, int)

        def slip_in() -> None:
            for i in range(count):
                _commit(store, [KINDS[i % 3]], 2)
            hub.poll()

        store.after_next_read.append(slip_in)
    elif name == "hand_on":
        assert isinstance(step[1], int)
        store.hand_on(step[1])
    elif name == "poll":
        hub.poll()
    else:
        index = step[1]
        assert isinstance(index, int)
        client = clients[index]
        if name == "read":
            assert isinstance(step[2], int)
            client.read(hub, step[2])
        elif name == "heartbeat":
            client.heartbeat()
        else:
            client.reconnect(hub)
