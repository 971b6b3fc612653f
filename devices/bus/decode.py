"""Captured bytes → readable frames, with the same parsers the drivers use.

``decode(protocol, data)`` returns a list of JSON-able dicts, one per frame or parse error,
in wire order. Used by ``hallq devices decode`` and by tests on captures under
``tests/fixtures/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devices.bus.model import Protocol
from devices.hallbus import frames as hb
from devices.hallbus.protocol import BY_CODE, PayloadError, decode_message, message_to_json
from devices.ledchain import frames as lc
from devices.vendor68 import frames as v68
from devices.vendor68.protocol import to_json as v68_json


def parse_hex(text: str) -> bytes:
    """Bytes of hex text, ignoring spaces, colons, commas, ``0x`` prefixes and newlines."""
    cleaned = text.replace("0x", " ").replace("0X", " ")
    for sep in ":,;-\n\r\t":
        cleaned = cleaned.replace(sep, " ")
    return bytes.fromhex("".join(cleaned.split()))


def _error(reason: str, data: bytes) -> dict[str, Any]:
    return {"error": reason, "raw": data.hex(" ")}


def _hallbus_frame(frame: hb.Frame) -> dict[str, Any]:
    out: dict[str, Any] = {
        "raw": frame.encode().hex(" "),
        "address": frame.address,
        "broadcast": frame.address == hb.BROADCAST,
        "seq": frame.seq,
        "direction": "reply" if frame.is_reply else "request",
    }
    cmd = BY_CODE.get(frame.code)
    out["command"] = (
        "error" if frame.command == hb.ERROR_REPLY else (cmd.name if cmd else f"0x{frame.code:02X}")
    )
    try:
        out["fields"] = message_to_json(decode_message(frame))
    except PayloadError as exc:
        out["payload_error"] = str(exc)
        out["payload"] = frame.payload.hex(" ")
    return out


def decode_hallbus(data: bytes) -> list[dict[str, Any]]:
    """hallbus frames in ``data``."""
    parser = hb.FrameParser()
    out = [
        _hallbus_frame(i) if isinstance(i, hb.Frame) else _error(i.reason, i.data)
        for i in parser.feed(data)
    ]
    if parser.pending:
        out.append(_error("incomplete frame", data[-parser.pending :]))
    return out


def decode_vendor68(data: bytes) -> list[dict[str, Any]]:
    """vendor68 frames in ``data``."""
    parser = v68.FrameParser()
    out = [
        {"raw": i.encode().hex(" "), **v68_json(i)}
        if isinstance(i, v68.V68Frame)
        else _error(i.reason, i.data)
        for i in parser.feed(data)
    ]
    if parser.pending:
        out.append(_error("incomplete frame", data[-parser.pending :]))
    return out


def decode_ledchain(data: bytes) -> list[dict[str, Any]]:
    """ledchain commands in ``data``."""
    parser = lc.FrameParser()
    out = [
        {"raw": i.encode().hex(" "), "address": i.address, "text": i.text}
        if isinstance(i, lc.LedFrame)
        else _error(i.reason, i.data)
        for i in parser.feed(data)
    ]
    if parser.pending:
        out.append(_error("incomplete command", data[-parser.pending :]))
    return out


DECODERS: dict[Protocol, Callable[[bytes], list[dict[str, Any]]]] = {
    Protocol.HALLBUS: decode_hallbus,
    Protocol.VENDOR68: decode_vendor68,
    Protocol.LEDCHAIN: decode_ledchain,
}


def decode(protocol: Protocol | str, data: bytes) -> list[dict[str, Any]]:
    """Decode ``data`` captured on a bus speaking ``protocol``."""
    return DECODERS[Protocol(protocol)](data)
