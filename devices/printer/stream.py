"""Incremental ESC/POS stream decoder: bytes in, commands out (pure, no I/O).

It knows the length of every command python-escpos sends and of the common fixed-size
ones, so the data inside a raster image or a QR code is never mistaken for a command. Bytes
from 0x20 up are text (GB18030 on Chinese printers); an unknown ``ESC x``/``GS x``/``FS x``
is reported as ``unknown`` with its two bytes, and decoding goes on after it.

Used by the printer simulator and to read captured print jobs (``decode_all``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

LF, CR, HT, FF = 0x0A, 0x0D, 0x09, 0x0C
DLE, ESC, FS, GS = 0x10, 0x1B, 0x1C, 0x1D


class Kind(enum.Enum):
    """What a decoded command does, as far as the simulator cares."""

    TEXT = "text"
    LINE_FEED = "line_feed"
    INIT = "init"
    FEED = "feed"
    RASTER = "raster"
    QR = "qr"
    GRAPHICS = "graphics"
    CUT = "cut"
    REALTIME_STATUS = "realtime_status"
    REALTIME_REQUEST = "realtime_request"
    TRANSMIT_STATUS = "transmit_status"
    SETTING = "setting"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Command:
    """One decoded command: its kind, name, and the raw bytes (header and data)."""

    kind: Kind
    name: str
    raw: bytes

    @property
    def arg(self) -> int:
        """The first parameter byte of a fixed-size command (after the 2-byte prefix)."""
        return self.raw[2] if len(self.raw) > 2 else 0


# Fixed-size commands after a prefix byte: (prefix, second byte) -> (total length, kind, name).
FIXED: dict[tuple[int, int], tuple[int, Kind, str]] = {
    (DLE, 0x04): (3, Kind.REALTIME_STATUS, "DLE EOT"),
    (DLE, 0x05): (3, Kind.REALTIME_REQUEST, "DLE ENQ"),
    (ESC, 0x40): (2, Kind.INIT, "ESC @"),
    (ESC, 0x64): (3, Kind.FEED, "ESC d"),
    (ESC, 0x4A): (3, Kind.FEED, "ESC J"),
    (ESC, 0x32): (2, Kind.SETTING, "ESC 2"),
    (ESC, 0x33): (3, Kind.SETTING, "ESC 3"),
    (ESC, 0x61): (3, Kind.SETTING, "ESC a"),
    (ESC, 0x21): (3, Kind.SETTING, "ESC !"),
    (ESC, 0x45): (3, Kind.SETTING, "ESC E"),
    (ESC, 0x47): (3, Kind.SETTING, "ESC G"),
    (ESC, 0x2D): (3, Kind.SETTING, "ESC -"),
    (ESC, 0x4D): (3, Kind.SETTING, "ESC M"),
    (ESC, 0x74): (3, Kind.SETTING, "ESC t"),
    (ESC, 0x52): (3, Kind.SETTING, "ESC R"),
    (ESC, 0x56): (3, Kind.SETTING, "ESC V"),
    (ESC, 0x7B): (3, Kind.SETTING, "ESC {"),
    (ESC, 0x20): (3, Kind.SETTING, "ESC SP"),
    (ESC, 0x3D): (3, Kind.SETTING, "ESC ="),
    (ESC, 0x63): (4, Kind.SETTING, "ESC c"),
    (ESC, 0x70): (5, Kind.SETTING, "ESC p"),
    (GS, 0x21): (3, Kind.SETTING, "GS !"),
    (GS, 0x42): (3, Kind.SETTING, "GS B"),
    (GS, 0x48): (3, Kind.SETTING, "GS H"),
    (GS, 0x66): (3, Kind.SETTING, "GS f"),
    (GS, 0x68): (3, Kind.SETTING, "GS h"),
    (GS, 0x77): (3, Kind.SETTING, "GS w"),
    (GS, 0x61): (3, Kind.SETTING, "GS a"),
    (GS, 0x4C): (4, Kind.SETTING, "GS L"),
    (GS, 0x57): (4, Kind.SETTING, "GS W"),
    (GS, 0x72): (3, Kind.TRANSMIT_STATUS, "GS r"),
    (FS, 0x26): (2, Kind.SETTING, "FS &"),
    (FS, 0x2E): (2, Kind.SETTING, "FS ."),
    (FS, 0x21): (3, Kind.SETTING, "FS !"),
    (FS, 0x43): (3, Kind.SETTING, "FS C"),
}

NEED_MORE = -1
Measure = Callable[[bytes], int]
"""Length of the command at the start of the buffer, or NEED_MORE."""


def _raster_length(buf: bytes) -> int:
    # GS v 0 m xL xH yL yH d1…dk, k = (xL + 256 xH) * (yL + 256 yH)
    if len(buf) < 8:
        return NEED_MORE
    x = buf[4] | buf[5] << 8
    y = buf[6] | buf[7] << 8
    return 8 + x * y


def _paren_length(buf: bytes) -> int:
    # GS ( fn pL pH …: p bytes follow the length
    if len(buf) < 5:
        return NEED_MORE
    return 5 + (buf[3] | buf[4] << 8)


def _cut_length(buf: bytes) -> int:
    # GS V m (m = 0, 1, 48, 49) or GS V m n (m = 65, 66, 97, 98, 103, 104)
    if len(buf) < 3:
        return NEED_MORE
    return 3 if buf[2] in (0, 1, 48, 49) else 4


def _column_image_length(buf: bytes) -> int:
    # ESC * m nL nH d1…dk, k = n (m = 0, 1) or 3n (m = 32, 33)
    if len(buf) < 5:
        return NEED_MORE
    n = buf[3] | buf[4] << 8
    return 5 + (n if buf[2] in (0, 1) else 3 * n)


def _barcode_length(buf: bytes) -> int:
    # GS k m d1…dk NUL (m = 0..6) or GS k m n d1…dn (m = 65..79)
    if len(buf) < 4:
        return NEED_MORE
    if buf[2] <= 6:
        end = buf.find(b"\x00", 3)
        return NEED_MORE if end < 0 else end + 1
    return 4 + buf[3]


VARIABLE: dict[tuple[int, int], tuple[Measure, Kind, str]] = {
    (GS, 0x76): (_raster_length, Kind.RASTER, "GS v 0"),
    (GS, 0x28): (_paren_length, Kind.SETTING, "GS ("),
    (GS, 0x56): (_cut_length, Kind.CUT, "GS V"),
    (ESC, 0x2A): (_column_image_length, Kind.GRAPHICS, "ESC *"),
    (GS, 0x6B): (_barcode_length, Kind.GRAPHICS, "GS k"),
}

SINGLE = {LF: (Kind.LINE_FEED, "LF"), CR: (Kind.SETTING, "CR"), HT: (Kind.SETTING, "HT")}


def _paren_kind(raw: bytes) -> tuple[Kind, str]:
    if raw[2] == 0x6B:  # GS ( k: 2D codes; cn 49 is QR
        return Kind.QR, "GS ( k"
    if raw[2] == 0x4C:  # GS ( L: graphics
        return Kind.GRAPHICS, "GS ( L"
    return Kind.SETTING, f"GS ( {chr(raw[2])}"


class StreamDecoder:
    """Feed bytes in any chunks; get every complete command, in order."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a command."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget a partial command."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[Command]:
        """Decode ``data`` (appended to what was pending)."""
        self._buf += data
        out: list[Command] = []
        pos = 0
        buf = bytes(self._buf)
        while pos < len(buf):
            length, kind, name = self._measure(buf, pos)
            if length == NEED_MORE:
                break
            raw = buf[pos : pos + length]
            if kind is Kind.SETTING and name == "GS (":
                kind, name = _paren_kind(raw)
            out.append(Command(kind, name, raw))
            pos += length
        del self._buf[:pos]
        return out

    @staticmethod
    def _measure(buf: bytes, pos: int) -> tuple[int, Kind, str]:
        first = buf[pos]
        if first >= 0x20:
            end = pos
            while end < len(buf) and buf[end] >= 0x20:
                end += 1
            return end - pos, Kind.TEXT, "text"
        if first in SINGLE:
            kind, name = SINGLE[first]
            return 1, kind, name
        if first not in (DLE, ESC, FS, GS):
            return 1, Kind.UNKNOWN, f"{first:02X}"
        if pos + 1 >= len(buf):
            return NEED_MORE, Kind.UNKNOWN, ""
        key = (first, buf[pos + 1])
        if key in FIXED:
            length, kind, name = FIXED[key]
            return (length if pos + length <= len(buf) else NEED_MORE), kind, name
        if key in VARIABLE:
            measure, kind, name = VARIABLE[key]
            length = measure(buf[pos : pos + 8] if key != (GS, 0x6B) else buf[pos:])
            if length == NEED_MORE or pos + length > len(buf):
                return NEED_MORE, kind, name
            return length, kind, name
        return 2, Kind.UNKNOWN, f"{first:02X} {buf[pos + 1]:02X}"


