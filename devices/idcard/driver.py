"""Resident ID card reader (GA/T 467 SAM) over a serial port opened by URL.

    reader = IdCardReader("/dev/ttyUSB0")          # or a pty, socket://…, spy://…
    with reader:
        card = reader.read_card(timeout=5.0)       # find → select → read, with retries

Reliability in two layers (docs/protocols/ga467.md):

* link: one command is re-sent ``link_retries`` times when its reply is missing, fails the
  XOR checksum, or the SAM says it got our request corrupted (SW3 0x10/0x11); then
  ``ReaderTimeout`` or ``BadChecksum``.
* request: ``read_card`` polls "find" until a card is there or ``timeout`` passes
  (``NoCard``), then selects and reads; a failed select or read, or a read that gets no
  answer, restarts from "find" at most ``read_attempts`` times. A card that is no longer
  found after it was is ``CardRemoved``.

Nothing personal is logged: cards appear in logs masked.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from devices.bus.port import PortLink, PortLost, SerialFactory
from devices.bus.timing import LineTiming
from devices.idcard import frames, idnumber
from devices.idcard import protocol as p
from devices.idcard.errors import (
    BadChecksum,
    CardExpired,
    CardRemoved,
    IdCardError,
    NoCard,
    ReaderFault,
    ReaderTimeout,
    UnsupportedCard,
)

log = logging.getLogger(__name__)

DEFAULT_BAUDRATE = 115200
LINK_ERRORS = frozenset({p.Status.CHECKSUM_ERROR, p.Status.LENGTH_ERROR})
REPLY_BYTES = {"read_text_photo": 1295, "read_text_photo_fp": 2321}
"""Longest expected reply per command (for wire-time allowances); others are short."""


class ReaderState(enum.Enum):
    """What the owner knows about the reader."""

    CLOSED = "closed"
    IDLE = "idle"
    """Open and answering; no read in progress."""
    READING = "reading"
    FAULT = "fault"
    """Port lost, no answer, or the SAM reports a fault: shown as unavailable."""


@dataclass(frozen=True)
class ReaderTiming:
    """Retry counts and pacing of one reader."""

    poll_interval_s: float = 0.25
    """Pause between "find" commands while waiting for a card."""
    reply_scale: float = 1.0
    """Multiplies every command's reply timeout (slow readers, USB adapters)."""
    link_retries: int = 2
    """Re-sends of one command after a missing or corrupt reply."""
    read_attempts: int = 3
    """find → select → read restarts after a failed select or read."""
    latency_s: float = 0.05
    """Allowance for adapter latency, added to every reply timeout."""


