"""ledchain framing (pure): ``01 ADDR <text> 07`` for LED boards chained on one port.

* ``01`` (SOH) starts a command, ``07`` ends it; there is no length and no checksum.
* ADDR is one raw byte, the board's address (1–247 here). Assumption: the field note says
  only "ADDR"; boards that take an ASCII address are not covered (docs/protocols/ledchain.md).
* The text is GB2312 (ASCII is a subset). GB2312 never produces bytes below 0xA1 in a
  double-byte character, so 01 and 07 cannot occur inside the text; control characters are
  refused by the encoder.
* Boards need at least 300 ms between two commands on the chain (the driver paces).
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.resync import ParseError as ParseError  # re-exported

SOH = 0x01
BEL = 0x07
MAX_ADDRESS = 247
MAX_TEXT = 512


@dataclass(frozen=True)
class LedFrame:
    """One board command."""

    address: int
    text_bytes: bytes

    @property
    def text(self) -> str:
        """The text, undecodable bytes shown as U+FFFD."""
        return self.text_bytes.decode("gb2312", errors="replace")

    def encode(self) -> bytes:
        """The command's bytes on the wire."""
        return bytes((SOH, self.address)) + self.text_bytes + bytes((BEL,))


def encode_text(text: str) -> bytes:
    """GB2312 bytes of ``text``; ValueError for control characters or characters without a code."""
    if any(ord(c) < 0x20 or c == "\x7f" for c in text):
        raise ValueError(f"control character in {text!r}")
    raw = text.encode("gb2312")
    if len(raw) > MAX_TEXT:
        raise ValueError(f"text of {len(raw)} bytes exceeds {MAX_TEXT}")
    return raw


def encode_frame(address: int, text: str) -> bytes:
    """``01 ADDR text 07``."""
    if not 1 <= address <= MAX_ADDRESS:
        raise ValueError(f"address {address} outside 1–{MAX_ADDRESS}")
    return LedFrame(address, encode_text(text)).encode()


def compose(lines: tuple[str, ...] | list[str], notice: str = "", separator: str = "  ") -> str:
    """One text for a board that shows a single text: lines (and notice) joined."""
    parts = [line for line in lines if line]
    if notice:
        parts.append(notice)
    return separator.join(parts)


class FrameParser:
    """Incremental parser; a new ``01`` abandons an unfinished command. Never raises."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an unfinished command."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget an unfinished command."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[LedFrame | ParseError]:
        """Add received bytes; return the commands and parse errors they complete."""
        out: list[LedFrame | ParseError] = []
        junk = bytearray()
        for byte in data:
            buf = self._buf
            if not buf:
                if byte == SOH:
                    buf.append(byte)
                else:
                    junk.append(byte)
                continue
            if len(buf) == 1:
                buf.append(byte)
                if not 1 <= byte <= MAX_ADDRESS:
                    junk += buf
                    buf.clear()
                continue
            if byte == BEL:
                self._flush(junk, out)
                out.append(LedFrame(buf[1], bytes(buf[2:])))
                buf.clear()
            elif byte == SOH or len(buf) - 2 >= MAX_TEXT:
                junk += buf
                buf.clear()
                if byte == SOH:
                    buf.append(byte)
                else:
                    junk.append(byte)
            else:
                buf.append(byte)
        self._flush(junk, out)
        return out

    @staticmethod
    def _flush(junk: bytearray, out: list[LedFrame | ParseError]) -> None:
        if junk:
            out.append(ParseError("outside a command", bytes(junk)))
            junk.clear()
