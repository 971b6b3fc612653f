"""The event hub: replay then live in sequence order, resume, filters, overflow, out-of-order sources."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from center.engine.store import Event, Store
from center.live.hub import EventFilter, EventHub, Overflowed, Subscription, SubscriptionClosed
from tests.live.conftest import commit


def drain(sub: Subscription, *, timeout: float = 5.0, until: int | None = None) -> list[int]:
    """Read until live with nothing queued (or until seq ``until`` arrived); the seqs read."""
    seqs: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = sub.read(3)
        seqs += [e.seq for e in batch]
        if until is not None and seqs and seqs[-1] >= until:
            return seqs
        if until is None and sub.live and not batch:
            return seqs
        if not batch:
            time.sleep(0.005)
    raise AssertionError(f"timed out after {seqs}")


def seqs_after(store: Store, since: int, event_filter: EventFilter | None = None) -> list[int]:
    f = event_filter or EventFilter()
    return [e.seq for e in store.events_after(since, 100_000) if f.matches(e)]


def test_a_subscriber_replays_the_log_then_follows_live_commits(store: Store) -> None:
    first = [commit(store)[0].seq for _ in range(5)]
    with EventHub(store, page_size=2).start(background=False) as hub:
        sub = hub.subscribe(since=first[1])
        assert drain(sub) == first[2:]
        assert sub.live
        later = commit(store, "test.a", "test.b")
        assert [e.seq for e in sub.read()] == [e.seq for e in later]
        assert sub.read() == []


def test_subscribing_without_since_starts_at_the_head(store: Store) -> None:
    commit(store)
    with EventHub(store).start(background=False) as hub:
        sub = hub.subscribe()
        assert drain(sub) == []
        new = commit(store)[0]
        assert [e.seq for e in sub.read()] == [new.seq]


def test_a_since_past_the_head_skips_what_the_hub_publishes_later(
    make_store: Callable[[], Store],
) -> None:
    mine, other = make_store(), make_store()
    with EventHub(mine).start(background=False) as hub:
        theirs = commit(other)  # the hub hears of it only through poll()
        sub = hub.subscribe(since=theirs[0].seq)  # a client that saw it through another process
        assert drain(sub) == []
        assert hub.head < theirs[0].seq
        hub.poll()
        assert hub.head == theirs[0].seq
        assert sub.read() == []
        nxt = commit(mine)
        assert [e.seq for e in sub.read()] == [nxt[0].seq]


def test_commits_heard_out_of_order_are_published_in_order(
    make_store: Callable[[], Store],
) -> None:
    mine, other = make_store(), make_store()
    with EventHub(mine).start(background=False) as hub:
        sub = hub.subscribe()
        drain(sub)
        a, b = commit(other), commit(other)
        hub.committed([])  # an empty batch is ignored
        hub.committed(b)  # b's listener ran first: b does not continue the sequence, so wait
        assert sub.read() == [] and hub.head == a[0].seq - 1
        hub.committed(a)
        hub.committed(b)
        assert [e.seq for e in sub.read()] == [a[0].seq, b[0].seq]
        hub.committed(a)  # a late duplicate is dropped
        assert sub.read() == []


def test_filters_by_kind_prefix_and_window_and_the_position_moves_past_filtered_events(
    store: Store,
) -> None:
    commit(store, "ticket.called", window=1)
    wanted = commit(store, "ticket.called", window=2)
    commit(store, "window.paused", window=2)
    f = EventFilter(kinds=("ticket.",), windows=frozenset({2}))
    with EventHub(store).start(background=False) as hub:
        sub = hub.subscribe(since=0, event_filter=f)
        assert drain(sub) == [wanted[0].seq]
        assert sub.position == hub.head
        skipped = commit(store, "ticket.issued")
        assert sub.read() == [] and sub.position == skipped[0].seq
        called = commit(store, "ticket.recalled", window=2)
        assert [e.kind for e in sub.read()] == ["ticket.recalled"]
        assert sub.position == called[0].seq


def test_a_slow_live_subscriber_is_dropped_and_resumes_without_loss(store: Store) -> None:
    with EventHub(store, queue_size=3).start(background=False) as hub:
        sub = hub.subscribe()
        drain(sub)
        got = [e.seq for e in commit(store)]
        assert [e.seq for e in sub.read()] == got
        for _ in range(4):
            commit(store)
        assert hub.subscribers == 0
        with pytest.raises(Overflowed) as info:
            sub.read()
        assert info.value.position == got[-1]
        again = hub.subscribe(since=info.value.position)
        assert drain(again) == seqs_after(store, got[-1])


def test_one_transaction_larger_than_the_queue_still_reaches_a_live_subscriber(
    store: Store,
) -> None:
    with EventHub(store, queue_size=2).start(background=False) as hub:
        sub = hub.subscribe()
        drain(sub)
        big = commit(store, *["test.a"] * 5)
        assert [e.seq for e in sub.read()] == [e.seq for e in big]


def test_an_overflow_during_the_replay_is_absorbed(store: Store) -> None:
    for _ in range(6):
        commit(store)
    with EventHub(store, queue_size=2, page_size=2).start(background=False) as hub:
        sub = hub.subscribe(since=0)
        assert [e.seq for e in sub.read(2)] == seqs_after(store, 0)[:2]
        for _ in range(5):  # arrives while replaying, more than the queue holds
            commit(store)
        assert drain(sub) == seqs_after(store, 0)[2:]
        assert hub.subscribers == 1


def test_closing_the_hub_closes_its_subscriptions(store: Store) -> None:
    hub = EventHub(store).start(background=False)
    sub = hub.subscribe()
    hub.close()
    with pytest.raises(SubscriptionClosed):
        sub.read()
    sub.close()  # idempotent


def test_bad_arguments_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="positive"):
        EventHub(store, queue_size=0)
    with EventHub(store).start(background=False) as hub:
        with pytest.raises(ValueError, match="since"):
            hub.subscribe(since=-1)
        with pytest.raises(RuntimeError, match="already started"):
            hub.start()


def test_concurrent_writers_in_two_processes_reach_subscribers_once_in_order(
    make_store: Callable[[], Store],
) -> None:
    """GIVEN two stores on one database (two processes) and threads committing in both,
    WHEN one hub follows the first store (in-process listener, NOTIFY on PostgreSQL, poll),
    THEN a replaying and a live subscriber each see every event once, in seq order."""
    mine, other = make_store(), make_store()
    commit(mine)
    with EventHub(mine, poll_seconds=0.05).start() as hub:
        replaying = hub.subscribe(since=0)
        live = hub.subscribe()
        start = hub.head

        def write(store: Store) -> None:
            for i in range(15):
                commit(store, *["test.a"] * (1 + i % 3))

        threads = [threading.Thread(target=write, args=(s,)) for s in (mine, other) * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        last = mine.last_seq()
        assert drain(replaying, until=last, timeout=15) == seqs_after(mine, 0)
        assert drain(live, until=last, timeout=15) == seqs_after(mine, start)


def test_background_hub_hears_commits_of_another_store(make_store: Callable[[], Store]) -> None:
    mine, other = make_store(), make_store()
    with EventHub(mine, poll_seconds=0.05).start() as hub:
        sub = hub.subscribe()
        drain(sub)
        theirs = commit(other)
        assert drain(sub, until=theirs[0].seq) == [theirs[0].seq]


def _counting_reads(store: Store) -> list[int]:
    """Count the store's log reads from now on (one entry per read)."""
    reads: list[int] = []
    original = store.events_after

    def counting(seq: int, limit: int = 1000) -> list:  # type: ignore[type-arg]
        reads.append(seq)
        return original(seq, limit)

    store.events_after = counting  # type: ignore[method-assign]
    return reads


