"""vendor68 framing (pure): ``FF 68 LEN LEN 68 ADDR FUNC DATA… CS 16`` at 9600 8N1.

LEN (sent twice) = 2 + number of DATA bytes (it counts ADDR and FUNC);
CS = (ADDR + FUNC + DATA…) mod 256. A frame is LEN + 7 bytes long. Source: the open-source
hall system JackQChen/QueueSystem, ``CallSystem/frmMain.cs`` (see docs/protocols/vendor68.md).

Worked example, ticket 123 to the keypad at address 5::

    FF 68 | 08 08 | 68 | 05 | 02 | 0A 0A 0A 01 02 03 | 2B | 16
    LEN = 2 + 6 = 8;  CS = 05+02+0A+0A+0A+01+02+03 = 0x2B
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.resync import ParseError as ParseError  # re-exported
from devices.resync import ResyncParser

HEAD = b"\xff\x68"
MARK = 0x68
END = 0x16
MIN_LEN = 2
MAX_DATA = 0xFF - MIN_LEN


@dataclass(frozen=True)
class V68Frame:
    """One frame with a good checksum."""

    address: int
    func: int
    data: bytes = b""

    def encode(self) -> bytes:
        """The frame's bytes on the wire."""
        return encode_frame(self.address, self.func, self.data)


def checksum(address: int, func: int, data: bytes) -> int:
    """(ADDR + FUNC + DATA…) mod 256."""
    return (address + func + sum(data)) & 0xFF


def encode_frame(address: int, func: int, data: bytes = b"") -> bytes:
    """Build one frame; ValueError on out-of-range fields."""
    if not 0 <= address <= 0xFF or not 0 <= func <= 0xFF:
        raise ValueError("address and func are single bytes")
    if len(data) > MAX_DATA:
        raise ValueError(f"at most {MAX_DATA} data bytes")
    length = MIN_LEN + len(data)
    return bytes(
        (0xFF, MARK, length, length, MARK, address, func, *data, checksum(address, func, data), END)
    )


def check_frame(buf: bytes | bytearray) -> tuple[int, str]:
    """``(0, "")`` need more, ``(-1, reason)`` skip one byte, ``(n, "")`` a good frame of n bytes.

    ``buf`` starts with FF 68.
    """
    if len(buf) < 5:
        return 0, ""
    length = buf[2]
    if buf[3] != length:
        return -1, "length bytes differ"
    if buf[4] != MARK:
        return -1, "no second 68"
    if length < MIN_LEN:
        return -1, "bad length"
    total = length + 7
    if len(buf) < total:
        return 0, ""
    if buf[total - 1] != END:
        return -1, "no end byte"
    if checksum(buf[5], buf[6], bytes(buf[7 : total - 2])) != buf[total - 2]:
        return -1, "bad checksum"
    return total, ""


class FrameParser(ResyncParser[V68Frame]):
    """Incremental parser, resynchronising on ``FF 68``; never raises."""

    def _unsynced(self, buf: bytearray) -> int:
        start = buf.find(HEAD)
        if start >= 0:
            return start
        # No FF 68 yet: keep a last FF, it may be the first half of one.
        return len(buf) - 1 if buf[-1] == 0xFF else len(buf)

    def _check(self, buf: bytearray) -> tuple[int, str]:
        return check_frame(buf)

    def _frame(self, raw: bytearray) -> V68Frame:
        return V68Frame(raw[5], raw[6], bytes(raw[7 : len(raw) - 2]))
