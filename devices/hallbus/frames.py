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
from devices.resync import ParseError as ParseError  # re-exported
from devices.resync import ResyncParser

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


class FrameParser(ResyncParser[Frame]):
    """Incremental parser, resynchronising on the start byte; never raises."""

    def _unsynced(self, buf: bytearray) -> int:
        if buf[0] == SOF:
            return 0
        start = buf.find(SOF)
        return len(buf) if start < 0 else start

    def _check(self, buf: bytearray) -> tuple[int, str]:
        return check_frame(buf)

    def _frame(self, raw: bytearray) -> Frame:
        return Frame(raw[1], raw[2], raw[3], bytes(raw[HEADER_LEN : len(raw) - CRC_LEN]))
