"""The live event hub of one center process: replay from the event log, then live, with no gap.

The hub publishes events strictly in sequence order, and only events it has seen committed.
Three things make it look at the log: the in-process store listener (its events are published
directly when they continue the published sequence, else the log is read), a PostgreSQL
NOTIFY from any process (``center.live.pg``), and a periodic poll in case a notification was
lost. Reading "everything after the newest seq published" never skips an event, because
sequence numbers follow commit order (``center.engine.store``).

A subscription is registered for live events *before* it replays the log from its ``since``;
once the replay reaches the end of the log it drains what arrived meanwhile, skipping every
seq it has already passed: nothing lost, nothing twice. A live subscriber that lets
``queue_size`` events pile up is dropped and told so (``Overflowed``); it resumes from its
position like any reconnecting client (an empty queue takes any one transaction, however
large). During the replay an overflow is harmless: the queue is emptied and the replay simply
reads further.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from center.engine.store import Event, Store
from center.live.pg import NotifyListener

log = logging.getLogger(__name__)

Waker = Callable[[], None]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a subscriber wants: kind prefixes and windows (empty means all)."""

    kinds: tuple[str, ...] = ()
    windows: frozenset[int] = frozenset()

    def matches(self, event: Event) -> bool:
        """Whether ``event`` passes both criteria."""
        if self.kinds and not event.kind.startswith(self.kinds):
            return False
        return not self.windows or event.window in self.windows


class Overflowed(Exception):
    """The subscriber fell more than a queue behind; resume from ``position``."""

    def __init__(self, position: int) -> None:
        super().__init__(f"subscriber fell behind: resume after seq {position}")
        self.position = position


class SubscriptionClosed(Exception):
    """The subscription was closed (by its owner or because the hub stopped)."""


class Subscription:
    """One subscriber's view of the log: catch-up pages first, then live batches."""

    def __init__(self, hub: EventHub, since: int, event_filter: EventFilter, size: int) -> None:
        self.filter = event_filter
        self._hub = hub
        self._size = size
        self._queue: deque[Event] = deque()
        self._last = since  # every event up to here was delivered or filtered out
        self._skipped_to = since  # live only: filtered-out events past _last, nothing queued
        self._live = False
        self._lossy = False  # the queue overflowed during catch-up: read the log once more
        self._overflowed = False
        self._closed = False
        self._waker: Waker | None = None

    @property
    def live(self) -> bool:
        """Whether the replay is over and ``read`` only takes queued live events."""
        return self._live

    @property
    def position(self) -> int:
        """The seq to resume after: everything up to it was delivered or filtered out."""
        with self._hub.lock:
            return self._position()

    def set_waker(self, waker: Waker | None) -> None:
        """Call ``waker`` (from any thread, quickly) when a live batch is queued."""
        self._waker = waker

    def read(self, limit: int = 500) -> list[Event]:
        """The next events, oldest first; may be empty.

        Before ``live`` each call reads one page of the log (blocking I/O); afterwards it only
        takes what is queued. Raises ``Overflowed`` or ``SubscriptionClosed``.
        """
        if not self._live:
            self._check()
            return self._catch_up(limit)
        with self._hub.lock:
            self._check()
            out: list[Event] = []
            while self._queue and len(out) < limit:
                event = self._queue.popleft()
                if event.seq > self._last:  # the replay may have read past the hub
                    out.append(event)
                    self._last = event.seq
            return out

    def close(self) -> None:
        """Stop receiving; idempotent."""
        self._hub._remove(self)
        with self._hub.lock:
            self._closed = True
            self._queue.clear()

    def _position(self) -> int:
        return max(self._last, self._skipped_to) if self._live else self._last

    def _check(self) -> None:
        if self._closed:
            raise SubscriptionClosed("subscription closed")
        if self._overflowed:
            raise Overflowed(self._position())

    def _catch_up(self, limit: int) -> list[Event]:
        page = self._hub.store.events_after(self._last, limit)
        out = [e for e in page if self.filter.matches(e)]
        with self._hub.lock:
            self._check()
            if page:
                self._last = page[-1].seq
            if len(page) == limit:
                return out
            if self._lossy:  # live events were dropped: the log holds them, read again
                self._lossy = False
                return out
            kept = [e for e in self._queue if e.seq > self._last]
            self._queue.clear()
            self._live = True
            self._skipped_to = self._last
            if kept:
                self._last = kept[-1].seq
            return out + kept

    def _offer(self, batch: list[Event]) -> bool:
        """Queue the matching part of ``batch`` (hub lock held); False drops the subscriber."""
        if self._closed or self._overflowed:
            return False
        matched = [e for e in batch if self.filter.matches(e)]
        if not matched:
            if self._live and not self._queue:
                self._skipped_to = batch[-1].seq
            return True
        if self._queue and len(self._queue) + len(matched) > self._size:
            self._queue.clear()
            if not self._live:
                self._lossy = True
                return True
            self._overflowed = True
            self._wake()
            return False
        was_empty = not self._queue
        self._queue.extend(matched)
        if was_empty:
            self._wake()
        return True

    def _wake(self) -> None:
        waker = self._waker
        if waker is None:
            return
        try:
            waker()
        except Exception:  # a closed event loop: its subscriber is going away anyway
            log.debug("subscriber waker failed", exc_info=True)


