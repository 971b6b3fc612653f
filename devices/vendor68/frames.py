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


@dataclass(frozen=True)
class ParseError:
    """A parse event (not an exception): ``data`` was skipped for ``reason``."""

    reason: str
    data: bytes


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


class FrameParser:
    """Incremental parser, resynchronising on ``FF 68``; never raises."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._junk = bytearray()
        self._reason = ""

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget a partial frame."""
        self._buf.clear()
        self._junk.clear()

    def flush(self) -> list[V68Frame | ParseError]:
        """End of input: give up on a held-back partial frame, re-scanning the bytes after it.

        A stray sync byte with a plausible length would otherwise hide the frames that follow
        it until more data came; a capture has no more data.
        """
        out: list[V68Frame | ParseError] = []
        while self._buf:
            held = bytes(self._buf)
            self._buf.clear()
            self._skip(held[:1], "incomplete frame")
            out += self.feed(held[1:])
        self._flush(out)
        return out

    def feed(self, data: bytes) -> list[V68Frame | ParseError]:
        """Add received bytes; return the frames and parse errors they complete."""
        buf = self._buf
        buf += data
        out: list[V68Frame | ParseError] = []
        while buf:
            start = buf.find(HEAD)
            if start != 0:
                keep = len(buf) - 1 if start < 0 and buf[-1] == 0xFF else len(buf)
                end = keep if start < 0 else start
                if end == 0:
                    break
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
            self._flush(out)
            out.append(V68Frame(buf[5], buf[6], bytes(buf[7 : length - 2])))
            del buf[:length]
        self._flush(out)
        return out

    def _skip(self, data: bytes, reason: str) -> None:
        if not self._junk:
            self._reason = reason
        self._junk += data

    def _flush(self, out: list[V68Frame | ParseError]) -> None:
        if self._junk:
            out.append(ParseError(self._reason, bytes(self._junk)))
            self._junk.clear()
