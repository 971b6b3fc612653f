"""Simulated chained LED boards behind a pty.

A board shows the text of the last command addressed to it. A command that starts less than
``min_gap_s`` after the previous one ended is lost (the chain is still busy) and counted in
``overruns``, so a test can prove the driver paces. Faults: ``corrupt_ratio`` (the boards
cannot tell: a damaged text is shown as received), ``drop_ratio`` (a command is lost).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

from devices.bus.simwire import Faults, SimThread
from devices.bus.timing import LineTiming
from devices.ledchain.frames import FrameParser, LedFrame


@dataclass
class SimLedBoard:
    """One board on the chain."""

    address: int
    shown: str = ""
    commands: int = 0


class SimLedChain(SimThread):
    """Boards chained on one simulated port."""

    def __init__(
        self,
        baudrate: int = 9600,
        *,
        link_path: str | os.PathLike[str] | None = None,
        faults: Faults | None = None,
        min_gap_s: float = 0.3,
        tolerance_s: float = 0.05,
        seed: int = 0,
    ) -> None:
        super().__init__(link_path, faults or Faults(rng=random.Random(seed)))
        self.timing = LineTiming(baudrate, latency_s=0.0)
        self.min_gap_s = min_gap_s
        self.tolerance_s = tolerance_s
        self.boards: dict[int, SimLedBoard] = {}
        self.overruns = 0
        self.parse_errors = 0
        self._parser = FrameParser()
        self._last_end: float | None = None

    def add(self, address: int) -> SimLedBoard:
        """Put a board at ``address`` on the chain."""
        board = self.boards[address] = SimLedBoard(address)
        return board

    def on_bytes(self, data: bytes, now: float) -> None:
        """Commands reach their board unless too early, dropped or not addressed to one."""
        for item in self._parser.feed(data):
            if isinstance(item, LedFrame):
                self._on_frame(item, now)
            else:
                self.parse_errors += 1

    def _on_frame(self, frame: LedFrame, now: float) -> None:
        start = now
        if (
            self._last_end is not None
            and start - self._last_end < self.min_gap_s - self.tolerance_s
        ):
            self.overruns += 1
            return
        self._last_end = start + self.timing.wire_time(len(frame.encode()))
        board = self.boards.get(frame.address)
        if board is None or self.faults.drop():
            return
        board.shown = frame.text
        board.commands += 1

    def on_unplug(self) -> None:
        """Forget partial input."""
        self._parser.reset()
