"""The display controller: center events in, LED text and announcements out; keys and ratings back.

One owner per hall (Home Assistant's coordinator habit): the controller owns the bus masters,
the event source and the announcer, keeps an immutable ``HallView`` and renders it. Threads
of its own:

* the **worker** applies center events in order, renders strips, keypads, evaluators and
  hall boards (only what changed), queues announcements, and runs timers (a call flashes
  for ``flash_s``); it is the only writer of the view;
* the **housekeeper** turns port and device states into fault/recovery reports;
* the **center poller** refreshes the queue lengths on the hall board (at most once per
  ``waiting_interval_s``) and sends a heartbeat;
* each bus master's event thread calls ``_on_bus_event``: a key press or rating becomes a
  report queued in a durable outbox before the device is acknowledged.

A device or bus failure never stops the controller: errors are logged and shown as device
states (``status()``); the bus masters reopen lost ports by themselves (``reopen_s``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from config.schema import HallConfig
from devices.bus import (
    BusMaster,
    DeviceKind,
    DeviceState,
    DeviceStatus,
    Effect,
    PortState,
)
from devices.client import CenterError
from devices.client.stream import Connected, StreamEvent, StreamStatus
from display.announcer import Announcer
from display.hall import DeviceRef, HallDevices
from display.inputs import BusInputs
from display.reports import Reports
from display.sources import CenterReader, EventSource
from display.view import (
    CALL_KINDS,
    HallView,
    WindowStatus,
    WindowView,
    apply,
    board_lines,
    strip_lines,
    waiting_notice,
    window_from_center,
)

log = logging.getLogger(__name__)

SUBSCRIBED_KINDS = ("ticket.", "window.", "evaluation.")


@dataclass(frozen=True)
class ControllerOptions:
    """Tuning of the controller."""

    flash_s: float = 8.0
    """A new call flashes on its strip this long, then shows steady."""
    waiting_interval_s: float = 1.0
    """Queue lengths on the hall board are fetched at most this often."""
    heartbeat_s: float = 30.0
    housekeeping_s: float = 0.2
    offline_grace_s: float = 2.0
    """A device is reported offline once silent this long while its port is open."""
    call_first_s: float = 0.5
    """After a call, other devices wait at most this long for the window's strip to confirm."""
    resync_retry_s: float = 2.0
    invite_timeout_s: float = 60.0
    """Used when an ``evaluation.invited`` event carries no expiry."""


@dataclass(frozen=True)
class ControllerStatus:
    """Immutable snapshot of everything the controller depends on."""

    stream: StreamStatus
    ports: Mapping[str, PortState]
    devices: Mapping[tuple[str, int], DeviceStatus]
    pending_reports: int
    announcements: int

    @property
    def available(self) -> bool:
        """Subscribed to the center and every port open."""
        return self.stream.available and all(p is PortState.OPEN for p in self.ports.values())


_Item = tuple[str, Any, float]
"""(what, payload, monotonic arrival time) on the worker's queue."""


