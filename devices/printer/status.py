"""ESC/POS status: the queries hallq sends and pure parsers of the one-byte replies.

Real-time status, ``DLE EOT n`` (``10 04 n``), is answered at once, even while the printer
is offline or its buffer is full (Epson ESC/POS reference, "DLE EOT"). Every reply byte has
bits 1 and 4 set and bits 0 and 7 clear (``byte & 0x93 == 0x12``), which tells it from
other bytes on the line:

    n=1 printer status   bit 2 drawer pin 3 high, bit 3 offline, bit 5 waiting for
                         online recovery, bit 6 paper feed button pressed
    n=2 offline cause    bit 2 cover open, bit 3 paper fed by button, bit 5 printing
                         stopped at paper end, bit 6 error
    n=3 error cause      bit 2 recoverable error, bit 3 autocutter error, bit 5
                         unrecoverable error, bit 6 auto-recoverable error
    n=4 roll paper       bits 2+3 near end (0x0C), bits 5+6 paper end (0x60)

``GS r 1`` (``1D 72 01``) sends the paper sensor status *when the printer reaches it in its
buffer*: bits 0+1 near end (0x03), bit 4 clear. A paper-end printer goes offline and never
answers it, so its reply is hallq's proof that everything sent before it was printed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DLE_EOT = b"\x10\x04"
GS_R = b"\x1d\x72"


class StatusQuery(enum.IntEnum):
    """``DLE EOT n``: which real-time status to send."""

    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    ROLL_PAPER = 4

    @property
    def command(self) -> bytes:
        """The bytes that ask for it."""
        return DLE_EOT + bytes((self.value,))


GS_R_PAPER = GS_R + b"\x01"
"""``GS r 1``: paper sensor status, in buffer order (the job confirmation)."""

STATUS_MASK = 0x93
STATUS_FIXED = 0x12


class BadStatusByte(ValueError):
    """A byte that is not a DLE EOT reply (fixed bits wrong)."""


def is_status_byte(value: int) -> bool:
    """True if ``value`` has the fixed bits of a DLE EOT reply."""
    return value & STATUS_MASK == STATUS_FIXED


def _checked(value: int) -> int:
    if not 0 <= value <= 0xFF or not is_status_byte(value):
        raise BadStatusByte(f"{value:#04x} is not a DLE EOT status byte")
    return value


class PaperLevel(enum.Enum):
    """What the roll paper sensors say."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"


@dataclass(frozen=True)
class PrinterFlags:
    """``DLE EOT 1``."""

    online: bool
    drawer_pin_high: bool
    waiting_recovery: bool
    feed_button: bool


@dataclass(frozen=True)
class OfflineCause:
    """``DLE EOT 2``."""

    cover_open: bool
    feeding_by_button: bool
    paper_end_stop: bool
    error: bool


@dataclass(frozen=True)
class ErrorCause:
    """``DLE EOT 3``."""

    recoverable: bool
    autocutter: bool
    unrecoverable: bool
    auto_recoverable: bool


def parse_printer(value: int) -> PrinterFlags:
    """Parse the reply to ``DLE EOT 1``."""
    v = _checked(value)
    return PrinterFlags(
        online=not v & 0x08,
        drawer_pin_high=bool(v & 0x04),
        waiting_recovery=bool(v & 0x20),
        feed_button=bool(v & 0x40),
    )


def parse_offline_cause(value: int) -> OfflineCause:
    """Parse the reply to ``DLE EOT 2``."""
    v = _checked(value)
    return OfflineCause(
        cover_open=bool(v & 0x04),
        feeding_by_button=bool(v & 0x08),
        paper_end_stop=bool(v & 0x20),
        error=bool(v & 0x40),
    )


def parse_error_cause(value: int) -> ErrorCause:
    """Parse the reply to ``DLE EOT 3``."""
    v = _checked(value)
    return ErrorCause(
        recoverable=bool(v & 0x04),
        autocutter=bool(v & 0x08),
        unrecoverable=bool(v & 0x20),
        auto_recoverable=bool(v & 0x40),
    )


