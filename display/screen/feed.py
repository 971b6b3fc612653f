"""Where the hall screen's data comes from: the center's event stream and its status endpoint.

``ScreenFeed`` is a QObject living in the GUI thread. It starts an event source
(``devices.client.stream.EventStream``: WebSocket, token in the first message, resumed from
the last seq after any reconnect) and a refresher thread of its own; both emit Qt signals,
which Qt queues to the GUI thread, so receivers never run in a worker thread:

* ``event_received(StreamEvent)``: every event, in seq order, each once;
* ``snapshot_received(Snapshot)``: ``GET /api/v1/status`` (waiting counts, estimates, window
  states), plus ``GET /api/v1/display/recent`` after each (re)connect, tagged with the seq
  the stream had reached before the request (``Snapshot.mark``);
* ``link_changed(Link)``: whether the stream is subscribed (checked every ``link_check_s``).

The refresher reads the status after each (re)connect, soon after every ``ticket.*`` or
``window.*`` event (at most every ``min_refresh_s``) and every ``refresh_s`` otherwise, and
sends a heartbeat every ``heartbeat_s``. A failing center is logged and retried; it never
raises into Qt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QObject, Signal

from devices.client.models import HallStatus, RecentCall
from devices.client.stream import Connected, StreamEvent, StreamStatus
from display.screen.model import LINK_DOWN, LINK_STARTING, LINK_UNAUTHORIZED, Link, Snapshot

log = logging.getLogger(__name__)

SCREEN_KINDS = ("ticket.", "window.")
"""Event kinds the screen subscribes to."""

EventCallback = Callable[[StreamEvent], None]
ConnectCallback = Callable[[Connected], None]


class EventSource(Protocol):
    """Delivers the center's events in seq order, each once (``EventStream`` or a fake)."""

    def start(self, on_event: EventCallback, on_connect: ConnectCallback | None = None) -> None:
        """Start delivering; ``on_connect`` runs before the first event of each connection."""

    def stop(self) -> None:
        """Stop delivering."""

    @property
    def status(self) -> StreamStatus:
        """Snapshot of the connection."""


class StatusReader(Protocol):
    """The center's read models (``CenterClient`` or a fake)."""

    def hall_status(self) -> HallStatus:
        """``GET /api/v1/status``."""

    def recent_calls(self, limit: int = 10) -> list[RecentCall]:
        """``GET /api/v1/display/recent``."""

    def heartbeat(self) -> None:
        """``POST /api/v1/devices/heartbeat``."""


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """Timings of the feed."""

    refresh_s: float = 5.0
    """Status read at least this often."""
    min_refresh_s: float = 0.1
    """...and at most this often after events."""
    retry_s: float = 1.0
    """Wait after a failed read."""
    link_check_s: float = 0.1
    heartbeat_s: float = 30.0
    recent: int = 10
    """Calls read from ``/api/v1/display/recent`` after a (re)connect."""


def link_of(status: StreamStatus) -> Link:
    """What the screen says about a stream in ``status``."""
    if status.available:
        return Link(True)
    if status.unauthorized:
        return Link(False, LINK_UNAUTHORIZED)
    if status.connects == 0 and not status.last_error:
        return Link(False, LINK_STARTING)
    return Link(False, LINK_DOWN)


class ScreenFeed(QObject):
    """Events and status of the center, delivered as Qt signals to the GUI thread."""

    event_received = Signal(object)
    snapshot_received = Signal(object)
    link_changed = Signal(object)

    def __init__(
        self,
        source: EventSource,
        reader: StatusReader,
        options: FeedOptions | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self.reader = reader
        self.options = options or FeedOptions()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._want_recent = False
        self._connect_mark: int | None = None
        self._due = 0.0
        """Monotonic time the next status read is due."""
        self._link: Link | None = None
        self._failing = False
        self.checks = 0
        """Rounds of the refresher (each checks the link)."""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe and start refreshing (returns at once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._due = 0.0
        self._thread = threading.Thread(target=self._run, name="hallq-screen-feed", daemon=True)
        self._thread.start()
        self.source.start(self._on_event, self._on_connect)

    def stop(self) -> None:
        """Stop the stream and the refresher."""
        self._stop.set()
        self._wake.set()
        try:
            self.source.stop()
        except Exception:
            log.exception("stopping the event stream failed")
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def link(self) -> Link | None:
        """The link as last reported."""
        return self._link

    # --- the stream's thread --------------------------------------------------------------

    def _on_event(self, event: StreamEvent) -> None:
        self.event_received.emit(event)
        if event.kind.startswith(SCREEN_KINDS):
            self._request(self.options.min_refresh_s)

    def _on_connect(self, connected: Connected) -> None:
        with self._lock:
            self._want_recent = True
            self._connect_mark = connected.head if connected.head is not None else connected.since
        self._request(0.0)
        self._check_link()

    def _request(self, after: float) -> None:
        """Read the status ``after`` seconds from now at the latest."""
        with self._lock:
            self._due = min(self._due, time.monotonic() + after)
        self._wake.set()

    # --- the refresher thread -------------------------------------------------------------

    def _run(self) -> None:
        next_beat = time.monotonic() + self.options.heartbeat_s
        while not self._stop.is_set():
            self._wake.wait(self._wait())
            self._wake.clear()
            if self._stop.is_set():
                return
            self._check_link()
            self.checks += 1
            now = time.monotonic()
            if now >= self._due and self._up():
                self._refresh()
            if now >= next_beat:
                next_beat = now + self.options.heartbeat_s
                self._beat()

    def _up(self) -> bool:
        link = self._link
        return link is None or link.available

    def _wait(self) -> float:
        """Seconds until the next link check or due read (a due read waits for the link)."""
        with self._lock:
            until_due = self._due - time.monotonic()
        if until_due <= 0 and not self._up():
            return self.options.link_check_s
        return max(0.0, min(until_due, self.options.link_check_s))

    def _refresh(self) -> None:
        with self._lock:
            recent, connect_mark = self._want_recent, self._connect_mark
            self._due = time.monotonic() + self.options.refresh_s
        mark = connect_mark if recent else self.source.status.last_seq
        try:
            status = self.reader.hall_status()
            calls = self.reader.recent_calls(self.options.recent) if recent else None
        except Exception as exc:  # the center may fail in any way: never into Qt
            with self._lock:
                self._due = time.monotonic() + self.options.retry_s
            if not self._failing:
                log.warning("reading the hall status failed: %s", exc)
            self._failing = True
            return
        if self._failing:
            log.info("hall status readable again")
        self._failing = False
        with self._lock:
            if recent and self._connect_mark == connect_mark:
                self._want_recent = False
        self.snapshot_received.emit(Snapshot(mark, status, calls))

    def _beat(self) -> None:
        try:
            self.reader.heartbeat()
        except Exception as exc:
            log.debug("heartbeat failed: %s", exc)

    def _check_link(self) -> None:
        try:
            link = link_of(self.source.status)
        except Exception:
            log.exception("reading the stream status failed")
            return
        with self._lock:  # emitted under the lock: two threads check, the order holds
            if link == self._link:
                return
            self._link = link
            if link.available:
                log.info("center link up")
            else:
                level = logging.INFO if link.message == LINK_STARTING else logging.WARNING
                log.log(level, "center link: %s", link.message)
            self.link_changed.emit(link)