def _two_commits_by_hand(
    hub: EventHub, store: Store
) -> tuple[Subscription, list[Event], list[Event], list[int]]:
    """A live subscription, two commits the hub has not been told of (the test hands them
    over itself, in whatever order), and the count of log reads from then on."""
    sub = hub.subscribe()
    drain(sub)
    assert hub._unsubscribe is not None
    hub._unsubscribe()
    first, second = commit(store), commit(store)
    return sub, first, second, _counting_reads(store)


def test_local_commits_reported_out_of_order_are_published_in_order_without_a_read(
    store: Store,
) -> None:
    """GIVEN two local transactions whose listener calls come in reverse commit order (two
    worker threads) WHEN the later one is reported first THEN it is held, and both are
    published in seq order once the earlier one is reported, with no read of the log."""
    with EventHub(store).start(background=False) as hub:
        sub, first, second, reads = _two_commits_by_hand(hub, store)
        hub.committed(second)
        assert sub.read() == [] and hub.head == first[0].seq - 1
        hub.committed(first)
        assert [e.seq for e in sub.read()] == [first[0].seq, second[0].seq]
        assert hub.head == second[0].seq
        assert reads == []


def test_a_gap_nobody_fills_is_read_from_the_log_after_the_grace(
    make_store: Callable[[], Store],
) -> None:
    """GIVEN a commit this process never hears of (another process, no NOTIFY on SQLite)
    WHEN a local commit after it arrives THEN the hub waits its short grace, reads the log and
    publishes both, in order, long before its periodic poll."""
    mine, other = make_store(), make_store()
    with EventHub(mine, poll_seconds=60, listen=False, gap_grace=0.01).start() as hub:
        sub = hub.subscribe()
        drain(sub)
        theirs = commit(other)
        ours = commit(mine)
        started = time.monotonic()
        assert drain(sub, until=ours[0].seq, timeout=5) == [theirs[0].seq, ours[0].seq]
        assert time.monotonic() - started < 2


