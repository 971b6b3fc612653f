"""A subscription read from asyncio: catch-up pages in a worker thread, live batches on wake-up."""

from __future__ import annotations

import asyncio
import threading
import weakref

from center.engine.store import Event
from center.live.hub import Subscription


class LoopWaker:
    """Sets asyncio events of one loop from other threads, one loop wake-up per burst.

    A commit reaches every subscription of the process from the committing thread; with a
    wake-up each, ten displays cost ten cross-thread calls per event. Here the first one
    schedules a single callback on the loop and the rest join it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._pending: list[asyncio.Event] = []

    def wake(self, ready: asyncio.Event) -> None:
        """Set ``ready`` on the loop soon (from any thread)."""
        with self._lock:
            self._pending.append(ready)
            if len(self._pending) > 1:
                return  # a callback is scheduled already and will take this one too
        self.loop.call_soon_threadsafe(self._set_all)

    def _set_all(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for ready in pending:
            ready.set()


_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWaker] = (
    weakref.WeakKeyDictionary()
)


def loop_waker(loop: asyncio.AbstractEventLoop) -> LoopWaker:
    """The waker of ``loop`` (one per loop, made on first use; from the loop's thread)."""
    found = _wakers.get(loop)
    if found is None:
        found = _wakers[loop] = LoopWaker(loop)
    return found


class AsyncFeed:
    """Waits for a subscription's next batch without blocking the event loop."""

    def __init__(self, sub: Subscription, *, page: int = 500) -> None:
        waker = loop_waker(asyncio.get_running_loop())
        self.sub = sub
        self.page = page
        self._ready = asyncio.Event()
        ready = self._ready
        sub.set_waker(lambda: waker.wake(ready))

    async def next(self, timeout: float) -> list[Event] | None:
        """The next batch, or None if ``timeout`` seconds pass without one.

        The batch that ends the replay may be empty (check ``sub.live``); live batches are not.
        Raises what ``Subscription.read`` raises (``Overflowed``, ``SubscriptionClosed``).
        """
        while not self.sub.live:
            batch = await asyncio.to_thread(self.sub.read, self.page)
            if batch or self.sub.live:
                return batch
        while True:
            self._ready.clear()  # before reading: a batch queued after the read sets it again
            batch = self.sub.read(self.page)
            if batch:
                return batch
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return None

    def close(self) -> None:
        """Detach from the subscription (it may outlive the event loop)."""
        self.sub.set_waker(None)
