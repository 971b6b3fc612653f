"""hallbus link layer: one request, its reply, bounded retries with the same sequence number.

A retry repeats the request byte for byte (same SEQ), so a device that executed the first
attempt and lost its reply answers from its reply cache without executing again. Replies
that do not match the outstanding request (address, SEQ, command) are stale and ignored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from devices.bus.api import BusError
from devices.bus.port import PortLink
from devices.bus.timing import LineTiming
from devices.hallbus.frames import (
    BROADCAST,
    ERROR_REPLY,
    REPLY_FLAG,
    Frame,
    FrameParser,
    ParseError,
)
from devices.hallbus.protocol import (
    BY_NAME,
    Message,
    PayloadError,
    decode_message,
    frame_of,
    max_reply_frame,
    usual_reply_frame,
)

log = logging.getLogger(__name__)


class NoReply(BusError):
    """A request got no valid reply after all its attempts."""

    def __init__(self, what: str, address: int, command: str, attempts: int) -> None:
        super().__init__(
            f"no reply from {what} at address {address} to {command} after {attempts} attempts"
        )
        self.address = address
        self.command = command
        self.attempts = attempts


@dataclass
class LinkStats:
    """Counters for diagnostics and benchmarks."""

    requests: int = 0
    attempts: int = 0
    timeouts: int = 0
    parse_errors: int = 0
    stale: int = 0


class HallbusLink:
    """Requests and replies over one port."""

    def __init__(self, port: PortLink, timing: LineTiming) -> None:
        self.port = port
        self.timing = timing
        self.stats = LinkStats()
        self._parser = FrameParser()

    def request(
        self, address: int, seq: int, message: Message, retries: int, what: str = "device"
    ) -> Message:
        """Send ``message`` and return the reply (maybe an ``error`` message); raises NoReply.

        Raises ``devices.bus.port.PortLost`` if the port fails meanwhile.
        """
        if address == BROADCAST:
            raise ValueError("use broadcast() for address 0")
        raw = frame_of(address, seq, message).encode()
        timeout = self.timing.reply_timeout(len(raw), max_reply_frame(message.name))
        code = BY_NAME[message.name].code
        usual = usual_reply_frame(message.name)
        self.stats.requests += 1
        for attempt in range(retries + 1):
            self.stats.attempts += 1
            reply = self._attempt(raw, (address, seq, code), timeout, usual)
            if reply is not None:
                return reply
            self.stats.timeouts += 1
            log.debug(
                "%s at %d: no reply to %s (attempt %d)", what, address, message.name, attempt + 1
            )
        raise NoReply(what, address, message.name, retries + 1)

    def broadcast(self, message: Message, seq: int, repeats: int = 2) -> None:
        """Send ``message`` to address 0 ``repeats`` times; devices execute it and do not reply."""
        if not BY_NAME[message.name].broadcast:
            raise ValueError(f"{message.name} may not be broadcast")
        raw = frame_of(BROADCAST, seq, message).encode()
        for _ in range(repeats):
            self.port.write(raw)
            time.sleep(self.timing.wire_time(len(raw)) + self.timing.turnaround_s)

    def _attempt(
        self, raw: bytes, key: tuple[int, int, int], timeout: float, usual: int
    ) -> Message | None:
        self._parser.reset()
        self.port.discard_input()
        self.port.write(raw)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self._parser.feed(self.port.read_some(usual - self._parser.pending)):
                reply = self._match(item, *key)
                if reply is not None:
                    return reply
        return None

    def _match(self, item: Frame | ParseError, address: int, seq: int, code: int) -> Message | None:
        if isinstance(item, ParseError):
            self.stats.parse_errors += 1
            return None
        expected = item.command in (code | REPLY_FLAG, ERROR_REPLY)
        if item.address != address or item.seq != seq or not expected:
            self.stats.stale += 1
            return None
        try:
            return decode_message(item)
        except PayloadError as exc:
            self.stats.parse_errors += 1
            log.warning("bad payload from address %d: %s", address, exc)
            return None
