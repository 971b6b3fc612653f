"""A subscription read from asyncio: catch-up pages in a worker thread, live batches on wake-up."""

from __future__ import annotations

import asyncio

from center.engine.store import Event
from center.live.hub import Subscription


class AsyncFeed:
    """Waits for a subscription's next batch without blocking the event loop."""

    def __init__(self, sub: Subscription, *, page: int = 500) -> None:
        loop = asyncio.get_running_loop()
        self.sub = sub
        self.page = page
        self._ready = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(self._ready.set)

        sub.set_waker(wake)

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