class IdCardReader:
    """One GA/T 467 reader on a serial port; not thread-safe (one owner thread)."""

    def __init__(
        self,
        url: str,
        baudrate: int = DEFAULT_BAUDRATE,
        *,
        timing: ReaderTiming | None = None,
        factory: SerialFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timing = timing or ReaderTiming()
        self.line = LineTiming(baudrate, latency_s=self.timing.latency_s)
        self._link = PortLink(url, baudrate, read_timeout=0.01, factory=factory)
        self._clock = clock
        self._cancel = threading.Event()
        self.state = ReaderState.CLOSED
        self.last_status: int | None = None
        self.stats = {"sent": 0, "retries": 0, "bad_checksums": 0, "timeouts": 0, "stale": 0}

    # ------------------------------------------------------------ port

    @property
    def available(self) -> bool:
        """True while the reader is open and its SAM answers."""
        return self.state in (ReaderState.IDLE, ReaderState.READING)

    def open(self) -> None:
        """Open the port and check the SAM answers; ``ReaderFault``/``ReaderTimeout`` if not."""
        if not self._link.open():
            self.state = ReaderState.FAULT
            raise ReaderFault(
                f"cannot open ID card reader port {self.url}: {self._link.last_error}"
            )
        self.state = ReaderState.IDLE
        self.sam_status()

    def close(self) -> None:
        """Close the port (idempotent)."""
        self._link.close()
        self.state = ReaderState.CLOSED

    def __enter__(self) -> IdCardReader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cancel(self) -> None:
        """Make a ``read_card`` in progress (on another thread) stop with ``NoCard``."""
        self._cancel.set()

    # ------------------------------------------------------------ link layer

    def _reply_timeout(self, command: p.Command) -> float:
        request_len = 10
        reply_len = REPLY_BYTES.get(command.name, 32)
        return command.reply_timeout_s * self.timing.reply_scale + self.line.reply_timeout(
            request_len, reply_len
        )

    def _await_reply(self, name: str, timeout: float) -> tuple[p.Reply | None, bool]:
        """(reply, saw a bad checksum): stops at the first plausible reply or corrupt frame."""
        parser = frames.FrameParser()
        end = self._clock() + timeout
        while self._clock() < end:
            data = self._link.read_some(32)
            if not data:
                continue
            for item in parser.feed(data):
                if isinstance(item, frames.Frame) and item.looks_like_reply:
                    reply = p.reply_of(item)
                    if p.plausible(name, reply):
                        return reply, False
                    self.stats["stale"] += 1
                    log.info("%s: ignored a late reply (SW3 0x%02X)", name, reply.sw3)
                if isinstance(item, frames.ParseError) and item.reason == "bad checksum":
                    return None, True
        return None, False

    def _wait_quiet(self, limit: float) -> None:
        """Read until the line is silent for a few byte times (a corrupt LEN may have cut a
        reply short: its tail must not meet the next request on a half-duplex SAM)."""
        quiet = max(0.02, self.line.wire_time(16))
        end = self._clock() + limit
        last = self._clock()
        while self._clock() < end and self._clock() - last < quiet:
            try:
                if self._link.read_some(64):
                    last = self._clock()
            except PortLost:
                return

    def exchange(self, name: str, data: bytes = b"") -> p.Reply:
        """Send command ``name``, return its reply; link-level retries, then a typed error."""
        command = p.BY_NAME[name]
        request = command.encode(data)
        timeout = self._reply_timeout(command)
        bad = 0
        for attempt in range(self.timing.link_retries + 1):
            if attempt:
                self.stats["retries"] += 1
            try:
                self._link.discard_input()
                self._link.write(request)
                self.stats["sent"] += 1
                reply, corrupt = self._await_reply(name, timeout)
            except PortLost as exc:
                self.state = ReaderState.FAULT
                raise ReaderFault(f"lost the ID card reader port {self.url}: {exc}") from None
            if corrupt:
                bad += 1
                self.stats["bad_checksums"] += 1
                log.info("%s: corrupt reply (attempt %d)", name, attempt + 1)
                self._wait_quiet(timeout)
                continue
            if reply is None:
                self.stats["timeouts"] += 1
                log.info("%s: no reply within %.2f s (attempt %d)", name, timeout, attempt + 1)
                continue
            self.last_status = reply.sw3
            if reply.status in LINK_ERRORS:
                bad += 1
                log.info("%s: SAM got a corrupt request (SW3 0x%02X)", name, reply.sw3)
                continue
            return reply
        if bad:
            raise BadChecksum(f"{name}: {bad} corrupt exchanges in {attempt + 1} attempts")
        self.state = ReaderState.FAULT
        raise ReaderTimeout(f"{name}: no reply from the ID card reader at {self.url}")

    def _checked(self, name: str, reply: p.Reply, *ok: p.Status) -> p.Reply:
        if reply.status in ok:
            return reply
        zh, en = p.status_text(reply.sw3)
        if reply.status in p.SAM_FAULTS:
            self.state = ReaderState.FAULT
            raise ReaderFault(f"{name}: SAM fault 0x{reply.sw3:02X} {en} ({zh})", reply.sw3)
        return reply

    # ------------------------------------------------------------ SAM commands

    def sam_status(self) -> p.Status | None:
        """SAM status check; ``ReaderFault`` if the SAM reports a fault."""
        reply = self._checked("sam_status", self.exchange("sam_status"), p.Status.OK)
        if self.state == ReaderState.FAULT and reply.status == p.Status.OK:
            self.state = ReaderState.IDLE
        return reply.status

    def read_sam_id(self) -> str:
        """The SAM's id as hex (vendors print it in several ways; the raw bytes are kept)."""
        reply = self._checked("read_sam_id", self.exchange("read_sam_id"), p.Status.OK)
        if reply.status != p.Status.OK:
            raise ReaderFault(f"read_sam_id: status 0x{reply.sw3:02X}", reply.sw3)
        return reply.data.hex()

    def reset_sam(self) -> None:
        """Reset the SAM (after a fault)."""
        reply = self._checked("reset_sam", self.exchange("reset_sam"), p.Status.OK)
        if reply.status == p.Status.OK:
            self.state = ReaderState.IDLE

    # ------------------------------------------------------------ reading a card

    def find_card(self) -> bool:
        """True if a card is in the field."""
        reply = self._checked(
            "find_card", self.exchange("find_card"), p.Status.CARD_FOUND, p.Status.FIND_FAILED
        )
        if reply.status == p.Status.CARD_FOUND:
            return True
        if reply.status == p.Status.FIND_FAILED:
            return False
        raise ReaderFault(f"find_card: unexpected status 0x{reply.sw3:02X}", reply.sw3)

    def read_card(
        self,
        timeout: float = 5.0,
        *,
        today: dt.date | None = None,
        accept_expired: bool = False,
        with_fingerprint: bool = False,
    ) -> p.IdCard:
        """Wait up to ``timeout`` s for a card, then find → select → read it.

        Raises ``NoCard``, ``CardRemoved``, ``ReaderTimeout``, ``BadChecksum``,
        ``CardExpired`` (unless ``accept_expired``), ``UnsupportedCard`` or ``ReaderFault``.
        """
        if self.state == ReaderState.CLOSED:
            raise ReaderFault("the ID card reader is not open")
        self._cancel.clear()
        self.state = ReaderState.READING
        try:
            card = self._read(timeout, with_fingerprint)
        finally:
            if self.state == ReaderState.READING:
                self.state = ReaderState.IDLE
        expired = card.expired(today or dt.date.today())
        if expired and card.valid_to is not None and not accept_expired:
            raise CardExpired(card.valid_to)
        log.info("read ID card %r", card)
        return card

    def _read(self, timeout: float, with_fingerprint: bool) -> p.IdCard:
        deadline = self._clock() + timeout
        attempts = 0
        seen = False
        last: IdCardError | None = None
        while True:
            if self._cancel.is_set():
                raise NoCard("reading was cancelled")
            if not self.find_card():
                if seen:
                    raise CardRemoved("the card left the field during the read") from last
                if self._clock() >= deadline:
                    raise NoCard(f"no card within {timeout:.1f} s")
                self._cancel.wait(self.timing.poll_interval_s)
                continue
            seen = True
            try:
                return self._select_and_read(with_fingerprint)
            except (CardRemoved, ReaderTimeout, BadChecksum) as exc:
                if isinstance(exc, BadChecksum) and exc.field != "frame":
                    raise  # a card whose ID number fails its check reads the same again
                attempts += 1
                last = exc
                log.info("read attempt %d failed: %s", attempts, exc)
                if attempts >= self.timing.read_attempts:
                    raise
                self.state = ReaderState.READING

    def _select_and_read(self, with_fingerprint: bool) -> p.IdCard:
        reply = self._checked("select_card", self.exchange("select_card"), p.Status.OK)
        if reply.status != p.Status.OK:
            raise CardRemoved(f"select failed: status 0x{reply.sw3:02X}")
        name = "read_text_photo_fp" if with_fingerprint else "read_text_photo"
        reply = self._checked(name, self.exchange(name), p.Status.OK)
        if reply.status == p.Status.UNKNOWN_CARD_TYPE:
            raise UnsupportedCard("the SAM does not know this card type")
        if reply.status != p.Status.OK:
            raise CardRemoved(f"read failed: status 0x{reply.sw3:02X}")
        try:
            card = p.decode_read_reply(reply, with_fingerprint)
        except p.UnsupportedCardType as exc:
            raise UnsupportedCard(str(exc), exc.card_type) from None
        except p.CardLayoutError as exc:
            raise UnsupportedCard(f"unreadable card data: {exc}") from None
        if not idnumber.is_valid(card.id_number):
            raise BadChecksum("the card's ID number fails its check character", "id_number")
        return card
