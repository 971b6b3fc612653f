"""The screen's owner in the GUI thread: feed signals in, one immutable ``ScreenState`` out.

``ScreenPresenter`` holds the ``ScreenModel`` and is its only writer. Its slots run in the
GUI thread (the feed's signals are queued there); after each change it emits
``changed(ScreenState)``, which the view renders. A failure while folding something in is
logged and the previous state kept: the screen never goes down with it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from devices.client.stream import StreamEvent
from display.screen.feed import ScreenFeed
from display.screen.model import Link, ScreenModel, ScreenState, Snapshot

log = logging.getLogger(__name__)


class ScreenPresenter(QObject):
    """Applies events, snapshots and link changes to the model; emits the new state."""

    changed = Signal(object)

    def __init__(
        self,
        model: ScreenModel,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.clock = clock

    @property
    def state(self) -> ScreenState:
        """The state shown now."""
        return self.model.state

    def attach(self, feed: ScreenFeed) -> None:
        """Listen to ``feed`` (its signals reach these slots in this object's thread)."""
        feed.event_received.connect(self.on_event)
        feed.snapshot_received.connect(self.on_snapshot)
        feed.link_changed.connect(self.on_link)

    @Slot(object)
    def on_event(self, event: StreamEvent) -> None:
        """One center event."""
        self._fold(lambda: self.model.apply(event, self.clock()), f"event #{event.seq}")

    @Slot(object)
    def on_snapshot(self, snapshot: Snapshot) -> None:
        """The center's read models."""
        self._fold(lambda: self.model.apply_snapshot(snapshot), "status")

    @Slot(object)
    def on_link(self, link: Link) -> None:
        """The center became reachable or not."""
        self._fold(lambda: self.model.set_link(link), "link")

    def set_notice(self, text: str) -> None:
        """Change the hall's notice line."""
        self._fold(lambda: self.model.set_notice(text), "notice")

    def _fold(self, change: Callable[[], bool], what: str) -> None:
        try:
            changed = change()
        except Exception:
            log.exception("the screen could not take in %s; keeping what it shows", what)
            return
        if changed:
            self.changed.emit(self.model.state)
