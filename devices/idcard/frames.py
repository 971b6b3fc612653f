"""GA/T 467 SAM framing (pure): bytes in, bytes out (see docs/protocols/ga467.md).

Both directions use the same envelope::

    request   AA AA AA 96 69 | LEN_hi LEN_lo | CMD PARA [DATA…]     | CHK
    reply     AA AA AA 96 69 | LEN_hi LEN_lo | SW1 SW2 SW3 [DATA…]  | CHK

LEN is big-endian and counts every byte after itself, CHK included. CHK is the XOR of every
byte after the 5-byte preamble (the two LEN bytes too) up to, not including, CHK. Worked
example, "find card" (public sources in docs/protocols/ga467.md)::

    AA AA AA 96 69 | 00 03 | 20 01 | 22        CHK = 00 ^ 03 ^ 20 ^ 01 = 0x22

A frame is therefore LEN + 7 bytes long. ``FrameParser.feed`` is incremental and
resynchronises on the preamble after any error; it never raises on input bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2
MIN_LEN = 3
"""CMD PARA CHK: the shortest body a LEN may announce."""
MAX_LEN = 0x0A00
"""Longest LEN accepted: the text+photo+fingerprint reply is 0x090A; more is line noise."""


@dataclass(frozen=True)
class Frame:
    """One frame with a good checksum: ``body`` is what lies between LEN and CHK."""

    body: bytes

    def encode(self) -> bytes:
        """The frame's bytes on the wire."""
        return encode_body(self.body)

    @property
    def looks_like_reply(self) -> bool:
        """True if the body starts like a SAM reply (SW1 SW2 = 00 00 and an SW3).

        Requests and replies share the envelope; commands are never 0x00, and every SAM
        reply seen in public captures has SW1 = SW2 = 0x00.
        """
        return len(self.body) >= 3 and self.body[0] == 0 and self.body[1] == 0


@dataclass(frozen=True)
class ParseError:
    """A parse event (not an exception): ``data`` was skipped for ``reason``."""

    reason: str
    data: bytes


def xor_checksum(data: bytes | bytearray | memoryview) -> int:
    """XOR of every byte of ``data`` (LEN_hi, LEN_lo and the body)."""
    chk = 0
    for byte in data:
        chk ^= byte
    return chk


def encode_body(body: bytes) -> bytes:
    """Wrap ``body`` (CMD PARA DATA, or SW1 SW2 SW3 DATA) in preamble, LEN and CHK."""
    length = len(body) + 1
    if not MIN_LEN <= length <= MAX_LEN:
        raise ValueError(f"frame body of {len(body)} bytes is outside 2..{MAX_LEN - 1}")
    head = length.to_bytes(2, "big")
    return PREAMBLE + head + body + bytes((xor_checksum(head + body),))


def encode_request(cmd: int, para: int, data: bytes = b"") -> bytes:
    """A request frame: ``CMD PARA [DATA]``."""
    if not 0 <= cmd <= 0xFF or not 0 <= para <= 0xFF:
        raise ValueError("CMD and PARA are single bytes")
    return encode_body(bytes((cmd, para)) + data)


def encode_reply(sw1: int, sw2: int, sw3: int, data: bytes = b"") -> bytes:
    """A reply frame: ``SW1 SW2 SW3 [DATA]`` (what the SAM sends; used by the simulator)."""
    if not all(0 <= b <= 0xFF for b in (sw1, sw2, sw3)):
        raise ValueError("SW1, SW2 and SW3 are single bytes")
    return encode_body(bytes((sw1, sw2, sw3)) + data)


def check_frame(buf: bytes | bytearray) -> tuple[int, str]:
    """``(0, "")`` need more, ``(-1, reason)`` skip one byte, ``(n, "")`` a good frame of n bytes.

    ``buf`` starts with the preamble.
    """
    if len(buf) < HEADER_LEN:
        return 0, ""
    length = (buf[5] << 8) | buf[6]
    if not MIN_LEN <= length <= MAX_LEN:
        return -1, "bad length"
    total = HEADER_LEN + length
    if len(buf) < total:
        return 0, ""
    if xor_checksum(memoryview(buf)[5 : total - 1]) != buf[total - 1]:
        return -1, "bad checksum"
    return total, ""


def _partial_preamble(buf: bytes | bytearray) -> int:
    """Length of the longest tail of ``buf`` that could begin a preamble."""
    for keep in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
        if buf[-keep:] == PREAMBLE[:keep]:
            return keep
    return 0


class FrameParser:
    """Incremental parser, resynchronising on ``AA AA AA 96 69``; never raises."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._junk = bytearray()
        self._reason = ""
        self.bad_checksums = 0

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget a partial frame (a new exchange starts)."""
        self._buf.clear()
        self._junk.clear()

    def feed(self, data: bytes) -> list[Frame | ParseError]:
        """Add received bytes; return the frames and parse errors they complete."""
        buf = self._buf
        buf += data
        out: list[Frame | ParseError] = []
        while buf:
            start = buf.find(PREAMBLE)
            if start != 0:
                end = len(buf) - _partial_preamble(buf) if start < 0 else start
                if end == 0:
                    break
                self._skip(bytes(buf[:end]), "no preamble")
                del buf[:end]
                continue
            length, reason = check_frame(buf)
            if length == 0:
                break
            if length < 0:
                if reason == "bad checksum":
                    self.bad_checksums += 1
                self._skip(bytes(buf[:1]), reason)
                del buf[:1]
                continue
            self._flush(out)
            out.append(Frame(bytes(buf[HEADER_LEN : length - 1])))
            del buf[:length]
        self._flush(out)
        return out

    def flush(self) -> list[Frame | ParseError]:
        """End of input: give up on a held-back partial frame, re-scanning the bytes after it."""
        out: list[Frame | ParseError] = []
        while self._buf:
            held = bytes(self._buf)
            self._buf.clear()
            self._skip(held[:1], "incomplete frame")
            out += self.feed(held[1:])
        self._flush(out)
        return out

    def _skip(self, data: bytes, reason: str) -> None:
        if not self._junk:
            self._reason = reason
        self._junk += data

    def _flush(self, out: list[Frame | ParseError]) -> None:
        if self._junk:
            out.append(ParseError(self._reason, bytes(self._junk)))
            self._junk.clear()
