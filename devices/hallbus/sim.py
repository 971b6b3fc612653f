"""A simulated hallbus: devices behind a pty, answering with faithful wire timing and faults.

Timing model: a request of n bytes read at time t occupies the wire until t + n·byte_time
(or later, if the wire was still busy); the reply becomes readable all at once after a
further ``turnaround_s`` + m·byte_time (+ ``faults.late_reply``). Faults: ``corrupt_ratio``
flips bits in bytes either way, ``drop_ratio`` loses a reply after the device executed the
request (so the reply cache is exercised), ``late_reply`` delays replies, ``reset(address)``
power-cycles one device, ``unplug()``/``replug()`` take the whole port away and back.

Usage::

    with SimBus(115200, link_path=tmp / "bus") as bus:
        pad = bus.add(SimKeypad(3))
        master = HallbusMaster(bus.path, 115200, [DeviceSpec(3, DeviceKind.KEYPAD)])
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import TypeVar

from devices.bus.simwire import Faults, SimThread
from devices.bus.timing import LineTiming
from devices.hallbus.frames import BROADCAST, MIN_FRAME, Frame, FrameParser, ParseError
from devices.hallbus.simdevices import SimBoard, SimDevice, SimEvaluator, SimKeypad, SimStrip

D = TypeVar("D", bound=SimDevice)


@dataclass
class SimStats:
    """What the simulated bus saw."""

    requests: int = 0
    replies: int = 0
    parse_errors: int = 0
    lost_replies: int = 0


class SimBus(SimThread):
    """hallbus devices on one simulated RS-485 segment."""

    def __init__(
        self,
        baudrate: int = 9600,
        *,
        link_path: str | os.PathLike[str] | None = None,
        faults: Faults | None = None,
        turnaround_s: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__(link_path, faults or Faults(rng=random.Random(seed)))
        self.timing = LineTiming(baudrate, turnaround_s=turnaround_s, latency_s=0.0)
        self.devices: dict[int, SimDevice] = {}
        self.stats = SimStats()
        self._parser = FrameParser()
        self._last_rx = 0.0
        self._bus_free = 0.0

    def add(self, device: D) -> D:
        """Put ``device`` on the bus."""
        self.devices[device.address] = device
        return device

    def reset(self, address: int) -> None:
        """Power-cycle the device at ``address``."""
        self.devices[address].reset()

    def strip(self, address: int) -> SimStrip:
        """The strip at ``address``."""
        return self._get(address, SimStrip)

    def board(self, address: int) -> SimBoard:
        """The board at ``address``."""
        return self._get(address, SimBoard)

    def evaluator(self, address: int) -> SimEvaluator:
        """The evaluator at ``address``."""
        return self._get(address, SimEvaluator)

    def keypad(self, address: int) -> SimKeypad:
        """The keypad at ``address``."""
        return self._get(address, SimKeypad)

    def _get(self, address: int, cls: type[D]) -> D:
        device = self.devices[address]
        if not isinstance(device, cls):
            raise TypeError(f"address {address} holds a {type(device).__name__}")
        return device

    # simulator thread ---------------------------------------------------------------------

    def on_bytes(self, data: bytes, now: float) -> None:
        """Parse requests; drop a partial frame after an inter-frame silence, as devices do."""
        if self._parser.pending and now - self._last_rx > self.timing.silence():
            self._parser.reset()
        self._last_rx = now
        for item in self._parser.feed(data):
            if isinstance(item, ParseError):
                self.stats.parse_errors += 1
            elif not item.is_reply:
                self._on_request(item, now)

    def on_idle(self, now: float) -> None:
        """Silence: forget a partial frame."""
        if self._parser.pending and now - self._last_rx > self.timing.silence():
            self._parser.reset()

    def on_unplug(self) -> None:
        """Forget partial input."""
        self._parser.reset()

    def _on_request(self, frame: Frame, now: float) -> None:
        self.stats.requests += 1
        start = max(now, self._bus_free)
        request_end = start + self.timing.wire_time(MIN_FRAME + len(frame.payload))
        self._bus_free = request_end
        if frame.address == BROADCAST:
            for device in list(self.devices.values()):
                device.handle(frame)
            return
        target = self.devices.get(frame.address)
        reply = target.handle(frame) if target is not None else None
        if reply is None:
            return
        if self.faults.drop():
            self.stats.lost_replies += 1
            return
        raw = reply.encode()
        when = request_end + self.timing.turnaround_s + self.timing.wire_time(len(raw))
        when += self.faults.delay()
        self._bus_free = when
        self.stats.replies += 1
        self.send_at(when, raw)
