"""vendor68 adapter: a BusMaster for vendor keypads and 4/5-key evaluators (field compatibility).

Vendor devices are not polled: they send a frame when a key is pressed and, as far as the
public source shows, repeat it until the host acknowledges (keypad: the frame echoed;
evaluator: FUNC 0x01 with the same value). The host acknowledges only after the event
handler accepted the event. The protocol has no sequence numbers, so a frame identical to
the last one accepted from that device less than ``dedupe_s`` ago is taken as a repetition
and only acknowledged again (two presses of one key within ``dedupe_s`` count once). Host writes (keypad digits, stars, start rating) draw no reply; the desired display
is rewritten every ``refresh_s``. 未评价 is decided by the host when an invitation times out.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from devices.bus.api import BusMaster, EventHandler, UnsupportedOperation
from devices.bus.dispatch import EventDispatcher
from devices.bus.model import (
    BusEvent,
    DeviceKind,
    DeviceSpec,
    DeviceState,
    DeviceStatus,
    Effect,
    EventKind,
    PortState,
    Protocol,
    Rating,
)
from devices.bus.port import PortLink, PortLost, SerialFactory
from devices.bus.timing import LineTiming
from devices.vendor68 import protocol as p
from devices.vendor68.frames import FrameParser, V68Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Vendor68Options:
    """Tuning of the vendor68 adapter."""

    dedupe_s: float = 2.0
    refresh_s: float = 10.0
    frame_gap_s: float = 0.01
    reopen_s: float = 0.5
    rating_map: Mapping[int, Rating] = field(default_factory=lambda: dict(p.DEFAULT_RATING_MAP))


class InviteState(enum.Enum):
    """Where a host-side invitation stands."""

    OPEN = "open"
    IN_FLIGHT = "in_flight"
    DONE = "done"


@dataclass
class Invitation:
    """An invitation the host tracks for a vendor evaluator."""

    id: int
    deadline: float
    state: InviteState = InviteState.OPEN


@dataclass
class V68Device:
    """Host-side state of one vendor device."""

    spec: DeviceSpec
    state: DeviceState = DeviceState.UNKNOWN
    last_seen: float | None = None
    display: V68Frame | None = None
    display_sent: bool = True
    refresh_due: float = 0.0
    last_accepted: tuple[bytes, float] | None = None
    """The last key frame the handler accepted, and when: a repetition of it is no new press."""
    in_flight: set[bytes] = field(default_factory=set)
    invitation: Invitation | None = None


class Vendor68Master(BusMaster):
    """Vendor keypads and evaluators on one port."""

    def __init__(
        self,
        url: str,
        baudrate: int = 9600,
        devices: Sequence[DeviceSpec] = (),
        options: Vendor68Options | None = None,
        serial_factory: SerialFactory | None = None,
    ) -> None:
        super().__init__(devices)
        for spec in self._specs.values():
            if spec.kind not in (DeviceKind.KEYPAD, DeviceKind.EVALUATOR):
                raise ValueError(f"vendor68 has no {spec.kind.value} (address {spec.address})")
        self.options = options or Vendor68Options()
        self.timing = LineTiming(baudrate)
        self._port = PortLink(url, baudrate, factory=serial_factory)
        self._parser = FrameParser()
        self._devices = {a: V68Device(s) for a, s in self._specs.items()}
        self._acks: deque[V68Frame] = deque()
        self._actions: deque[V68Frame] = deque()
        self._host_events: list[tuple[float, BusEvent]] = []
        self._invitation = 0
        self._next_send = 0.0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dispatcher = EventDispatcher(self._on_handled, name=f"vendor68-events {url}")
        self._port_state = PortState.CLOSED

    # lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the bus thread."""
        if self._thread is None:
            self._stop.clear()
            self._dispatcher.start()
            self._thread = threading.Thread(
                target=self._run, name=f"vendor68 {self._port.url}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop and close the port."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout=5)
        self._dispatcher.stop()
        self._port.close()
        self._port_state = PortState.CLOSED

    @property
    def port_state(self) -> PortState:
        """State of the serial port."""
        return self._port_state

    # outputs ------------------------------------------------------------------------------

    def set_strip(self, address: int, lines: Sequence[str], effect: Effect = Effect.STEADY) -> None:
        """vendor68 has no LED strips."""
        raise UnsupportedOperation("vendor68 drives keypads and evaluators only")

    def set_board(self, address: int, lines: Sequence[str], notice: str = "") -> None:
        """vendor68 has no hall boards."""
        raise UnsupportedOperation("vendor68 drives keypads and evaluators only")

    def evaluator_show_staff(self, address: int, name: str, staff_number: str, stars: int) -> None:
        """Only the stars reach a vendor evaluator; name and 工号 are not shown."""
        self._require(address, DeviceKind.EVALUATOR)
        self._set_display(address, p.stars_frame(address, stars))

    def keypad_display(self, address: int, number: str | int) -> None:
        """Show up to six digits (letters are dropped: "A012" shows 012)."""
        self._require(address, DeviceKind.KEYPAD)
        self._set_display(address, p.display_frame(address, number))

    def beep(self, address: int, count: int = 1) -> None:
        """Sound a keypad's buzzer."""
        self._require(address, DeviceKind.KEYPAD)
        with self._lock:
            self._actions.extend(p.beep_frame(address) for _ in range(count))

    def evaluator_invite(self, address: int, timeout_s: float) -> int:
        """Start a rating; the host decides 未评价 after ``timeout_s``."""
        self._require(address, DeviceKind.EVALUATOR)
        with self._lock:
            self._invitation = self._invitation % 0xFFFF + 1
            dev = self._devices[address]
            if dev.invitation is not None and dev.invitation.state is InviteState.OPEN:
                self._close_unrated(dev, time.monotonic())
            dev.invitation = Invitation(self._invitation, time.monotonic() + timeout_s)
            self._actions.append(p.start_rating_frame(address))
            return self._invitation

    def evaluator_cancel(self, address: int, invitation: int | None = None) -> None:
        """Forget the invitation; later rating presses are acknowledged and ignored."""
        self._require(address, DeviceKind.EVALUATOR)
        with self._lock:
            dev = self._devices[address]
            if dev.invitation is not None and invitation in (None, dev.invitation.id):
                dev.invitation = None

    def _set_display(self, address: int, frame: V68Frame) -> None:
        with self._lock:
            dev = self._devices[address]
            dev.display, dev.display_sent, dev.refresh_due = frame, False, 0.0

    # events and state ---------------------------------------------------------------------

    def set_event_handler(self, handler: EventHandler | None) -> None:
        """Register the handler of BusEvents."""
        self._dispatcher.set_handler(handler)

    def device_states(self) -> Mapping[int, DeviceStatus]:
        """UNKNOWN until a device has been heard (vendor devices cannot be asked)."""
        with self._lock:
            return {
                a: DeviceStatus(a, d.spec.kind, d.state, d.display_sent, None, d.last_seen)
                for a, d in self._devices.items()
            }

    # bus thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._port.is_open and not self._reopen():
                continue
            try:
                self._cycle()
            except PortLost:
                self._port_state = PortState.REOPENING
                self._parser.reset()
            except Exception:
                log.exception("vendor68 on %s: unexpected error", self._port.url)
                self._stop.wait(0.1)

    def _reopen(self) -> bool:
        if self._port.open():
            self._port_state = PortState.OPEN
            with self._lock:
                for dev in self._devices.values():
                    dev.refresh_due = 0.0
            return True
        if self._port_state is PortState.CLOSED:
            log.warning("cannot open %s (%s); retrying", self._port.url, self._port.last_error)
        self._port_state = PortState.REOPENING
        self._stop.wait(self.options.reopen_s)
        return False

    def _cycle(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            frame = self._next_out(now) if now >= self._next_send else None
        if frame is not None:
            raw = frame.encode()
            self._port.write(raw)
            self._next_send = now + self.timing.wire_time(len(raw)) + self.options.frame_gap_s
        data = self._port.read_some()
        if not data:
            return
        now = time.monotonic()
        for item in self._parser.feed(data):
            if isinstance(item, V68Frame):
                with self._lock:
                    self._on_frame(item, now)
            else:
                log.debug("vendor68 skipped %s: %s", item.data.hex(" "), item.reason)

    def _next_out(self, now: float) -> V68Frame | None:
        if self._acks:
            return self._acks.popleft()
        if self._actions:
            return self._actions.popleft()
        for dev in self._devices.values():
            if dev.display is not None and now >= dev.refresh_due:
                dev.refresh_due = now + self.options.refresh_s
                dev.display_sent = True
                return dev.display
        return None

    def _on_frame(self, frame: V68Frame, now: float) -> None:
        dev = self._devices.get(frame.address)
        if dev is None:
            log.debug("vendor68 frame from unconfigured address %d", frame.address)
            return
        dev.state, dev.last_seen = DeviceState.ONLINE, now
        meaning = p.interpret(frame)
        if isinstance(meaning, p.KeyInput) and dev.spec.kind is DeviceKind.KEYPAD:
            self._on_key(dev, frame, meaning, now)
        elif isinstance(meaning, p.RatingInput) and dev.spec.kind is DeviceKind.EVALUATOR:
            self._on_rating(dev, frame, meaning)
        else:
            log.debug("vendor68 %s at %d: ignored %s", dev.spec.kind.value, frame.address, meaning)

    def _on_key(self, dev: V68Device, frame: V68Frame, key: p.KeyInput, now: float) -> None:
        raw = frame.encode()
        if raw in dev.in_flight:
            return
        last = dev.last_accepted
        if last is not None and last[0] == raw and now - last[1] < self.options.dedupe_s:
            self._acks.append(p.key_ack(frame))
            return
        dev.in_flight.add(raw)
        event = BusEvent(dev.spec.address, EventKind.KEY, DeviceKind.KEYPAD, key=key.key,
                         argument=key.argument, window=dev.spec.window, protocol=Protocol.VENDOR68)  # fmt: skip
        self._dispatcher.submit(("key", dev.spec.address, raw, frame), event)

    def _on_rating(self, dev: V68Device, frame: V68Frame, rating: p.RatingInput) -> None:
        inv = dev.invitation
        level = self.options.rating_map.get(rating.value)
        if inv is None or inv.state is not InviteState.OPEN or level is None:
            if inv is None or inv.state is not InviteState.IN_FLIGHT:
                self._acks.append(p.rating_ack(frame))
            log.debug("vendor68 evaluator %d: rating %d ignored", dev.spec.address, rating.value)
            return
        inv.state = InviteState.IN_FLIGHT
        event = BusEvent(dev.spec.address, EventKind.RATING, DeviceKind.EVALUATOR, rating=level,
                         invitation=inv.id, window=dev.spec.window, protocol=Protocol.VENDOR68)  # fmt: skip
        self._dispatcher.submit(("rating", dev.spec.address, inv, frame), event)

    def _on_handled(self, token: object, accepted: bool) -> None:
        assert isinstance(token, tuple)
        now = time.monotonic()
        with self._lock:
            if token[0] == "host":
                if not accepted:
                    self._host_events.append((now + 0.5, token[1]))
                return
            what, address, ref, frame = token
            dev = self._devices[address]
            if what == "key":
                dev.in_flight.discard(ref)
                if accepted:
                    dev.last_accepted = (ref, now)
                    self._acks.append(p.key_ack(frame))
                return
            ref.state = InviteState.DONE if accepted else InviteState.OPEN
            if accepted:
                self._acks.append(p.rating_ack(frame))

    def _expire(self, now: float) -> None:
        for dev in self._devices.values():
            inv = dev.invitation
            if inv is not None and inv.state is InviteState.OPEN and now >= inv.deadline:
                self._close_unrated(dev, now)
        due = [e for e in self._host_events if e[0] <= now]
        self._host_events = [e for e in self._host_events if e[0] > now]
        for _, event in due:
            self._dispatcher.submit(("host", event), event)

    def _close_unrated(self, dev: V68Device, now: float) -> None:
        assert dev.invitation is not None
        dev.invitation.state = InviteState.DONE
        event = BusEvent(dev.spec.address, EventKind.RATING, DeviceKind.EVALUATOR, rating=Rating.NOT_RATED,
                         invitation=dev.invitation.id, window=dev.spec.window, protocol=Protocol.VENDOR68)  # fmt: skip
        self._host_events.append((now, event))
