"""hallbus framing: pure bytes in, bytes out (see docs/protocols/hallbus.md).

Wire format of every frame, master to device and device to master alike::

    offset  size  field
    0       1     SOF      0xA5
    1       1     ADDR     1–247 a device, 0 broadcast; in a reply, the replying device
    2       1     SEQ      0–255, chosen by the master, echoed in the reply
    3       1     CMD      request code 0x01–0x7F; reply = code | 0x80; 0xFF = error reply
    4       1     LEN      payload length, 0–240
    5       LEN   PAYLOAD
    5+LEN   2     CRC      CRC-16/Modbus of ADDR … last payload byte, low byte first

``FrameParser.feed`` is incremental and resynchronises on SOF after any error, like
Klipper's ``check_packet``: it never raises on input bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.crc import crc16_modbus

SOF = 0xA5
BROADCAST = 0
MAX_ADDRESS = 247
REPLY_FLAG = 0x80
ERROR_REPLY = 0xFF
HEADER_LEN = 5
CRC_LEN = 2
MIN_FRAME = HEADER_LEN + CRC_LEN
MAX_PAYLOAD = 240
MAX_FRAME = MIN_FRAME + MAX_PAYLOAD


@dataclass(frozen=True)
class Frame:
    """One frame with a good CRC."""

    address: int
    seq: int
    command: int
    payload: bytes = b""

    @property
    def is_reply(self) -> bool:
        """True for device-to-master frames (CMD bit 7 set)."""
        return bool(self.command & REPLY_FLAG)

    @property
    def code(self) -> int:
        """The command code without the reply flag."""
        return self.command & ~REPLY_FLAG & 0xFF

    def encode(self) -> bytes:
        """The frame's bytes on the wire."""
        return encode_frame(self.address, self.seq, self.command, self.payload)


@dataclass(frozen=True)
class ParseError:
    """A parse event (not an exception): ``data`` was skipped for ``reason``."""

    reason: str
    data: bytes


def frame_crc(body: bytes | bytearray | memoryview) -> int:
    """CRC of a frame body (ADDR through the last payload byte)."""
    return crc16_modbus(body)


def encode_frame(address: int, seq: int, command: int, payload: bytes = b"") -> bytes:
    """Build one frame; raises ValueError on out-of-range fields."""
    if not 0 <= address <= MAX_ADDRESS:
        raise ValueError(f"address {address} outside 0–{MAX_ADDRESS}")
    if not 0 <= seq <= 0xFF or not 0 <= command <= 0xFF:
        raise ValueError("seq and command are single bytes")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes((address, seq, command, len(payload))) + bytes(payload)
    return bytes((SOF,)) + body + frame_crc(body).to_bytes(2, "little")


def check_frame(buf: bytes | bytearray) -> tuple[int, str]:
    """Klipper-style check of a buffer starting with SOF.

    Returns ``(0, "")`` if more bytes are needed, ``(-1, reason)`` if the SOF byte must be
    skipped, or ``(length, "")`` for a complete frame with a good CRC.
    """
    if len(buf) < HEADER_LEN:
        return 0, ""
    if buf[1] > MAX_ADDRESS:
        return -1, "bad address"
    length = buf[4]
    if length > MAX_PAYLOAD:
        return -1, "bad length"
    total = MIN_FRAME + length
    if len(buf) < total:
        return 0, ""
    received = buf[total - 2] | buf[total - 1] << 8
    if frame_crc(memoryview(buf)[1 : total - 2]) != received:
        return -1, "bad crc"
    return total, ""


class FrameParser:
    """Incremental parser: ``feed(bytes) -> [Frame | ParseError, ...]``; never raises."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._junk = bytearray()
        self._junk_reason = ""

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget a partial frame (after a timeout or an inter-frame silence)."""
        self._buf.clear()
        self._junk.clear()

    def flush(self) -> list[Frame | ParseError]:
        """End of input: give up on a held-back partial frame, re-scanning the bytes after it.

        A stray sync byte with a plausible length would otherwise hide the frames that follow
        it until more data came; a capture has no more data.
        """
        out: list[Frame | ParseError] = []
        while self._buf:
            held = bytes(self._buf)
            self._buf.clear()
            self._skip(held[:1], "incomplete frame")
            out += self.feed(held[1:])
        self._flush_junk(out)
        return out

    def feed(self, data: bytes) -> list[Frame | ParseError]:
        """Add received bytes; return the frames and parse errors they complete."""
        buf = self._buf
        buf += data
        out: list[Frame | ParseError] = []
        while buf:
            if buf[0] != SOF:
                start = buf.find(SOF)
                end = len(buf) if start < 0 else start
                self._skip(bytes(buf[:end]), "no sync")
                del buf[:end]
                continue
            length, reason = check_frame(buf)
            if length == 0:
                break
            if length < 0:
                self._skip(bytes(buf[:1]), reason)
                del buf[:1]
                continue
            self._flush_junk(out)
            out.append(Frame(buf[1], buf[2], buf[3], bytes(buf[HEADER_LEN : length - CRC_LEN])))
            del buf[:length]
        self._flush_junk(out)
        return out

    def _skip(self, data: bytes, reason: str) -> None:
        if not self._junk:
            self._junk_reason = reason
        self._junk += data

    def _flush_junk(self, out: list[Frame | ParseError]) -> None:
        if self._junk:
            out.append(ParseError(self._junk_reason, bytes(self._junk)))
            self._junk.clear()
