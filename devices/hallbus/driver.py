"""hallbus bus master: one port, one thread, every device on the bus (docs/protocols/hallbus.md).

The thread loops: expire stale actions, then one write if any device has one (writes go
before polls), else one poll (or a probe of an offline device when its re-probe is due).
Desired output is kept per device as "slots" and rewritten until the device confirms it, so
LED contents converge after any fault; events go to the handler through an
``EventDispatcher`` and are acknowledged in the next poll only once the handler accepted them.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from devices.bus.api import BusMaster, EventHandler
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
)
from devices.bus.port import PortLink, PortLost, SerialFactory
from devices.bus.text import displayable
from devices.bus.timing import LineTiming
from devices.hallbus.link import HallbusLink, LinkStats, NoReply
from devices.hallbus.protocol import (
    EFFECT_CODES,
    DeviceEvent,
    EventType,
    Identity,
    Message,
    PayloadError,
    identity_of,
    request,
    status_of,
)
from devices.hallbus.state import Action, DeviceRuntime, EventDecision

log = logging.getLogger(__name__)

IDENTIFY = Message("identify")
BEEP_TTL_S = 5.0


@dataclass(frozen=True)
class MasterOptions:
    """Tuning of a hallbus master; the defaults suit a 9600-baud hall bus."""

    retries: int = 3
    """Attempts after the first before a device is declared offline."""
    reprobe_s: float = 2.0
    reopen_s: float = 0.5
    input_poll_s: float = 0.02
    """Shortest interval between two polls of one keypad or evaluator."""
    output_poll_s: float = 1.0
    """Interval between polls of an LED strip or board (liveness and reset detection)."""
    turnaround_s: float = 0.005
    latency_s: float = 0.020
    invite_grace_s: float = 5.0
    seed: int | None = None


class HallbusMaster(BusMaster):
    """The hallbus bus master."""

    def __init__(
        self,
        url: str,
        baudrate: int = 9600,
        devices: Sequence[DeviceSpec] = (),
        options: MasterOptions | None = None,
        serial_factory: SerialFactory | None = None,
    ) -> None:
        super().__init__(devices)
        self.options = options or MasterOptions()
        self.timing = LineTiming(baudrate, turnaround_s=self.options.turnaround_s,
                                 latency_s=self.options.latency_s)  # fmt: skip
        self._port = PortLink(url, baudrate, factory=serial_factory)
        self._link = HallbusLink(self._port, self.timing)
        rng = random.Random(self.options.seed)
        self._devices = {a: DeviceRuntime(s, rng) for a, s in self._specs.items()}
        self._order = sorted(self._devices)
        self._rr = 0
        self._invitation = rng.randrange(1, 0x10000)
        self._bseq = rng.randrange(256)
        self._broadcasts: list[Message] = []
        self._host_events: list[tuple[float, BusEvent]] = []
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dispatcher = EventDispatcher(self._on_handled, name=f"hallbus-events {url}")
        self._port_state = PortState.CLOSED

    # lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the bus thread (the port is opened, and reopened, by that thread)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._dispatcher.start()
        self._thread = threading.Thread(
            target=self._run, name=f"hallbus {self._port.url}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the bus thread and close the port."""
        thread, self._thread = self._thread, None
        self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout=5)
        self._dispatcher.stop()
        self._port.close()
        self._port_state = PortState.CLOSED

    @property
    def port_state(self) -> PortState:
        """State of the serial port."""
        return self._port_state

    @property
    def stats(self) -> LinkStats:
        """Link counters (requests, attempts, timeouts, parse errors, stale replies)."""
        return self._link.stats

    # outputs ------------------------------------------------------------------------------

    def set_strip(self, address: int, lines: Sequence[str], effect: Effect = Effect.STEADY) -> None:
        """Show ``lines`` with ``effect`` on a window LED strip."""
        self._require(address, DeviceKind.WINDOW_STRIP)
        texts = tuple(_shown(line) for line in lines)
        self._set(
            address,
            "strip",
            {"strip": request("strip_set", effect=EFFECT_CODES[effect], lines=texts)},
        )

    def set_board(self, address: int, lines: Sequence[str], notice: str = "") -> None:
        """Show ``lines`` and a scrolling ``notice`` on a hall board (only changes are sent)."""
        self._require(address, DeviceKind.HALL_BOARD)
        count = len(lines)
        slots = {
            f"line:{i:02d}": request("board_line", index=i, count=count, text=_shown(t))
            for i, t in enumerate(lines)
        } or {"line:00": request("board_line", index=0, count=0, text="")}
        slots["notice"] = request("board_notice", text=_shown(notice))
        self._set(address, "", slots)

    def evaluator_show_staff(self, address: int, name: str, staff_number: str, stars: int) -> None:
        """Show name, 工号 and 0–5 stars on an evaluator."""
        self._require(address, DeviceKind.EVALUATOR)
        if not 0 <= stars <= 5:
            raise ValueError(f"stars must be 0–5, got {stars}")
        msg = request("staff_show", stars=stars, name=_shown(name), staff_number=staff_number)
        self._set(address, "staff", {"staff": msg})

    def keypad_display(self, address: int, number: str | int) -> None:
        """Show up to 8 ASCII characters on a keypad's display."""
        self._require(address, DeviceKind.KEYPAD)
        self._set(address, "display", {"display": request("keypad_display", text=str(number))})

    def evaluator_invite(self, address: int, timeout_s: float) -> int:
        """Invite a rating; its outcome (a rating, 未评价 or INVITE_FAILED) carries the id returned."""
        self._require(address, DeviceKind.EVALUATOR)
        seconds = min(max(1, math.ceil(timeout_s)), 0xFFFF)
        with self._lock:
            invitation = self._invitation = self._invitation % 0xFFFF + 1
            msg = request("invite", invitation=invitation, timeout_s=seconds)
            expires = time.monotonic() + seconds
            self._devices[address].actions.append(Action(msg, expires, invitation))
        self._wake.set()
        return invitation

    def evaluator_cancel(self, address: int, invitation: int | None = None) -> None:
        """Withdraw an invitation (the current one if None); no rating event follows it."""
        self._require(address, DeviceKind.EVALUATOR)
        with self._lock:
            dev = self._devices[address]
            for action in list(dev.actions):
                if action.invitation is not None and invitation in (None, action.invitation):
                    dev.actions.remove(action)
            for inv in [i for i in dev.invitations if invitation in (None, i)]:
                del dev.invitations[inv]
            msg = request("cancel", invitation=invitation or 0)
            dev.actions.append(Action(msg, time.monotonic() + BEEP_TTL_S))
        self._wake.set()

    def beep(self, address: int, count: int = 1) -> None:
        """Sound a keypad's or evaluator's buzzer ``count`` times."""
        self._require(address, DeviceKind.KEYPAD, DeviceKind.EVALUATOR)
        with self._lock:
            action = Action(request("beep", count=count), time.monotonic() + BEEP_TTL_S)
            self._devices[address].actions.append(action)
        self._wake.set()

    def set_brightness(self, level: int) -> None:
        """Broadcast an LED brightness level (0–15) to every device (sent twice, no reply)."""
        if not 0 <= level <= 15:
            raise ValueError(f"brightness must be 0–15, got {level}")
        with self._lock:
            self._broadcasts.append(request("brightness", level=level))
        self._wake.set()

    # events and state ---------------------------------------------------------------------

    def set_event_handler(self, handler: EventHandler | None) -> None:
        """Register the handler of BusEvents (None: events stay latched on their devices)."""
        self._dispatcher.set_handler(handler)

    def device_states(self) -> Mapping[int, DeviceStatus]:
        """Snapshot of every device."""
        with self._lock:
            return {a: d.snapshot() for a, d in self._devices.items()}

    # bus thread ---------------------------------------------------------------------------

    def _set(self, address: int, prefix: str, slots: dict[str, Message]) -> None:
        with self._lock:
            self._devices[address].set_slots(prefix, slots)
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._port.is_open and not self._reopen():
                continue
            try:
                self._step()
            except PortLost:
                self._port_lost()
            except Exception:
                log.exception("hallbus master on %s: unexpected error", self._port.url)
                self._stop.wait(0.1)

    def _reopen(self) -> bool:
        if self._port.open():
            self._port_state = PortState.OPEN
            with self._lock:
                for dev in self._devices.values():
                    dev.next_due = 0.0
            return True
        if self._port_state is PortState.CLOSED:
            log.warning("cannot open %s (%s); retrying every %.1f s", self._port.url,
                        self._port.last_error, self.options.reopen_s)  # fmt: skip
        self._port_state = PortState.REOPENING
        self._stop.wait(self.options.reopen_s)
        return False

    def _port_lost(self) -> None:
        self._port_state = PortState.REOPENING
        with self._lock:
            for dev in self._devices.values():
                dev.state = DeviceState.OFFLINE
                dev.detail = f"port lost: {self._port.last_error}"
                dev.next_due = 0.0

    def _step(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            broadcast = self._broadcasts.pop(0) if self._broadcasts else None
            write = None if broadcast else self._pick_write()
            target = None if broadcast or write else self._pick_poll(now)
        if broadcast is not None:
            self._bseq = (self._bseq + 1) & 0xFF
            self._link.broadcast(broadcast, self._bseq)
        elif write is not None:
            self._write(*write)
        elif target is not None:
            self._poll(target)
        else:
            self._idle(now)

    def _pick_write(self) -> tuple[DeviceRuntime, str | None, Message, Action | None] | None:
        n = len(self._order)
        for i in range(n):
            dev = self._devices[self._order[(self._rr + i) % n]]
            if dev.state is not DeviceState.ONLINE or not dev.has_writes:
                continue
            self._rr = (self._rr + i + 1) % n
            if dev.actions:
                action = dev.actions[0]
                return dev, None, action.message, action
            slot = dev.dirty_slot()
            assert slot is not None
            return dev, slot, dev.desired[slot], None
        return None

    def _pick_poll(self, now: float) -> DeviceRuntime | None:
        due = [d for d in self._devices.values() if d.next_due <= now]
        return min(due, key=lambda d: d.next_due) if due else None

    def _idle(self, now: float) -> None:
        with self._lock:
            upcoming = [d.next_due for d in self._devices.values()]
        wait = min([*upcoming, now + 0.1]) - now
        if wait > 0:
            self._wake.wait(wait)
        self._wake.clear()

    def _write(
        self, dev: DeviceRuntime, slot: str | None, msg: Message, action: Action | None
    ) -> None:
        with self._lock:
            seq = dev.next_seq()
        try:
            reply = self._link.request(
                dev.address, seq, msg, self.options.retries, dev.spec.kind.value
            )
        except NoReply as exc:
            self._failed(dev, exc)
            return
        now = time.monotonic()
        with self._lock:
            self._alive(dev, now)
            if reply.name == "error":
                dev.detail = f"{msg.name} refused: error {reply['error']}"
                log.error("%s at %d refused %s: error %s", dev.spec.kind.value, dev.address,
                          msg.name, reply["error"])  # fmt: skip
            if slot is not None:
                dev.confirm(slot, msg)
            elif dev.actions and dev.actions[0] is action:
                dev.actions.popleft()
                if action.invitation is not None and reply.name == "error":
                    self._host_event(dev, action.invitation, now)
                elif action.invitation is not None:
                    timeout = msg["timeout_s"] + self.options.invite_grace_s
                    dev.invitations[action.invitation] = now + timeout

    def _poll(self, dev: DeviceRuntime) -> None:
        with self._lock:
            seq = dev.next_seq()
            online = dev.state is DeviceState.ONLINE
            msg = request("poll", boot=dev.boot or 0, ack=dev.delivered) if online else IDENTIFY
            retries = 0 if dev.state is DeviceState.OFFLINE else self.options.retries
        try:
            reply = self._link.request(dev.address, seq, msg, retries, dev.spec.kind.value)
        except NoReply as exc:
            self._failed(dev, exc)
            return
        now = time.monotonic()
        with self._lock:
            interval = self.options.input_poll_s if dev.is_input else self.options.output_poll_s
            dev.next_due = now + interval
            try:
                if reply.name == "error":
                    log.error(
                        "%s at %d refused %s: %s",
                        dev.spec.kind.value,
                        dev.address,
                        msg.name,
                        reply.fields,
                    )
                elif online:
                    self._on_status(dev, reply, now)
                else:
                    self._on_identity(dev, identity_of(reply), now)
            except PayloadError as exc:
                log.error("%s at %d: %s", dev.spec.kind.value, dev.address, exc)

    def _failed(self, dev: DeviceRuntime, exc: NoReply) -> None:
        with self._lock:
            if dev.failed(time.monotonic(), self.options.reprobe_s, str(exc)):
                log.warning("%s; offline, re-probing every %.1f s", exc, self.options.reprobe_s)

    def _alive(self, dev: DeviceRuntime, now: float) -> None:
        if dev.alive(now):
            log.info("%s at address %d online", dev.spec.kind.value, dev.address)

    def _on_identity(self, dev: DeviceRuntime, ident: Identity, now: float) -> None:
        self._alive(dev, now)
        if dev.observe_boot(ident.boot):
            self._on_reset(dev, now)
        if ident.kind is not dev.spec.kind:
            dev.detail = f"reports kind {ident.kind_code}, configured {dev.spec.kind.value}"
            log.error("device at address %d: %s", dev.address, dev.detail)

    def _on_status(self, dev: DeviceRuntime, reply: Message, now: float) -> None:
        status = status_of(reply)
        self._alive(dev, now)
        if dev.observe_boot(status.boot):
            self._on_reset(dev, now)
        event = status.event
        if event is None:
            return
        decision = dev.on_event(event, now)
        if decision is EventDecision.DELIVER:
            bus_event = self._bus_event(dev, event)
            if bus_event is None:
                log.error(
                    "%s at %d: unknown event %s; acknowledged unseen",
                    dev.spec.kind.value,
                    dev.address,
                    event,
                )
                dev.handled(dev.boot, event.number, True, now)
            else:
                self._dispatcher.submit((dev.address, dev.boot, event.number, bus_event), bus_event)
        if status.pending > 1 or decision is EventDecision.DUPLICATE:
            dev.next_due = now

    def _on_reset(self, dev: DeviceRuntime, now: float) -> None:
        log.warning("%s at address %d was reset (boot %s); rewriting its state",
                    dev.spec.kind.value, dev.address, dev.boot)  # fmt: skip
        for invitation, deadline in sorted(dev.invitations.items()):
            remaining = deadline - self.options.invite_grace_s - now
            if remaining >= 1:
                msg = request("invite", invitation=invitation, timeout_s=math.ceil(remaining))
                dev.actions.appendleft(Action(msg, now + remaining, invitation))
            else:
                self._host_event(dev, invitation, now)
        dev.invitations.clear()

    def _bus_event(self, dev: DeviceRuntime, event: DeviceEvent) -> BusEvent | None:
        spec = dev.spec
        base = BusEvent(dev.address, EventKind.KEY, spec.kind, counter=event.number,
                        window=spec.window, protocol=Protocol.HALLBUS)  # fmt: skip
        if event.type is EventType.KEY and event.key is not None:
            return replace(base, key=event.key, argument=event.arg)
        if event.type is EventType.RATING and event.rating is not None:
            return replace(base, kind=EventKind.RATING, rating=event.rating, invitation=event.arg)
        return None

    def _on_handled(self, token: object, accepted: bool) -> None:
        if token is None or not isinstance(token, tuple):
            return
        if token[0] == "host":
            if not accepted:
                with self._lock:
                    self._host_events.append((time.monotonic() + 0.5, token[1]))
            return
        address, boot, number, event = token
        with self._lock:
            dev = self._devices[address]
            if dev.handled(boot, number, accepted, time.monotonic()):
                dev.next_due = 0.0
                if event.kind is EventKind.RATING:
                    dev.invitations.pop(event.invitation, None)
        self._wake.set()

    def _expire(self, now: float) -> None:
        for dev in self._devices.values():
            for action in [a for a in dev.actions if a.expires < now]:
                dev.actions.remove(action)
                log.warning("%s at %d: %s dropped, device unreachable", dev.spec.kind.value,
                            dev.address, action.message.name)  # fmt: skip
                if action.invitation is not None:
                    self._host_event(dev, action.invitation, now)
            for invitation, deadline in list(dev.invitations.items()):
                if now > deadline and (dev.state is not DeviceState.ONLINE or now > deadline + 30):
                    del dev.invitations[invitation]
                    self._host_event(dev, invitation, now)
        due = [e for e in self._host_events if e[0] <= now]
        self._host_events = [e for e in self._host_events if e[0] > now]
        for _, event in due:
            self._dispatcher.submit(("host", event), event)

    def _host_event(self, dev: DeviceRuntime, invitation: int, now: float) -> None:
        event = BusEvent(dev.address, EventKind.INVITE_FAILED, dev.spec.kind, invitation=invitation,
                         window=dev.spec.window, protocol=Protocol.HALLBUS)  # fmt: skip
        self._host_events.append((now, event))


def _shown(text: str) -> str:
    shown = displayable(text)
    if shown != text:
        log.warning("characters without a GB2312 code shown as □ in %r", text)
    return shown


__all__ = ["HallbusMaster", "MasterOptions", "NoReply"]