def decode_all(data: bytes) -> tuple[list[Command], int]:
    """Every command in ``data`` and the number of trailing bytes of an unfinished one."""
    decoder = StreamDecoder()
    commands = decoder.feed(data)
    return commands, decoder.pending


# ---- payloads of the commands the simulator records -----------------------------------------

_INVERT = bytes(255 - i for i in range(256))


def raster_image(command: Command) -> Image.Image:
    """The dots of a ``GS v 0`` command as a 1-bit image (black where the printer burns)."""
    raw = command.raw
    width_bytes = raw[4] | raw[5] << 8
    height = raw[6] | raw[7] << 8
    data = raw[8:].translate(_INVERT)  # ESC/POS: 1 = dot printed; PIL '1': 1 = white
    return Image.frombytes("1", (width_bytes * 8, height), data)


def raster_scale(command: Command) -> tuple[int, int]:
    """(horizontal, vertical) dot multipliers of a ``GS v 0`` command's mode byte m."""
    m = command.raw[3] & 0x03
    return (2 if m & 1 else 1), (2 if m & 2 else 1)


def qr_parts(command: Command) -> tuple[int, bytes]:
    """(function, data) of a ``GS ( k`` command for QR (cn = 49); fn 80 stores the data."""
    raw = command.raw
    cn, fn = raw[5], raw[6]
    if cn != 0x31:
        return -1, b""
    data = raw[8:] if fn == 0x50 else raw[7:]  # fn 80 has m = '0' before the data
    return fn, data


def iter_text(commands: list[Command], encoding: str = "gb18030") -> Iterator[str]:
    """The text of ``commands``, a line per LF."""
    line = bytearray()
    for command in commands:
        if command.kind is Kind.TEXT:
            line += command.raw
        elif command.kind is Kind.LINE_FEED:
            yield line.decode(encoding, errors="replace")
            line.clear()
    if line:
        yield line.decode(encoding, errors="replace")
