"""ledchain adapter: a BusMaster for chained LED boards (``01 ADDR text 07``, field compatibility).

Boards neither reply nor check what they receive, so the driver can only pace and repeat:
one command at a time, at least ``pacing_s`` (≥ 300 ms) apart, changed texts first, and
every board's text again every ``refresh_s`` so a command damaged on the wire is repaired by
the next one. Board state is UNKNOWN for ever: nothing answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from devices.bus.api import BusMaster, EventHandler, UnsupportedOperation
from devices.bus.model import DeviceKind, DeviceSpec, DeviceState, DeviceStatus, Effect, PortState
from devices.bus.port import PortLink, PortLost, SerialFactory
from devices.bus.text import displayable
from devices.bus.timing import LineTiming
from devices.ledchain.frames import compose, encode_frame

log = logging.getLogger(__name__)
MIN_PACING_S = 0.3


@dataclass(frozen=True)
class LedChainOptions:
    """Tuning of the ledchain adapter."""

    pacing_s: float = MIN_PACING_S
    refresh_s: float = 30.0
    separator: str = "  "
    reopen_s: float = 0.5

    def __post_init__(self) -> None:
        if self.pacing_s < MIN_PACING_S:
            raise ValueError(f"chained boards need at least {MIN_PACING_S} s between commands")


@dataclass
class Board:
    """What one board should show."""

    spec: DeviceSpec
    frame: bytes | None = None
    changed: bool = False
    refresh_due: float = 0.0
    sent: bool = False


class LedChainMaster(BusMaster):
    """Chained LED boards on one port (strips and hall boards alike)."""

    def __init__(
        self,
        url: str,
        baudrate: int = 9600,
        devices: Sequence[DeviceSpec] = (),
        options: LedChainOptions | None = None,
        serial_factory: SerialFactory | None = None,
    ) -> None:
        super().__init__(devices)
        for spec in self._specs.values():
            if spec.kind not in (DeviceKind.WINDOW_STRIP, DeviceKind.HALL_BOARD):
                raise ValueError(f"ledchain has no {spec.kind.value} (address {spec.address})")
        self.options = options or LedChainOptions()
        self.timing = LineTiming(baudrate)
        self._port = PortLink(url, baudrate, factory=serial_factory)
        self._boards = {a: Board(s) for a, s in self._specs.items()}
        self._order = sorted(self._boards)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port_state = PortState.CLOSED
        self.sent_at: list[float] = []
        """Start times of the last commands written (diagnostics; bounded)."""

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"ledchain {self._port.url}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop and close the port."""
        thread, self._thread = self._thread, None
        self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout=5)
        self._port.close()
        self._port_state = PortState.CLOSED

    @property
    def port_state(self) -> PortState:
        """State of the serial port."""
        return self._port_state

    def set_strip(self, address: int, lines: Sequence[str], effect: Effect = Effect.STEADY) -> None:
        """Show ``lines`` joined by the separator (effects are the board's own setting)."""
        self._require(address, DeviceKind.WINDOW_STRIP, DeviceKind.HALL_BOARD)
        self._set(address, compose(list(lines), separator=self.options.separator))

    def set_board(self, address: int, lines: Sequence[str], notice: str = "") -> None:
        """Show ``lines`` and ``notice`` joined by the separator."""
        self._require(address, DeviceKind.WINDOW_STRIP, DeviceKind.HALL_BOARD)
        self._set(address, compose(list(lines), notice, self.options.separator))

    def evaluator_show_staff(self, address: int, name: str, staff_number: str, stars: int) -> None:
        """No evaluators on an LED chain."""
        raise UnsupportedOperation("ledchain drives LED boards only")

    def evaluator_invite(self, address: int, timeout_s: float) -> int:
        """No evaluators on an LED chain."""
        raise UnsupportedOperation("ledchain drives LED boards only")

    def evaluator_cancel(self, address: int, invitation: int | None = None) -> None:
        """No evaluators on an LED chain."""
        raise UnsupportedOperation("ledchain drives LED boards only")

    def keypad_display(self, address: int, number: str | int) -> None:
        """No keypads on an LED chain."""
        raise UnsupportedOperation("ledchain drives LED boards only")

    def set_event_handler(self, handler: EventHandler | None) -> None:
        """LED boards send no events; accepted for interface compatibility."""

    def device_states(self) -> Mapping[int, DeviceStatus]:
        """UNKNOWN for every board; ``synced`` means sent at least once since the last change."""
        with self._lock:
            return {
                a: DeviceStatus(a, b.spec.kind, DeviceState.UNKNOWN, b.sent and not b.changed)
                for a, b in self._boards.items()
            }

    def _set(self, address: int, text: str) -> None:
        frame = encode_frame(address, displayable(text))
        with self._lock:
            board = self._boards[address]
            if frame != board.frame:
                board.frame, board.changed = frame, True
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._port.is_open:
                if not self._port.open():
                    if self._port_state is PortState.CLOSED:
                        log.warning(
                            "cannot open %s (%s); retrying", self._port.url, self._port.last_error
                        )
                    self._port_state = PortState.REOPENING
                    self._stop.wait(self.options.reopen_s)
                    continue
                self._port_state = PortState.OPEN
            try:
                self._send_next()
            except PortLost:
                self._port_state = PortState.REOPENING
            except Exception:
                log.exception("ledchain on %s: unexpected error", self._port.url)
                self._stop.wait(0.1)

    def _send_next(self) -> None:
        with self._lock:
            frame = self._pick(time.monotonic())
        if frame is None:
            self._wake.wait(0.05)
            self._wake.clear()
            self._port.discard_input()
            return
        start = time.monotonic()
        self._port.write(frame)
        self.sent_at = [*self.sent_at[-63:], start]
        self._stop.wait(self.timing.wire_time(len(frame)) + self.options.pacing_s)

    def _pick(self, now: float) -> bytes | None:
        changed = [self._boards[a] for a in self._order if self._boards[a].changed]
        due = [b for b in self._boards.values() if b.frame is not None and now >= b.refresh_due]
        board = changed[0] if changed else (min(due, key=lambda b: b.refresh_due) if due else None)
        if board is None or board.frame is None:
            return None
        board.changed, board.sent = False, True
        board.refresh_due = now + self.options.refresh_s
        return board.frame
