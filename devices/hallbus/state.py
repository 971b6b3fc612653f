"""What the hallbus master keeps per device: link state, event bookkeeping, desired output.

Pure bookkeeping: no I/O, no threads, no clock (callers pass ``now``). The master holds its
lock while it touches these objects.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from dataclasses import dataclass

from devices.bus.model import DeviceKind, DeviceSpec, DeviceState, DeviceStatus
from devices.hallbus.protocol import DeviceEvent, Message

INPUT_KINDS = frozenset({DeviceKind.EVALUATOR, DeviceKind.KEYPAD})


@dataclass
class Action:
    """A one-shot request (invite, cancel, beep) waiting for its turn on the bus."""

    message: Message
    expires: float
    """Dropped if it could not be sent by then."""
    invitation: int | None = None


class EventDecision(enum.Enum):
    """What the master does with the event a poll reply shows."""

    DELIVER = "deliver"
    DUPLICATE = "duplicate"
    """Already accepted: the ack was lost; the next poll acknowledges it again."""
    WAIT = "wait"
    """With the handler now, or rejected a moment ago."""


class DeviceRuntime:
    """State of one device as seen by the master."""

    def __init__(self, spec: DeviceSpec, rng: random.Random) -> None:
        self.spec = spec
        self.seq = rng.randrange(256)
        self.state = DeviceState.UNKNOWN
        self.boot: int | None = None
        self.failures = 0
        self.last_seen: float | None = None
        self.next_due = 0.0
        self.detail = ""
        self.delivered = 0
        """Number of the last event the handler accepted (sent as ``ack`` in every poll)."""
        self.in_flight = 0
        self.redeliver_at = 0.0
        self.desired: dict[str, Message] = {}
        self.confirmed: dict[str, Message] = {}
        self.actions: deque[Action] = deque()
        self.invitations: dict[int, float] = {}
        """Open invitations that reached the device: id → time to give up waiting."""

    @property
    def address(self) -> int:
        """The device's bus address."""
        return self.spec.address

    @property
    def is_input(self) -> bool:
        """Evaluators and keypads are polled every cycle; LED boards less often."""
        return self.spec.kind in INPUT_KINDS

    def next_seq(self) -> int:
        """Sequence number for a new request (retries reuse the previous one)."""
        self.seq = (self.seq + 1) & 0xFF
        return self.seq

    # outputs ------------------------------------------------------------------------------

    def set_slots(self, prefix: str, slots: dict[str, Message]) -> None:
        """Replace the desired slots whose names start with ``prefix``."""
        for name in [n for n in self.desired if n.startswith(prefix)]:
            if name not in slots:
                del self.desired[name]
                self.confirmed.pop(name, None)
        self.desired.update(slots)

    def dirty_slot(self) -> str | None:
        """First slot whose desired content the device has not confirmed."""
        for name, message in self.desired.items():
            if self.confirmed.get(name) != message:
                return name
        return None

    @property
    def has_writes(self) -> bool:
        """True when an action or an unconfirmed slot waits to be written."""
        return bool(self.actions) or self.dirty_slot() is not None

    def confirm(self, slot: str, message: Message) -> None:
        """The device acknowledged ``message`` for ``slot``."""
        self.confirmed[slot] = message

    # link ---------------------------------------------------------------------------------

    def observe_boot(self, boot: int) -> bool:
        """Record the device's boot id; True if it changed (the device was reset)."""
        changed = self.boot is not None and boot != self.boot
        self.boot = boot
        if changed:
            self.forget_device()
        return changed

    def forget_device(self) -> None:
        """The device lost (or may have lost) its state: rewrite everything, restart counting."""
        self.confirmed.clear()
        self.delivered = 0
        self.in_flight = 0
        self.redeliver_at = 0.0

    def alive(self, now: float) -> bool:
        """A good reply arrived; True if the device just came (back) online."""
        was = self.state
        self.state = DeviceState.ONLINE
        self.failures = 0
        self.last_seen = now
        self.detail = ""
        return was is not DeviceState.ONLINE

    def failed(self, now: float, reprobe_s: float, why: str) -> bool:
        """A request got no reply after its retries; True if the device just went offline."""
        self.failures += 1
        self.detail = why
        was = self.state
        self.state = DeviceState.OFFLINE
        self.next_due = now + reprobe_s
        return was is not DeviceState.OFFLINE

    # events -------------------------------------------------------------------------------

    def on_event(self, event: DeviceEvent, now: float) -> EventDecision:
        """Decide about the event at the head of the device's queue."""
        if event.number == self.delivered:
            return EventDecision.DUPLICATE
        if event.number == self.in_flight or now < self.redeliver_at:
            return EventDecision.WAIT
        self.in_flight = event.number
        return EventDecision.DELIVER

    def handled(self, boot: int | None, number: int, accepted: bool, now: float) -> bool:
        """The handler ran on event ``number`` of boot ``boot``; True if it now needs an ack."""
        if boot != self.boot or number != self.in_flight:
            return False
        self.in_flight = 0
        if accepted:
            self.delivered = number
            return True
        self.redeliver_at = now + 0.5
        return False

    # snapshot -----------------------------------------------------------------------------

    def snapshot(self) -> DeviceStatus:
        """Immutable status for ``device_states()``."""
        return DeviceStatus(
            address=self.address,
            kind=self.spec.kind,
            state=self.state,
            synced=self.dirty_slot() is None and not self.actions,
            boot=self.boot,
            last_seen=self.last_seen,
            failures=self.failures,
            detail=self.detail,
        )
