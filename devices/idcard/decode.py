"""Captured GA/T 467 bytes → readable JSON, with the parser the driver uses.

    decode(["AA AA AA 96 69 00 03 20 01 22", "aaaaaa9669000800009f0000000097"])

Each argument is hex text (spaces, colons, ``0x`` allowed); all are joined into one stream,
as a capture would be. Personal fields (name, ID number, address, birth date, photo) and
the raw bytes of frames that carry them are masked unless ``show_personal`` is true.
Used by ``hallq devices decode --protocol ga467``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from devices.idcard import frames
from devices.idcard import protocol as p

MASKED_RAW_BYTES = 14
"""Of a frame carrying a card's data, only the envelope and length fields are shown."""
MAX_JUNK_SHOWN = 64


def parse_hex(text: str) -> bytes:
    """Bytes of hex text, ignoring spaces, colons, commas, ``0x`` prefixes and newlines."""
    cleaned = text.replace("0x", " ").replace("0X", " ")
    for sep in ":,;-\n\r\t":
        cleaned = cleaned.replace(sep, " ")
    return bytes.fromhex("".join(cleaned.split()))


def _request(frame: frames.Frame) -> dict[str, Any]:
    body = frame.body
    command = p.BY_CODE.get((body[0], body[1])) if len(body) >= 2 else None
    return {
        "raw": frame.encode().hex(" "),
        "direction": "request",
        "command": command.name if command else "unknown",
        "cmd": f"0x{body[0]:02X}",
        "para": f"0x{body[1]:02X}" if len(body) > 1 else None,
        "data": body[2:].hex(" "),
    }


def _card_fields(reply: p.Reply, show_personal: bool) -> dict[str, Any]:
    data = reply.data
    with_fp = len(data) > 4 + p.TEXT_LEN + p.PHOTO_LEN
    try:
        card = p.decode_read_reply(reply, with_fp)
    except p.UnsupportedCardType as exc:
        return {"card_error": str(exc), "card_type": exc.card_type}
    except p.CardLayoutError as exc:
        return {"card_error": str(exc)}
    return {"card": card.to_dict(show_personal)}


def _reply(frame: frames.Frame, show_personal: bool) -> dict[str, Any]:
    reply = p.reply_of(frame)
    zh, en = p.status_text(reply.sw3)
    status = reply.status
    raw = frame.encode()
    carries_card = status == p.Status.OK and len(reply.data) >= 4 + p.TEXT_LEN
    out: dict[str, Any] = {
        "raw": raw.hex(" ")
        if show_personal or not carries_card
        else raw[:MASKED_RAW_BYTES].hex(" ") + f" … ({len(raw)} bytes)",
        "direction": "reply",
        "sw": f"{reply.sw1:02X} {reply.sw2:02X} {reply.sw3:02X}",
        "status": status.name.lower() if status else "unknown",
        "text_zh": zh,
        "text_en": en,
        "data_bytes": len(reply.data),
    }
    if carries_card:
        out.update(_card_fields(reply, show_personal))
    elif reply.data:
        out["data"] = reply.data.hex(" ")
    return out


def _junk_hex(data: bytes, show_personal: bool) -> str:
    """Skipped bytes; a long run may be a corrupt card reply, so it is cut unless asked."""
    if show_personal or len(data) <= MAX_JUNK_SHOWN:
        return data.hex(" ")
    return data[:MASKED_RAW_BYTES].hex(" ") + f" … ({len(data)} bytes)"


def decode_bytes(data: bytes, show_personal: bool = False) -> list[dict[str, Any]]:
    """Every frame and parse error in ``data``, in wire order."""
    parser = frames.FrameParser()
    out: list[dict[str, Any]] = []
    for item in parser.feed(data) + parser.flush():
        if isinstance(item, frames.ParseError):
            out.append({"error": item.reason, "raw": _junk_hex(item.data, show_personal)})
        elif item.looks_like_reply:
            out.append(_reply(item, show_personal))
        else:
            out.append(_request(item))
    return out


def decode(hex_frames: str | Iterable[str], show_personal: bool = False) -> list[dict[str, Any]]:
    """Decode hex text (one string or several, joined as one stream); ValueError if not hex."""
    texts = [hex_frames] if isinstance(hex_frames, str) else list(hex_frames)
    return decode_bytes(parse_hex(" ".join(texts)), show_personal)