def parse_roll_paper(value: int) -> PaperLevel:
    """Parse the reply to ``DLE EOT 4``; either bit of a sensor pair counts."""
    v = _checked(value)
    if v & 0x60:
        return PaperLevel.OUT
    if v & 0x0C:
        return PaperLevel.NEAR_END
    return PaperLevel.OK


def is_gs_r_reply(value: int) -> bool:
    """True if ``value`` can be the reply to ``GS r 1`` (bits 4 and 7 clear)."""
    return 0 <= value <= 0xFF and not value & 0x90


def parse_gs_r_paper(value: int) -> PaperLevel:
    """Parse the reply to ``GS r 1`` (paper end is never reported: see module doc)."""
    if not is_gs_r_reply(value):
        raise BadStatusByte(f"{value:#04x} is not a GS r 1 reply")
    if value & 0x0C:
        return PaperLevel.OUT
    return PaperLevel.NEAR_END if value & 0x03 else PaperLevel.OK


class PrinterState(enum.Enum):
    """The printer as the kiosk sees it."""

    READY = "ready"
    PAPER_LOW = "paper_low"
    """Near end: still prints; tell the center so someone brings a roll."""
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    ERROR = "error"
    """Cutter jam, head temperature, or another error the printer reports."""
    OFFLINE = "offline"
    """Offline for a reason the printer does not tell."""
    NO_REPLY = "no_reply"
    """Cannot be opened, or does not answer status queries (off, unplugged)."""
    UNCHECKED = "unchecked"
    """The transport has no way back (file): nothing can be known, printing is attempted."""

    @property
    def can_print(self) -> bool:
        """True if a ticket may be sent in this state."""
        return self in PRINTABLE


PRINTABLE = frozenset({PrinterState.READY, PrinterState.PAPER_LOW, PrinterState.UNCHECKED})


@dataclass(frozen=True)
class PrinterStatus:
    """An immutable snapshot of what the printer said."""

    state: PrinterState
    detail: str = ""
    paper: PaperLevel | None = None
    replies: bytes = b""
    """The raw reply bytes, in query order (for logs and fault reports)."""

    @property
    def available(self) -> bool:
        """True if a ticket may be printed now."""
        return self.state.can_print


def summarize(
    printer: int,
    paper: int,
    offline: int | None = None,
    error: int | None = None,
) -> PrinterStatus:
    """One state from the replies to DLE EOT 1, 4 and (when offline) 2 and 3."""
    flags = parse_printer(printer)
    level = parse_roll_paper(paper)
    replies = bytes(b for b in (printer, paper, offline, error) if b is not None)
    cause = parse_offline_cause(offline) if offline is not None else None
    fault = parse_error_cause(error) if error is not None else None
    if level is PaperLevel.OUT or (cause is not None and cause.paper_end_stop):
        return PrinterStatus(PrinterState.PAPER_OUT, "paper out", PaperLevel.OUT, replies)
    if cause is not None and cause.cover_open:
        return PrinterStatus(PrinterState.COVER_OPEN, "cover open", level, replies)
    if fault is not None and (fault.autocutter or fault.unrecoverable or fault.recoverable):
        what = [
            name
            for name, on in (
                ("autocutter error", fault.autocutter),
                ("unrecoverable error", fault.unrecoverable),
                ("recoverable error", fault.recoverable),
            )
            if on
        ]
        return PrinterStatus(PrinterState.ERROR, ", ".join(what), level, replies)
    if (cause is not None and cause.error) or (fault is not None and fault.auto_recoverable):
        return PrinterStatus(PrinterState.ERROR, "printer error", level, replies)
    if not flags.online:
        return PrinterStatus(PrinterState.OFFLINE, "offline", level, replies)
    if level is PaperLevel.NEAR_END:
        return PrinterStatus(PrinterState.PAPER_LOW, "paper near end", level, replies)
    return PrinterStatus(PrinterState.READY, "", level, replies)
