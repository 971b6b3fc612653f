"""Key presses and ratings from the buses, turned into reports to the center.

Runs on the bus masters' event threads: a report is queued in a durable outbox before the
handler returns, and only then does the master acknowledge the event to the device, so a
press is neither lost (a crash before queueing leaves it latched on the device) nor counted
twice (the outbox's idempotency key).

Keypad keys map to the center's key names (``KEY_ACTIONS``). A keypad has no "finish" key:
"call next" pressed while the window serves a ticket finishes it first, as callers in the
field do. Keys the center's keypad API has no counterpart for (transfer, hold, call held)
beep twice and are not reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from devices.bus import BusEvent, BusMaster, EventKind, Key, Rating
from display.hall import HallDevices
from display.reports import Reports
from display.view import WindowView

log = logging.getLogger(__name__)

KEY_ACTIONS: Mapping[Key, str] = {
    Key.CALL_NEXT: "next",
    Key.RECALL: "recall",
    Key.SKIP: "skip",
    Key.PAUSE: "pause",
    Key.RESUME: "resume",
    Key.INVITE_EVALUATION: "evaluate",
}
"""Keypad keys → the center's key names (``POST /api/v1/windows/{n}/keys``)."""
RATING_LEVELS: Mapping[Rating, int] = {
    Rating.VERY_SATISFIED: 5,
    Rating.SATISFIED: 4,
    Rating.BASICALLY_SATISFIED: 3,
    Rating.DISSATISFIED: 2,
    Rating.VERY_DISSATISFIED: 1,
}


class BusInputs:
    """The event handler of every bus master of a hall."""

    def __init__(
        self,
        devices: HallDevices,
        reports: Reports,
        buses: Mapping[str, BusMaster],
        window_view: Callable[[int], WindowView],
    ) -> None:
        self.devices = devices
        self.reports = reports
        self.buses = buses
        self.window_view = window_view

    def handle(self, bus: str, event: BusEvent) -> bool:
        """A key press or rating: queue its report, then let the device be acknowledged."""
        ref = self.devices.at(bus, event.address)
        window = event.window if event.window is not None else (ref.window if ref else None)
        if window is None:
            log.error("%s from address %d on bus %s, which has no window: ignored",
                      event.kind.value, event.address, bus)  # fmt: skip
            return True
        if event.kind is EventKind.KEY and event.key is not None:
            self._key(bus, event.address, event.key, window)
        elif event.kind is EventKind.RATING and event.rating is not None:
            level = RATING_LEVELS.get(event.rating)
            if level is None:  # 未评价: the center closes its own invitation when it expires
                log.info("window %d: invitation %s ended unrated", window, event.invitation)
            else:
                self.reports.rating(window, level)
        elif event.kind is EventKind.INVITE_FAILED:
            log.warning("window %d: the evaluator could not show invitation %s",
                        window, event.invitation)  # fmt: skip
        return True

    def _key(self, bus: str, address: int, key: Key, window: int) -> None:
        action = KEY_ACTIONS.get(key)
        if action is None:
            log.warning("window %d: the %s key has no counterpart in the center's keypad API",
                        window, key.value)  # fmt: skip
            self._beep(bus, address, 2)
            return
        if key is Key.CALL_NEXT and self.window_view(window).current is not None:
            self.reports.key(window, "finish")
        self.reports.key(window, action)

    def _beep(self, bus: str, address: int, count: int) -> None:
        master = self.buses.get(bus)
        if master is None:
            return
        try:
            master.beep(address, count)
        except Exception as exc:
            log.debug("cannot beep %d on bus %s: %s", address, bus, exc)
