"""Delivery of bus events to the handler, on a thread of its own (pyserial's at_protocol habit).

The bus thread never waits for the handler: it submits an event with a token and goes on
polling. The dispatcher calls the handler and reports back, per token, whether the handler
accepted the event; only then does the bus master acknowledge it to the device.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from devices.bus.api import EventHandler
from devices.bus.model import BusEvent

log = logging.getLogger(__name__)

Outcome = Callable[[Any, bool], None]
"""Called with (token, accepted) after the handler ran."""


class EventDispatcher:
    """A queue of events and the thread that hands them to the handler."""

    def __init__(self, outcome: Outcome, name: str = "bus-events") -> None:
        self._outcome = outcome
        self._queue: queue.Queue[tuple[Any, BusEvent] | None] = queue.Queue()
        self._handler: EventHandler | None = None
        self._thread: threading.Thread | None = None
        self._name = name

    def set_handler(self, handler: EventHandler | None) -> None:
        """Set (or clear) the one event handler."""
        self._handler = handler

    @property
    def has_handler(self) -> bool:
        """True when a handler is registered."""
        return self._handler is not None

    def start(self) -> None:
        """Start the delivery thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the delivery thread; undelivered events stay latched on their devices."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=5)

    def submit(self, token: Any, event: BusEvent) -> None:
        """Queue ``event``; ``outcome(token, accepted)`` follows once the handler has run."""
        self._queue.put((token, event))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            token, event = item
            self._outcome(token, self._deliver(event))

    def _deliver(self, event: BusEvent) -> bool:
        handler = self._handler
        if handler is None:
            return False
        try:
            return handler(event) is not False
        except Exception:
            log.exception("event handler failed on %s; the event stays latched", event)
            return False
