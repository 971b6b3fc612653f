"""ISO 7816-4 / PC/SC APDUs the citizen card reader sends, and their answers (pure).

    GET UID (PC/SC part 3)   FF CA 00 00 00            → UID … 90 00
    SELECT by AID            00 A4 04 00 Lc AID 00     → [FCI] 90 00 (or 61 XX)
    SELECT EF by file id     00 A4 02 00 02 FID        → 90 00
    READ BINARY              00 B0 P1 P2 Le            → data 90 00 (P1 P2 = offset, 15 bits)

A reply is data followed by SW1 SW2; 90 00 is success, 61 XX means XX more bytes wait for
GET RESPONSE (00 C0 00 00 XX), 6C XX means "send again with Le = XX".
"""

from __future__ import annotations

from dataclasses import dataclass

GET_UID = bytes.fromhex("FF CA 00 00 00")
GET_RESPONSE_HEAD = bytes.fromhex("00 C0 00 00")
MAX_READ_OFFSET = 0x7FFF

SW_TEXT: dict[int, str] = {
    0x9000: "success",
    0x6282: "end of file reached before Le bytes",
    0x6700: "wrong length",
    0x6981: "command incompatible with file structure",
    0x6982: "security status not satisfied",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A86: "incorrect P1 P2",
    0x6B00: "wrong parameters (offset outside the EF)",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
}


@dataclass(frozen=True)
class Response:
    """A response APDU."""

    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        """SW1 SW2 as one number (0x9000)."""
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        """90 00."""
        return self.sw == 0x9000

    def describe(self) -> str:
        """``SW 6A82 (file or application not found)``."""
        text = SW_TEXT.get(self.sw)
        if text is None and self.sw1 == 0x61:
            text = f"{self.sw2} more bytes available"
        if text is None and self.sw1 == 0x6C:
            text = f"wrong Le, use {self.sw2}"
        return f"SW {self.sw:04X} ({text or 'unknown status'})"

    def __repr__(self) -> str:  # file contents may be personal: only their length
        return f"Response({self.describe()}, data={len(self.data)} bytes)"


def parse_response(raw: bytes | list[int]) -> Response:
    """Split data and status words; ValueError if shorter than two bytes."""
    raw = bytes(raw)
    if len(raw) < 2:
        raise ValueError(f"a response APDU has at least 2 bytes, got {len(raw)}")
    return Response(raw[:-2], raw[-2], raw[-1])


def select_aid(aid: bytes) -> bytes:
    """SELECT by DF name (AID), first or only occurrence, asking for the FCI."""
    if not 5 <= len(aid) <= 16:
        raise ValueError(f"an AID has 5 to 16 bytes, got {len(aid)}")
    return bytes((0x00, 0xA4, 0x04, 0x00, len(aid))) + aid + b"\x00"


def select_file(file_id: bytes) -> bytes:
    """SELECT EF under the current DF by its 2-byte file identifier."""
    if len(file_id) != 2:
        raise ValueError(f"a file identifier has 2 bytes, got {len(file_id)}")
    return bytes((0x00, 0xA4, 0x02, 0x00, 0x02)) + file_id


def read_binary(offset: int, length: int) -> bytes:
    """READ BINARY of the current EF; ``length`` 1–256 (256 is sent as Le = 00)."""
    if not 0 <= offset <= MAX_READ_OFFSET:
        raise ValueError(f"offset {offset} outside 0..{MAX_READ_OFFSET}")
    if not 1 <= length <= 256:
        raise ValueError(f"length {length} outside 1..256")
    return bytes((0x00, 0xB0, offset >> 8, offset & 0xFF, length & 0xFF))


def get_response(length: int) -> bytes:
    """GET RESPONSE for the bytes announced by 61 XX."""
    return GET_RESPONSE_HEAD + bytes((length & 0xFF,))


def with_le(command: bytes, le: int) -> bytes:
    """``command`` with its last byte (Le) replaced, for a 6C XX answer."""
    return command[:-1] + bytes((le & 0xFF,))