class CountingEvent(threading.Event):
    """A ``threading.Event`` that counts its ``set()`` calls (the hub thread's wake-ups)."""

    def __init__(self) -> None:
        super().__init__()
        self.sets = 0

    def set(self) -> None:
        self.sets += 1
        super().set()


def test_on_a_loop_a_gap_filled_within_the_grace_costs_no_thread_wake_up(store: Store) -> None:
    """GIVEN commits reported out of order on an event loop's thread (greenlets whose replies
    the loop reads in another order) WHEN the earlier one follows within the grace THEN both
    are published in order, and the hub's thread is neither woken nor reads the log: the
    check is a timer on the loop."""
    import asyncio

    hub = EventHub(store, poll_seconds=60, listen=False, gap_grace=0.05)
    wake = hub._wake = CountingEvent()
    with hub.start():
        sub, first, second, reads = _two_commits_by_hand(hub, store)
        woken = wake.sets

        async def report() -> None:
            hub.committed(second)
            await asyncio.sleep(0.01)
            assert sub.read() == []
            hub.committed(first)
            await asyncio.sleep(0.1)  # past the grace: the timer has run

        asyncio.run(report())
        assert [e.seq for e in sub.read()] == [first[0].seq, second[0].seq]
        assert reads == [] and wake.sets == woken


def test_on_a_loop_a_gap_nobody_fills_is_read_from_the_log_after_the_grace(
    make_store: Callable[[], Store],
) -> None:
    """GIVEN a commit this process never hears of WHEN a local commit after it is reported on
    an event loop's thread THEN the loop's timer has the hub read the log after the grace
    (its periodic poll is a minute away), and both are published in order."""
    import asyncio

    mine, other = make_store(), make_store()
    with EventHub(mine, poll_seconds=60, listen=False, gap_grace=0.01).start() as hub:
        sub = hub.subscribe()
        drain(sub)
        theirs = commit(other)

        async def commit_on_the_loop() -> list[int]:
            ours = commit(mine)
            deadline = time.monotonic() + 2
            seqs: list[int] = []
            while time.monotonic() < deadline and (not seqs or seqs[-1] < ours[0].seq):
                seqs += [e.seq for e in sub.read()]
                await asyncio.sleep(0.005)
            return seqs

        ours_seqs = asyncio.run(commit_on_the_loop())
        assert ours_seqs == [theirs[0].seq, theirs[0].seq + 1]


def test_a_burst_of_wake_ups_costs_one_loop_callback() -> None:
    """GIVEN ten subscriptions of one loop WHEN a commit wakes them all from a worker thread
    THEN the loop is called into once, and every one of them is set."""
    import asyncio

    from center.live.feed import LoopWaker

    class FakeLoop:
        def __init__(self) -> None:
            self.scheduled: list[Callable[[], None]] = []

        def call_soon_threadsafe(self, callback: Callable[[], None]) -> None:
            self.scheduled.append(callback)

    loop = FakeLoop()
    waker = LoopWaker(loop)  # type: ignore[arg-type]
    readies = [asyncio.Event() for _ in range(10)]
    worker = threading.Thread(target=lambda: [waker.wake(r) for r in readies])
    worker.start()
    worker.join()
    assert len(loop.scheduled) == 1
    assert not any(r.is_set() for r in readies)
    loop.scheduled[0]()
    assert all(r.is_set() for r in readies)
    late = asyncio.Event()
    waker.wake(late)  # after the burst was delivered: a new callback
    assert len(loop.scheduled) == 2
    loop.scheduled[1]()
    assert late.is_set()
