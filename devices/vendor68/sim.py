"""Simulated vendor68 keypads and evaluators behind a pty.

Devices speak unprompted: a key press or rating becomes a frame that the device repeats
every ``ack_timeout_s`` until the host acknowledges it, at most ``max_attempts`` times.
Faults: ``corrupt_ratio`` flips bits either way; ``drop_ratio`` loses a device frame on the
wire or a host frame before the device sees it; ``unplug()``/``replug()`` as for hallbus.
"""

from __future__ import annotations

import os
import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import TypeVar

from devices.bus.model import DeviceKind, Key, Rating
from devices.bus.simwire import Faults, SimThread
from devices.bus.timing import LineTiming
from devices.vendor68 import protocol as p
from devices.vendor68.frames import FrameParser, V68Frame


@dataclass
class Outgoing:
    """A frame a device repeats until acknowledged."""

    frame: V68Frame
    ack: V68Frame
    attempts: int = 0
    next_try: float = 0.0


class SimV68Device:
    """Common behaviour: an outbox of frames awaiting acknowledgement."""

    kind = DeviceKind.KEYPAD

    def __init__(self, address: int, *, ack_timeout_s: float = 0.3, max_attempts: int = 6) -> None:
        self.address = address
        self.ack_timeout_s = ack_timeout_s
        self.max_attempts = max_attempts
        self.lock = threading.Lock()
        self.outbox: deque[Outgoing] = deque()
        self.acked = 0
        self.given_up = 0

    def queue(self, frame: V68Frame, ack: V68Frame) -> None:
        """Send ``frame`` until ``ack`` comes back."""
        with self.lock:
            self.outbox.append(Outgoing(frame, ack))

    def due(self, now: float) -> V68Frame | None:
        """The frame to (re)send now, if any."""
        with self.lock:
            if not self.outbox or now < self.outbox[0].next_try:
                return None
            head = self.outbox[0]
            if head.attempts >= self.max_attempts:
                self.outbox.popleft()
                self.given_up += 1
                return None
            head.attempts += 1
            head.next_try = now + self.ack_timeout_s
            return head.frame

    def receive(self, frame: V68Frame) -> None:
        """A host frame addressed to this device."""
        with self.lock:
            if self.outbox and frame == self.outbox[0].ack:
                self.outbox.popleft()
                self.acked += 1
                return
        self.command(frame)

    def command(self, frame: V68Frame) -> None:
        """A host command (subclasses)."""

    @property
    def idle(self) -> bool:
        """True when nothing waits for an acknowledgement."""
        with self.lock:
            return not self.outbox


class SimV68Keypad(SimV68Device):
    """A vendor caller keypad with a six-digit display."""

    kind = DeviceKind.KEYPAD

    def __init__(self, address: int, **kwargs: float) -> None:
        super().__init__(address, **kwargs)  # type: ignore[arg-type]
        self.shown = ""
        self.beeps = 0

    def press_key(self, key: Key, argument: int = 0) -> None:
        """A clerk presses a key."""
        frame = p.key_frame(self.address, key, argument)
        self.queue(frame, p.key_ack(frame))

    def command(self, frame: V68Frame) -> None:
        """Display digits or beep."""
        if frame.func == p.FUNC_DISPLAY and len(frame.data) == p.DISPLAY_DIGITS:
            self.shown = "".join(" " if d == p.BLANK_DIGIT else str(d) for d in frame.data).strip()
        elif frame.func == p.FUNC_BEEP:
            self.beeps += 1


class SimV68Evaluator(SimV68Device):
    """A vendor evaluator: stars, a rating prompt, rating keys."""

    kind = DeviceKind.EVALUATOR

    def __init__(self, address: int, **kwargs: float) -> None:
        super().__init__(address, **kwargs)  # type: ignore[arg-type]
        self.stars = 5
        self.prompting = False
        self._values = {v: k for k, v in p.DEFAULT_RATING_MAP.items()}

    def rate(self, rating: Rating) -> None:
        """A citizen presses a rating key (the device sends it whether prompted or not)."""
        frame = V68Frame(self.address, p.FUNC_RATING, bytes((self._values[rating],)))
        self.queue(frame, p.rating_ack(frame))
        self.prompting = False

    def command(self, frame: V68Frame) -> None:
        """Stars or start a rating."""
        if frame.func == p.FUNC_DISPLAY and len(frame.data) == 1:
            self.stars = frame.data[0]
        elif frame.func == p.FUNC_START_OR_ACK and frame.data == bytes((p.START_RATING,)):
            self.prompting = True


D = TypeVar("D", bound=SimV68Device)


class SimV68Bus(SimThread):
    """Vendor devices on one simulated RS-485 segment."""

    def __init__(
        self,
        baudrate: int = 9600,
        *,
        link_path: str | os.PathLike[str] | None = None,
        faults: Faults | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(link_path, faults or Faults(rng=random.Random(seed)))
        self.timing = LineTiming(baudrate, latency_s=0.0)
        self.devices: dict[int, SimV68Device] = {}
        self._parser = FrameParser()
        self._bus_free = 0.0
        self.host_frames = 0

    def add(self, device: D) -> D:
        """Put ``device`` on the bus."""
        self.devices[device.address] = device
        return device

    def on_bytes(self, data: bytes, now: float) -> None:
        """Host frames reach their device (unless dropped)."""
        self._bus_free = max(self._bus_free, now) + self.timing.wire_time(len(data))
        for item in self._parser.feed(data):
            if not isinstance(item, V68Frame):
                continue
            self.host_frames += 1
            device = self.devices.get(item.address)
            if device is not None and not self.faults.drop():
                device.receive(item)
        self.on_idle(now)

    def on_idle(self, now: float) -> None:
        """Devices with something to say send it, one frame at a time."""
        for device in list(self.devices.values()):
            frame = device.due(now)
            if frame is None:
                continue
            raw = frame.encode()
            when = max(self._bus_free, now) + self.timing.wire_time(len(raw))
            self._bus_free = when
            if not self.faults.drop():
                self.send_at(when, raw)

    def on_unplug(self) -> None:
        """Forget partial input."""
        self._parser.reset()