class DisplayController:
    """Drives a hall's LED devices and announcements from the center's events."""

    def __init__(
        self,
        cfg: HallConfig,
        buses: Mapping[str, BusMaster],
        source: EventSource,
        reports: Reports,
        center: CenterReader | None = None,
        announcer: Announcer | None = None,
        options: ControllerOptions | None = None,
    ) -> None:
        self.cfg = cfg
        self.buses = dict(buses)
        self.source = source
        self.reports = reports
        self.center = center
        self.announcer = announcer
        self.options = options or ControllerOptions(
            invite_timeout_s=cfg.evaluation.invite_timeout_seconds
        )
        self.devices = HallDevices.from_config(cfg)
        self._inputs = BusInputs(self.devices, reports, self.buses, lambda w: self._view.window(w))
        boards = self.devices.of(DeviceKind.HALL_BOARD)
        names = {w.number: w.name for w in cfg.windows}
        self._view = HallView(
            windows={n: WindowView(n, name) for n, name in names.items()},
            keep=max([r.lines for r in boards] or [1]),
        )
        self._prefixes = {s.prefix: s for s in cfg.services}
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_ids = itertools.count()
        self._flashing: dict[int, float] = {}
        self._shown: dict[tuple[str, int], Any] = {}
        self._invites: dict[int, list[tuple[DeviceRef, int]]] = {}
        self._faults: set[tuple[str, int | None]] = set()
        self._ports: dict[str, PortState] = {}
        self._offline_since: dict[tuple[str, int], float] = {}
        self._waiting_due = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the buses, the announcer, the threads, then subscribe to the center."""
        self._stop.clear()
        self.reports.start()
        if self.announcer is not None:
            self.announcer.start()
        for name, master in self.buses.items():
            master.set_event_handler(functools.partial(self._inputs.handle, name))
            master.start()
        threads = ((self._work, "worker"), (self._housekeep, "housekeeper"),
                   (self._poll_center, "center"))  # fmt: skip
        for target, name in threads:
            thread = threading.Thread(target=target, name=f"hallq-display-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._queue.put(("render_all", None, time.monotonic()))
        self.source.start(self.submit, self._on_connect)

    def stop(self) -> None:
        """Stop everything started by ``start``."""
        self.source.stop()
        self._stop.set()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        for master in self.buses.values():
            master.set_event_handler(None)
            master.stop()
        if self.announcer is not None:
            self.announcer.stop()
        self.reports.stop()

    def __enter__(self) -> DisplayController:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # inputs ----------------------------------------------------------------------------------

    def submit(self, event: StreamEvent) -> None:
        """A center event (from the event source's thread); handled in order on the worker."""
        self._queue.put(("event", event, time.monotonic()))

    def _on_connect(self, info: Connected) -> None:
        log.info("subscribed to the center after seq %s (gap %s s)", info.since, info.gap_s)
        self._queue.put(("resync", None, time.monotonic()))

    @property
    def view(self) -> HallView:
        """What the devices are meant to show now."""
        return self._view

    def status(self) -> ControllerStatus:
        """Snapshot of the stream, ports, devices, outbox and announcer."""
        devices = {
            (name, address): state
            for name, master in self.buses.items()
            for address, state in master.device_states().items()
        }
        return ControllerStatus(
            self.source.status,
            {name: master.port_state for name, master in self.buses.items()},
            devices,
            self.reports.pending(),
            self.announcer.pending if self.announcer is not None else 0,
        )

    # the worker ------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            timeout = None
            if self._timers:
                timeout = max(0.0, self._timers[0][0] - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = ("timer", None, time.monotonic())
            if item is None:
                return
            try:
                self._run_timers()
                self._handle(*item)
            except Exception:
                log.exception("display controller: failed on %s", item[0])

    def _handle(self, what: str, payload: Any, arrived: float) -> None:
        if what == "event":
            self._on_event(payload, arrived)
        elif what == "resync":
            self._resync()
        elif what == "waiting":
            self._view = replace(self._view, waiting=tuple(payload))
            self._render_boards()
        elif what == "render_all":
            self._render_all()

    def _after(self, delay: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._timer_ids), action))

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, action = heapq.heappop(self._timers)
            action()

    def _on_event(self, event: StreamEvent, arrived: float) -> None:
        before = self._view
        self._view = apply(before, event)
        window = event.window
        if event.kind.startswith("ticket."):
            self._waiting_due.set()
        if window is None:
            return
        if event.kind in CALL_KINDS:
            self._flash(window)
            self._render_strips(window)
            if not event.stale:
                self._announce(window, arrived)
            self._when_strips_synced(window, lambda: self._render_rest(window))
            return
        if event.kind == "evaluation.invited" and not event.stale:
            self._invite(window, event)
        elif event.kind in ("evaluation.rated", "evaluation.not_rated", "window.closed"):
            self._cancel_invites(window)
        if self._view.windows.get(window) != before.windows.get(window):
            self._render_window(window)

    def _resync(self) -> None:
        """Read the center's current state (after each (re)connection)."""
        if self.center is None:
            return
        try:
            rows = self.center.windows()
            recent = self.center.recent(self._view.keep)
        except CenterError as exc:
            log.warning("cannot read the hall's state from the center (%s); retrying", exc)
            self._after(self.options.resync_retry_s, lambda: self._queue.put(("resync", None, 0)))
            return
        windows = dict(self._view.windows)
        for row in rows:
            w = window_from_center(row, self._service_of(row.get("current")))
            windows[w.number] = replace(w, name=w.name or windows.get(w.number, w).name)
        self._view = replace(self._view, windows=windows, recent=tuple(recent))
        self._waiting_due.set()
        self._render_all()

    # rendering -------------------------------------------------------------------------------

    def _render_all(self) -> None:
        for number in self._view.windows:
            self._render_window(number)
        self._render_boards()

    def _render_window(self, number: int) -> None:
        self._render_strips(number)
        self._render_keypads_evaluators(number)

    def _render_rest(self, number: int) -> None:
        """What follows a call once its strip has it: keypad, evaluator, hall board."""
        self._render_keypads_evaluators(number)
        self._render_boards()

    def _render_strips(self, number: int) -> None:
        w = self._view.window(number)
        service = self.cfg.services_by_code.get(w.service or "") or (
            self._prefixes.get(_prefix(w.current)) if w.current else None
        )
        effect = Effect.FLASH if number in self._flashing else Effect.STEADY
        for ref in self.devices.of(DeviceKind.WINDOW_STRIP, number):
            lines = strip_lines(w, service.name if service else None, ref.lines)
            self._write(ref, (tuple(lines), effect), lambda m, r, v: m.set_strip(r, v[0], v[1]))

    def _render_keypads_evaluators(self, number: int) -> None:
        w = self._view.window(number)
        for ref in self.devices.of(DeviceKind.KEYPAD, number):
            self._write(ref, w.current or "", lambda m, r, v: m.keypad_display(r, v))
        staff = self.cfg.staff_by_number.get(w.staff or "")
        on_duty = staff is not None and w.status is not WindowStatus.CLOSED
        shown = (staff.name, staff.number, 5) if staff is not None and on_duty else ("", "", 0)
        for ref in self.devices.of(DeviceKind.EVALUATOR, number):
            self._write(ref, shown, lambda m, r, v: m.evaluator_show_staff(r, *v))

    def _when_strips_synced(self, number: int, action: Callable[[], None]) -> None:
        """Run ``action`` once window ``number``'s strips confirm what they show (or later).

        A bus master serves its devices' writes round-robin: the strip of a new call goes
        first, and the hall board's and keypad's updates follow, instead of delaying it.
        """
        deadline = time.monotonic() + self.options.call_first_s
        strips = self.devices.of(DeviceKind.WINDOW_STRIP, number)

        def check() -> None:
            if time.monotonic() >= deadline or all(self._synced(ref) for ref in strips):
                action()
            else:
                self._after(0.002, check)

        check()

    def _synced(self, ref: DeviceRef) -> bool:
        master = self.buses.get(ref.bus)
        state = master.device_states().get(ref.address) if master is not None else None
        return state is None or state.synced or not state.available

    def _render_boards(self) -> None:
        notice = waiting_notice(self._view.waiting)
        for ref in self.devices.of(DeviceKind.HALL_BOARD):
            lines = tuple(board_lines(self._view.recent, ref.lines))
            self._write(ref, (lines, notice), lambda m, r, v: m.set_board(r, v[0], v[1]))

    def _write(
        self, ref: DeviceRef, value: Any, write: Callable[[BusMaster, int, Any], None]
    ) -> None:
        """Send ``value`` to a device unless it already has it; a failure is logged, not raised."""
        key = (ref.bus, ref.address)
        if self._shown.get(key) == value:
            return
        master = self.buses.get(ref.bus)
        if master is None:
            return
        try:
            write(master, ref.address, value)
        except Exception as exc:
            log.error("%s %d on bus %s: %s", ref.kind.value, ref.address, ref.bus, exc)
            return
        self._shown[key] = value

    def _flash(self, window: int) -> None:
        until = time.monotonic() + self.options.flash_s
        self._flashing[window] = until

        def settle() -> None:
            if self._flashing.get(window) == until:
                del self._flashing[window]
                self._render_window(window)

        self._after(self.options.flash_s, settle)

    def _announce(self, window: int, arrived: float) -> None:
        if self.announcer is None or not self.cfg.voice.enabled:
            return
        w = self._view.window(window)
        if w.current is None:
            return
        service = self.cfg.services_by_code.get(w.service or "")
        self.announcer.announce(w.current, window, service=service.name if service else "",
                                window_name=w.name, enqueued=arrived)  # fmt: skip

    def _invite(self, window: int, event: StreamEvent) -> None:
        timeout = self.options.invite_timeout_s
        expires = event.data.get("expires_at")
        if isinstance(expires, str) and event.at is not None:
            with contextlib.suppress(TypeError, ValueError):
                timeout = (dt.datetime.fromisoformat(expires) - event.at).total_seconds()
        self._cancel_invites(window)
        for ref in self.devices.of(DeviceKind.EVALUATOR, window):
            master = self.buses.get(ref.bus)
            if master is None:
                continue
            try:
                invitation = master.evaluator_invite(ref.address, max(1.0, timeout))
            except Exception as exc:
                log.error("evaluator %d on bus %s: invite failed: %s", ref.address, ref.bus, exc)
                continue
            self._invites.setdefault(window, []).append((ref, invitation))

    def _cancel_invites(self, window: int) -> None:
        for ref, invitation in self._invites.pop(window, []):
            try:
                self.buses[ref.bus].evaluator_cancel(ref.address, invitation)
            except Exception as exc:
                log.error("evaluator %d on bus %s: cancel failed: %s", ref.address, ref.bus, exc)

    def _service_of(self, number: Any) -> str | None:
        if not isinstance(number, str):
            return None
        service = self._prefixes.get(_prefix(number))
        return service.code if service else None

    # the housekeeper -------------------------------------------------------------------------

    def _housekeep(self) -> None:
        """Port and device states → fault and recovery reports."""
        while not self._stop.wait(self.options.housekeeping_s):
            try:
                self._check_devices()
            except Exception:
                log.exception("display housekeeping failed")

    def _poll_center(self) -> None:
        """Queue lengths for the hall board, and the heartbeat (slow calls: not the housekeeper's)."""
        next_beat = time.monotonic()
        next_waiting = 0.0
        while not self._stop.wait(self.options.housekeeping_s):
            now = time.monotonic()
            try:
                if self._waiting_due.is_set() and now >= next_waiting:
                    self._waiting_due.clear()
                    next_waiting = now + self.options.waiting_interval_s
                    self._refresh_waiting()
                if now >= next_beat and self.center is not None:
                    next_beat = now + self.options.heartbeat_s
                    self.center.heartbeat()
            except CenterError as exc:
                log.debug("center not reachable: %s", exc)
            except Exception:
                log.exception("reading the center failed")

    def _refresh_waiting(self) -> None:
        if self.center is None:
            return
        try:
            waiting = self.center.waiting()
        except CenterError:
            self._waiting_due.set()
            raise
        if tuple(waiting) != self._view.waiting:
            self._queue.put(("waiting", waiting, time.monotonic()))

    def _check_devices(self) -> None:
        now = time.monotonic()
        for name, master in self.buses.items():
            port = master.port_state
            was = self._ports.get(name, PortState.CLOSED)
            self._ports[name] = port
            if port is PortState.REOPENING and was is not PortState.REOPENING:
                self._report_fault((name, None), "bus.port_lost", f"bus {name}: serial port lost")
            elif port is PortState.OPEN and was is not PortState.OPEN:
                self._report_recovery((name, None), "bus.port_lost", f"bus {name}: port back")
            if port is not PortState.OPEN:  # the port fault says it all
                self._offline_since = {k: t for k, t in self._offline_since.items() if k[0] != name}
                continue
            for address, state in master.device_states().items():
                self._check_device(name, address, state, now)

    def _check_device(self, bus: str, address: int, state: DeviceStatus, now: float) -> None:
        """Report a device silent for ``offline_grace_s`` while its port is open, and its return."""
        key = (bus, address)
        ref = self.devices.at(bus, address)
        where = {"bus": bus, "address": address, "kind": state.kind.value,
                 "window": ref.window if ref else None}  # fmt: skip
        label = f"{state.kind.value} {address} on bus {bus}"
        if state.state is DeviceState.OFFLINE:
            since = self._offline_since.setdefault(key, now)
            if now - since >= self.options.offline_grace_s:
                self._report_fault(key, "bus.device_offline", f"{label} offline: {state.detail}",
                                   **where)  # fmt: skip
        elif state.state is DeviceState.ONLINE:
            self._offline_since.pop(key, None)
            self._report_recovery(key, "bus.device_offline", f"{label} online", **where)

    def _report_fault(
        self, key: tuple[str, int | None], code: str, message: str, **detail: Any
    ) -> None:
        if key in self._faults:
            return
        self._faults.add(key)
        log.warning("%s", message)
        self.reports.fault(
            code, message[:200], **{k: v for k, v in detail.items() if v is not None}
        )

    def _report_recovery(
        self, key: tuple[str, int | None], code: str, message: str, **detail: Any
    ) -> None:
        if key not in self._faults:
            return
        self._faults.discard(key)
        log.info("%s", message)
        self.reports.recovery(
            code, message[:200], **{k: v for k, v in detail.items() if v is not None}
        )


def _prefix(number: str | None) -> str:
    return "".join(c for c in (number or "") if c.isalpha()).upper()
