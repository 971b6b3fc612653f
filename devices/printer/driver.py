"""The kiosk's ticket printer: one owner object, status before and after every ticket.

``TicketPrinter.print_ticket(image)`` asks the printer's status (DLE EOT 1 and 4, and 2/3
when it is offline), refuses to send when it cannot print, sends the ticket once
(``ESC @``, the image as ``GS v 0`` raster, feed and cut) followed by ``GS r 1``, waits for
that reply (the printer answers it only after printing everything before it) while polling
DLE EOT 1 to notice paper end early, and asks the status again. It never sends a ticket a
second time: after any failure the kiosk shows the ticket on screen (docs/protocols/printer.md).

Failures are typed: ``PrinterOffline``, ``PaperOut``, ``PrintFailed`` (all ``PrinterError``),
each with the status, whether it was found before or after sending, and whether any byte of
the ticket reached the printer.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from devices.printer.status import (
    GS_R_PAPER,
    PaperLevel,
    PrinterState,
    PrinterStatus,
    StatusQuery,
    is_gs_r_reply,
    is_status_byte,
    parse_gs_r_paper,
    parse_offline_cause,
    parse_printer,
    summarize,
)
from devices.printer.transport import Link, LinkError, fit_profile, make_link

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrinterOptions:
    """Timing and behaviour of the ticket printer."""

    reply_timeout_s: float = 0.5
    """Wait for one DLE EOT reply."""
    job_timeout_s: float = 20.0
    """Wait for the printer to confirm a ticket (GS r 1 reply)."""
    poll_s: float = 0.5
    """DLE EOT 1 every this often while waiting, to notice paper end before the timeout."""
    write_timeout_s: float = 30.0
    connect_timeout_s: float = 3.0
    probe_timeout_s: float = 1.0
    """Wait for the GS r 1 reply that shows the printer can confirm tickets."""
    confirm_jobs: bool | None = None
    """True/False forces job confirmation with GS r 1; None probes the printer once."""
    cut: str = "FULL"


class Stage(enum.Enum):
    """When a print failure was found."""

    BEFORE = "before"
    """Before sending: nothing was printed."""
    AFTER = "after"
    """After sending began: part or all of the ticket may have come out."""


class PrinterError(Exception):
    """The ticket was not (or not surely) printed; show it on screen instead."""

    def __init__(self, message: str, status: PrinterStatus, stage: Stage, *, sent: bool) -> None:
        super().__init__(message)
        self.status = status
        self.stage = stage
        self.sent = sent
        """True if any byte of the ticket reached the printer."""


class PrinterOffline(PrinterError):
    """The printer is off, unplugged, offline, its cover open or in error."""


class PaperOut(PrinterError):
    """The paper roll ran out (before the ticket, or while printing it)."""


class PrintFailed(PrinterError):
    """Sending failed or the printer did not confirm the ticket in time."""


@dataclass(frozen=True)
class PrintResult:
    """A ticket the printer took."""

    job: int
    confirmed: bool
    """True if the printer confirmed it printed the whole ticket (GS r 1 answered)."""
    status: PrinterStatus
    """The status after printing (paper may now be low or out: report it, the ticket is out)."""
    bytes_sent: int


def encode_job(image: Image.Image, width_dots: int, cut: str = "FULL") -> bytes:
    """The bytes of one ticket, built by python-escpos: ``ESC @``, ``GS v 0`` raster, cut."""
    from escpos.printer import Dummy

    if image.width > width_dots:
        raise ValueError(f"ticket image is {image.width} dots wide, the paper {width_dots}")
    dummy = Dummy()
    fit_profile(dummy, width_dots)
    dummy.hw("INIT")
    dummy.image(image, impl="bitImageRaster", center=False)
    dummy.cut(mode=cut)
    return bytes(dummy.output)


class NoReply(LinkError):
    """The printer is reachable but did not answer a status query in time."""


def _unchecked() -> PrinterStatus:
    return PrinterStatus(PrinterState.UNCHECKED, "no status channel (file transport)")


class TicketPrinter:
    """Owner of one ESC/POS ticket printer (thread-safe; every call is bounded in time)."""

    def __init__(
        self,
        link: Link,
        width_dots: int,
        options: PrinterOptions | None = None,
        *,
        on_change: Callable[[PrinterStatus], None] | None = None,
    ) -> None:
        self.link = link
        self.width_dots = width_dots
        self.options = options or PrinterOptions()
        self.on_change = on_change
        """Called (on the caller's thread) when the state changes: a Qt owner re-emits it."""
        self._lock = threading.RLock()
        self._confirm: bool | None = self.options.confirm_jobs
        self._status = PrinterStatus(PrinterState.NO_REPLY, "not opened")
        self._jobs = 0

    @classmethod
    def from_config(
        cls,
        printer: Any,
        options: PrinterOptions | None = None,
        *,
        on_change: Callable[[PrinterStatus], None] | None = None,
    ) -> TicketPrinter:
        """A (closed) printer for a ``config.schema.Printer`` (duck-typed)."""
        opts = options or PrinterOptions()
        link = make_link(
            str(printer.transport),
            str(printer.target),
            int(printer.baud),
            int(printer.width_dots),
            connect_timeout_s=opts.connect_timeout_s,
        )
        return cls(link, int(printer.width_dots), opts, on_change=on_change)

    # lifecycle ----------------------------------------------------------------------------

    def open(self) -> PrinterStatus:
        """Open the link and read the status; device trouble shows in the status, never raises."""
        return self.status()

    def close(self) -> None:
        """Close the link."""
        with self._lock:
            self.link.close()
            self._status = PrinterStatus(PrinterState.NO_REPLY, "closed")

    def __enter__(self) -> TicketPrinter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # snapshot -----------------------------------------------------------------------------

    @property
    def last_status(self) -> PrinterStatus:
        """The status found by the last query (no I/O)."""
        return self._status

    @property
    def state(self) -> PrinterState:
        """The state found by the last query (no I/O)."""
        return self._status.state

    @property
    def available(self) -> bool:
        """True if the last query found the printer able to print (no I/O)."""
        return self._status.available

    @property
    def confirms_jobs(self) -> bool | None:
        """Whether tickets are confirmed with GS r 1 (None: not probed yet)."""
        return self._confirm

    # status -------------------------------------------------------------------------------

    def status(self) -> PrinterStatus:
        """Ask the printer now (DLE EOT); NO_REPLY if it cannot be reached."""
        with self._lock:
            return self._query()

    def _set(self, status: PrinterStatus) -> PrinterStatus:
        changed = status.state is not self._status.state
        self._status = status
        if changed:
            log.info("printer %s: %s %s", self.link.spec.target, status.state.value, status.detail)
            if self.on_change is not None:
                try:
                    self.on_change(status)
                except Exception:
                    log.exception("printer state handler failed")
        return status

    def _query(self) -> PrinterStatus:
        try:
            return self._set(self._query_once())
        except NoReply as exc:
            self.link.close()
            return self._set(PrinterStatus(PrinterState.NO_REPLY, str(exc)))
        except LinkError as exc:
            # A network printer drops idle connections: reopen once and ask again.
            log.debug("printer %s: %s; reopening", self.link.spec.target, exc)
            self.link.close()
        try:
            return self._set(self._query_once())
        except LinkError as exc:
            self.link.close()
            return self._set(PrinterStatus(PrinterState.NO_REPLY, str(exc)))

    def _query_once(self) -> PrinterStatus:
        self.link.open()
        if not self.link.can_read:
            return _unchecked()
        self.link.drain()
        return self._ask_all()

    def _ask(self, query: StatusQuery) -> int:
        self.link.write(query.command, self.options.write_timeout_s)
        deadline = time.monotonic() + self.options.reply_timeout_s
        while True:
            left = deadline - time.monotonic()
            value = self.link.read_byte(max(0.0, left))
            if value is not None and is_status_byte(value):
                return value
            if value is None and left <= 0:
                raise NoReply(
                    f"no reply to DLE EOT {query.value} within {self.options.reply_timeout_s} s"
                )

    def _ask_all(self) -> PrinterStatus:
        printer = self._ask(StatusQuery.PRINTER)
        paper = self._ask(StatusQuery.ROLL_PAPER)
        offline = error = None
        if not parse_printer(printer).online:
            offline = self._ask(StatusQuery.OFFLINE_CAUSE)
            if parse_offline_cause(offline).error:
                error = self._ask(StatusQuery.ERROR_CAUSE)
        return summarize(printer, paper, offline, error)

    # printing -----------------------------------------------------------------------------

    def print_ticket(self, image: Image.Image) -> PrintResult:
        """Print ``image`` once, then cut; raise a ``PrinterError`` unless surely printed."""
        job = encode_job(image, self.width_dots, self.options.cut)
        with self._lock:
            self._jobs += 1
            number = self._jobs
            before = self._query()
            if not before.available:
                raise self._error(before, Stage.BEFORE, sent=False)
            confirm = self._should_confirm()
            payload = job + (GS_R_PAPER if confirm else b"")
            try:
                self.link.drain()
            except LinkError as exc:
                status = self._set(PrinterStatus(PrinterState.NO_REPLY, str(exc)))
                raise PrinterOffline(
                    f"printer lost before sending: {exc}", status, Stage.BEFORE, sent=False
                ) from exc
            try:
                self.link.write(payload, self.options.write_timeout_s)
            except LinkError as exc:
                status = self._set(PrinterStatus(PrinterState.NO_REPLY, str(exc)))
                raise PrintFailed(
                    f"sending the ticket failed: {exc}", status, Stage.AFTER, sent=True
                ) from exc
            log.info(
                "printer %s: job %d sent, %d bytes", self.link.spec.target, number, len(payload)
            )
            if not self.link.can_read:
                return PrintResult(number, False, self._set(_unchecked()), len(payload))
            confirmed = self._wait_confirmation() if confirm else None
            after = self._query()
            if confirmed is not None:
                return PrintResult(number, True, after, len(payload))
            return self._unconfirmed(number, after, confirm, len(payload))

    def _unconfirmed(
        self, number: int, after: PrinterStatus, asked: bool, sent: int
    ) -> PrintResult:
        if after.state is PrinterState.PAPER_OUT:
            raise PaperOut("paper ran out while printing the ticket", after, Stage.AFTER, sent=True)
        if not after.available:
            raise PrinterOffline(
                f"printer went {after.state.value} while printing the ticket",
                after,
                Stage.AFTER,
                sent=True,
            )
        if asked:
            raise PrintFailed(
                f"printer did not confirm the ticket within {self.options.job_timeout_s} s",
                after,
                Stage.AFTER,
                sent=True,
            )
        return PrintResult(number, False, after, sent)

    def _error(self, status: PrinterStatus, stage: Stage, *, sent: bool) -> PrinterError:
        what = status.detail or status.state.value
        if status.state is PrinterState.PAPER_OUT:
            return PaperOut(f"printer out of paper ({what})", status, stage, sent=sent)
        return PrinterOffline(f"printer cannot print: {what}", status, stage, sent=sent)

    def _should_confirm(self) -> bool:
        if self._confirm is None and self.link.can_read:
            self._confirm = self._probe()
        return bool(self._confirm)

    def _probe(self) -> bool | None:
        """Does the printer answer GS r 1? Asked while it is ready and idle; None if the link
        failed (asked again before the next ticket)."""
        try:
            self.link.write(GS_R_PAPER, self.options.write_timeout_s)
            deadline = time.monotonic() + self.options.probe_timeout_s
            while (left := deadline - time.monotonic()) > 0:
                value = self.link.read_byte(left)
                if value is not None and is_gs_r_reply(value):
                    return True
        except LinkError as exc:
            log.warning("printer %s: probing GS r 1 failed: %s", self.link.spec.target, exc)
            return None
        log.warning(
            "printer %s does not answer GS r 1: tickets cannot be confirmed", self.link.spec.target
        )
        return False

    def _wait_confirmation(self) -> PaperLevel | None:
        """The GS r 1 reply once the ticket is printed; None on timeout, offline or link loss."""
        opts = self.options
        deadline = time.monotonic() + opts.job_timeout_s
        next_poll = time.monotonic() + opts.poll_s
        polling = False
        try:
            while (now := time.monotonic()) < deadline:
                if not polling and now >= next_poll:
                    self.link.write(StatusQuery.PRINTER.command, opts.write_timeout_s)
                    polling, poll_deadline = True, now + opts.reply_timeout_s
                value = self.link.read_byte(min(0.05, max(0.0, deadline - now)))
                if value is not None and is_gs_r_reply(value):
                    self._finish_poll(polling)
                    return parse_gs_r_paper(value)
                if polling and value is not None and is_status_byte(value):
                    polling, next_poll = False, time.monotonic() + opts.poll_s
                    if not parse_printer(value).online:
                        return None
                elif polling and time.monotonic() > poll_deadline:
                    return None  # stopped answering DLE EOT: off or unplugged
        except LinkError as exc:
            log.warning("printer %s: lost while printing: %s", self.link.spec.target, exc)
        return None

    def _finish_poll(self, polling: bool) -> None:
        """Consume the reply to an outstanding DLE EOT poll so it is not read as another's."""
        if not polling:
            return
        deadline = time.monotonic() + self.options.reply_timeout_s
        while (left := deadline - time.monotonic()) > 0:
            value = self.link.read_byte(left)
            if value is not None and is_status_byte(value):
                return