class EventHub:
    """Fans the event log out to this process's subscribers, in sequence order."""

    def __init__(
        self,
        store: Store,
        *,
        queue_size: int = 1000,
        page_size: int = 500,
        poll_seconds: float = 1.0,
        listen: bool = True,
        gap_grace: float = 0.005,
    ) -> None:
        if queue_size < 1 or page_size < 1 or poll_seconds <= 0:
            raise ValueError("queue_size, page_size and poll_seconds must be positive")
        self.store = store
        self.queue_size = queue_size
        self.page_size = page_size
        self.poll_seconds = poll_seconds
        self.listen = listen
        self.gap_grace = gap_grace
        self.lock = threading.Lock()
        self._head = 0
        self._held: dict[int, list[Event]] = {}  # out-of-order local batches, by first seq
        self._look = False  # another process committed, or a listener (re)connected
        self._gap_timer: int | None = None  # the held batch a timer on the loop checks
        self._gap_loop: asyncio.AbstractEventLoop | None = None  # and that loop
        self._started = False
        self._subs: set[Subscription] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._listener: NotifyListener | None = None

    @property
    def head(self) -> int:
        """The newest seq published here."""
        with self.lock:
            return self._head

    @property
    def subscribers(self) -> int:
        """How many subscriptions are registered."""
        with self.lock:
            return len(self._subs)

    def start(
        self, *, background: bool = True, loop: asyncio.AbstractEventLoop | None = None
    ) -> EventHub:
        """Start at the end of the log and follow the store.

        ``background=False`` only listens to in-process commits: the caller runs ``poll()``
        itself (deterministic tests). Otherwise a thread polls the log when woken or every
        ``poll_seconds``, and on PostgreSQL a listener hears the commits of other processes:
        on ``loop`` (the server's running event loop) if given, else in a thread of its own.
        """
        if self._started:
            raise RuntimeError("event hub already started")
        self._started = True
        self._stop.clear()
        with self.lock:
            self._head = self.store.last_seq()
        self._unsubscribe = self.store.subscribe(self.committed)
        if background:
            self._thread = threading.Thread(target=self._run, name="hallq-event-hub", daemon=True)
            self._thread.start()
            if self.store.postgres and self.listen:
                listener = NotifyListener(self.store.engine.url, self.notified)
                listener.start(loop)
                self._listener = listener
        log.info("event hub started at seq %d", self._head)
        return self

    def close(self) -> None:
        """Stop following the store and close every subscription."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self.lock:
            subs, self._subs = list(self._subs), set()
        for sub in subs:
            sub.close()
            sub._wake()
        self._started = False

    def __enter__(self) -> EventHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def subscribe(
        self, since: int | None = None, event_filter: EventFilter | None = None
    ) -> Subscription:
        """A subscription to every event after ``since`` (None: from now on)."""
        if since is not None and since < 0:
            raise ValueError("since must be a sequence number (>= 0)")
        with self.lock:
            start = self._head if since is None else since
            sub = Subscription(self, start, event_filter or EventFilter(), self.queue_size)
            self._subs.add(sub)
        return sub

    def committed(self, batch: list[Event]) -> None:
        """Store listener: publish a transaction's events if they continue the sequence.

        Commits finish in any order (worker threads; greenlets whose replies the loop reads
        in another order): a batch that arrives before an earlier one is held, and published
        as soon as the gap before it is filled. The log is read only if the gap is still open
        ``gap_grace`` seconds later (the missing commit was another process's, or its
        listener call was lost). On an event loop's thread that check is a timer on the
        loop; elsewhere the hub's thread waits out the grace. With greenlets many commits are
        reported out of order, and a thread woken for each took the GIL from the loop."""
        if not batch:
            return
        with self.lock:
            if batch[-1].seq <= self._head:
                return
            if batch[0].seq == self._head + 1 and _contiguous(batch):
                self._publish_locked(batch)
                return
            if _contiguous(batch) and len(self._held) < self.queue_size:
                self._held[batch[0].seq] = batch
            else:
                self._look = True  # not one to hold: read the log at once
            if not self._look and (loop := _running_loop()) is not None:
                if self._gap_timer is None or self._gap_loop is not loop:
                    self._time_gap(loop, batch[0].seq)
                return
        self._wake.set()  # an earlier commit is not published yet (another thread or process)

    def _time_gap(self, loop: asyncio.AbstractEventLoop, held: int) -> None:
        """Check ``gap_grace`` from now whether the batch held at ``held`` still waits (hub
        lock held)."""
        self._gap_timer, self._gap_loop = held, loop
        loop.call_later(self.gap_grace, self._gap_check)

    def _gap_check(self) -> None:
        """On the loop: read the log if the timed batch is still held; else time the oldest
        batch held since."""
        with self.lock:
            timed, self._gap_timer = self._gap_timer, None
            if not self._held:
                return
            oldest = min(self._held)
            if timed is None or oldest > timed:  # filled in time; a later batch waits now
                self._time_gap(asyncio.get_running_loop(), oldest)
                return
            self._look = True
        self._wake.set()

    def notified(self, seq: int | None, origin: str | None = None) -> None:
        """A commit up to ``seq`` happened somewhere (None: maybe, look anyway).

        One from this hub's own store (``origin``) is ignored: ``committed`` has it already."""
        if origin is not None and origin == self.store.origin:
            return
        if seq is None or seq > self.head:
            self._look = True
            self._wake.set()

    def poll(self) -> int:
        """Publish whatever the log holds past the head; returns how many events."""
        total = 0
        while True:
            page = self.store.events_after(self.head, self.page_size)
            if page:
                with self.lock:
                    self._publish_locked(page)
                total += len(page)
            if len(page) < self.page_size:
                return total

    def _publish_locked(self, batch: Iterable[Event]) -> None:
        fresh = [e for e in batch if e.seq > self._head]
        if fresh:
            self._offer_locked(fresh)
        while self._held:  # held batches the head has reached or passed
            first = min(self._held)
            if first > self._head + 1:
                return
            held = self._held.pop(first)
            fresh = [e for e in held if e.seq > self._head]
            if fresh:
                self._offer_locked(fresh)

    def _offer_locked(self, fresh: list[Event]) -> None:
        self._head = fresh[-1].seq
        dropped = [sub for sub in self._subs if not sub._offer(fresh)]
        for sub in dropped:
            self._subs.discard(sub)
            log.info("live subscriber fell behind at seq %d: told to resync", sub._last)

    def _gap(self) -> bool:
        """Whether a held batch waits for an earlier commit."""
        with self.lock:
            return bool(self._held)

    def _remove(self, sub: Subscription) -> None:
        with self.lock:
            self._subs.discard(sub)

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            woken = self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            if woken and not self._look:
                # Only a local commit out of order: its predecessor is most likely being
                # published by another thread right now. Read the log only if it is not.
                self._stop.wait(self.gap_grace)
                if not self._gap() and not self._look:
                    continue
            self._look = False
            try:
                self.poll()
                delay = 0.5
            except Exception:
                log.warning(
                    "reading the event log failed; retrying in %.1f s", delay, exc_info=True
                )
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _contiguous(batch: list[Event]) -> bool:
    return all(b.seq == a.seq + 1 for a, b in itertools.pairwise(batch))
