"""hallbus golden vectors: literal hex written by hand (also in docs/protocols/hallbus.md).

The CRCs were computed with the bitwise function below, never with devices.crc; each test
checks the literal bytes three ways: the reference CRC, the parser, and the encoder.
"""

from __future__ import annotations

from typing import Any

import pytest

from devices.hallbus.frames import Frame, FrameParser
from devices.hallbus.protocol import Message, decode_message, frame_of


def crc16_modbus_bitwise(data: bytes) -> int:
    """Reference CRC-16/Modbus, bit by bit."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


# (hex on the wire, address, seq, message)
VECTORS: list[tuple[str, int, int, Message]] = [
    # master polls evaluator 7 (boot 0x1234) and acknowledges its event #2
    ("A5 07 10 02 03 34 12 02 DA 7B", 7, 0x10, Message("poll", {"boot": 0x1234, "ack": 2})),
    # evaluator 7 answers: boot 0x1234, invitation open, 1 event: #3 RATING 非常满意 for invitation 258
    (
        "A5 07 10 82 09 34 12 01 01 03 02 01 02 01 98 DB",
        7,
        0x10,
        Message(
            "poll",
            {
                "boot": 0x1234,
                "flags": 1,
                "pending": 1,
                "event_no": 3,
                "event_type": 2,
                "event_code": 1,
                "event_arg": 258,
            },
            reply=True,
        ),
    ),
    # keypad 3: boot 0xBEEF, 2 pending, head #1 KEY transfer to service 4
    (
        "A5 03 22 82 09 EF BE 00 02 01 01 06 04 00 D1 D6",
        3,
        0x22,
        Message(
            "poll",
            {
                "boot": 0xBEEF,
                "flags": 0,
                "pending": 2,
                "event_no": 1,
                "event_type": 1,
                "event_code": 6,
                "event_arg": 4,
            },
            reply=True,
        ),
    ),
    ("A5 03 01 01 00 50 30", 3, 0x01, Message("identify")),
    (
        "A5 03 01 81 0A 04 01 EF BE 01 08 03 4B 31 32 2C A7",
        3,
        0x01,
        Message(
            "identify",
            {"kind": 4, "version": 1, "boot": 0xBEEF, "lines": 1, "columns": 8, "model": "K12"},
            reply=True,
        ),
    ),
    # strip 1, flashing, "A012" / "请到3号窗口" (GB2312 C7EB B5BD 33 BAC5 B4B0 BFDA)
    (
        "A5 01 05 10 13 01 02 04 41 30 31 32 0B C7 EB B5 BD 33 BA C5 B4 B0 BF DA 5A 8A",
        1,
        0x05,
        Message("strip_set", {"effect": 1, "lines": ("A012", "请到3号窗口")}),
    ),
    ("A5 01 05 90 00 7D D9", 1, 0x05, Message("strip_set", {}, reply=True)),
    (
        "A5 01 06 FF 02 10 03 55 DF",
        1,
        0x06,
        Message("error", {"command": 0x10, "error": 3}, reply=True),
    ),
    (
        "A5 07 11 21 04 02 01 3C 00 B6 E5",
        7,
        0x11,
        Message("invite", {"invitation": 258, "timeout_s": 60}),
    ),
    ("A5 00 2A 40 01 08 2D 9A", 0, 0x2A, Message("brightness", {"level": 8})),
]


@pytest.mark.parametrize(("wire", "address", "seq", "message"), VECTORS)
def test_reference_crc_of_literal(wire: str, address: int, seq: int, message: Message) -> None:
    raw = bytes.fromhex(wire)
    assert crc16_modbus_bitwise(raw[1:-2]) == raw[-2] | raw[-1] << 8


@pytest.mark.parametrize(("wire", "address", "seq", "message"), VECTORS)
def test_parser_reads_literal(wire: str, address: int, seq: int, message: Message) -> None:
    (frame,) = FrameParser().feed(bytes.fromhex(wire))
    assert isinstance(frame, Frame)
    assert (frame.address, frame.seq) == (address, seq)
    decoded = decode_message(frame)
    assert decoded == message


@pytest.mark.parametrize(("wire", "address", "seq", "message"), VECTORS)
def test_encoder_writes_literal(wire: str, address: int, seq: int, message: Message) -> None:
    assert frame_of(address, seq, message).encode() == bytes.fromhex(wire)


def test_vectors_back_to_back_with_noise() -> None:
    """GIVEN every vector glued together with noise between THEN each is recovered in order."""
    stream = b"".join(b"\x00\xa5\x13" + bytes.fromhex(v[0]) for v in VECTORS)
    parser = FrameParser()
    items = parser.feed(stream) + parser.flush()
    frames: list[Any] = [i for i in items if isinstance(i, Frame)]
    assert [f.encode().hex() for f in frames] == [bytes.fromhex(v[0]).hex() for v in VECTORS]
