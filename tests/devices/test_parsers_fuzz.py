"""Fuzzing every parser: random bytes and mutated valid frames give only the declared results.

Declared results: frame objects and ParseError events from ``feed``/``flush``; PayloadError
from hallbus ``decode_message``; JSON-able dicts from the decode tool. Nothing else may escape.
"""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.bus.decode import decode
from devices.hallbus import frames as hb
from devices.hallbus.protocol import PayloadError, decode_message, frame_of, request
from devices.ledchain import frames as lc
from devices.vendor68 import frames as v68
from devices.vendor68.protocol import interpret

FUZZ = settings(max_examples=300, deadline=None)


@st.composite
def mutated(draw: st.DrawFn, valid: list[bytes]) -> bytes:
    """A stream of valid frames with bytes flipped, dropped, inserted and cut."""
    data = bytearray(b"".join(draw(st.lists(st.sampled_from(valid), min_size=1, max_size=4))))
    for _ in range(draw(st.integers(0, 4))):
        op, pos = draw(st.integers(0, 2)), draw(st.integers(0, max(0, len(data) - 1)))
        if op == 0 and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == 1 and data:
            del data[pos]
        else:
            data.insert(pos, draw(st.integers(0, 255)))
    return bytes(data[: draw(st.integers(0, len(data)))])


HALLBUS_VALID = [
    frame_of(7, 1, request("poll", boot=0x1234, ack=3)).encode(),
    frame_of(1, 9, request("strip_set", effect=2, lines=("A012 请到3号窗口", "暂停服务"))).encode(),
    frame_of(2, 4, request("board_notice", text="欢迎")).encode(),
    bytes.fromhex("A5 07 10 82 09 34 12 01 01 03 02 01 02 01 98 DB"),
    bytes.fromhex("A5 01 06 FF 02 10 03 55 DF"),
]
VENDOR_VALID = [
    bytes.fromhex("FF 68 08 08 68 05 02 0A 0A 0A 01 02 03 2B 16"),
    bytes.fromhex("FF 68 03 03 68 05 11 01 17 16"),
    bytes.fromhex("FF 68 04 04 68 03 01 06 0F 19 16"),
    bytes.fromhex("FF 68 02 02 68 05 03 08 16"),
]
LED_VALID = [
    lc.encode_frame(3, "A012 请到3号窗口"),
    lc.encode_frame(1, "暂停服务"),
    lc.encode_frame(7, ""),
]


def _feed_hallbus(data: bytes, chunk: int) -> None:
    parser = hb.FrameParser()
    items = [i for k in range(0, len(data), chunk) for i in parser.feed(data[k : k + chunk])]
    items += parser.flush()
    for item in items:
        assert isinstance(item, hb.Frame | hb.ParseError)
        if isinstance(item, hb.Frame):
            with contextlib.suppress(PayloadError):
                decode_message(item)


def _feed_vendor(data: bytes, chunk: int) -> None:
    parser = v68.FrameParser()
    items = [i for k in range(0, len(data), chunk) for i in parser.feed(data[k : k + chunk])]
    for item in items + parser.flush():
        assert isinstance(item, v68.V68Frame | v68.ParseError)
        if isinstance(item, v68.V68Frame):
            interpret(item)


def _feed_led(data: bytes, chunk: int) -> None:
    parser = lc.FrameParser()
    for k in range(0, len(data), chunk):
        for item in parser.feed(data[k : k + chunk]):
            assert isinstance(item, lc.LedFrame | lc.ParseError)
            if isinstance(item, lc.LedFrame):
                assert isinstance(item.text, str)


@FUZZ
@given(st.binary(max_size=600), st.integers(1, 64))
def test_hallbus_random_bytes(data: bytes, chunk: int) -> None:
    _feed_hallbus(data, chunk)


@FUZZ
@given(mutated(HALLBUS_VALID), st.integers(1, 64))
def test_hallbus_mutated_frames(data: bytes, chunk: int) -> None:
    _feed_hallbus(data, chunk)


@FUZZ
@given(st.binary(max_size=600), st.integers(1, 64))
def test_vendor68_random_bytes(data: bytes, chunk: int) -> None:
    _feed_vendor(data, chunk)


@FUZZ
@given(mutated(VENDOR_VALID), st.integers(1, 64))
def test_vendor68_mutated_frames(data: bytes, chunk: int) -> None:
    _feed_vendor(data, chunk)


@FUZZ
@given(st.binary(max_size=1200), st.integers(1, 64))
def test_ledchain_random_bytes(data: bytes, chunk: int) -> None:
    _feed_led(data, chunk)


@FUZZ
@given(mutated(LED_VALID), st.integers(1, 64))
def test_ledchain_mutated_frames(data: bytes, chunk: int) -> None:
    _feed_led(data, chunk)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["hallbus", "vendor68", "ledchain"]), st.binary(max_size=300))
def test_decode_tool_always_returns_json(protocol: str, data: bytes) -> None:
    json.dumps(decode(protocol, data), ensure_ascii=False)


@FUZZ
@given(
    st.builds(
        hb.Frame,
        st.integers(0, 247),
        st.integers(0, 255),
        st.integers(0, 255),
        st.binary(max_size=60),
    )
)
def test_hallbus_decode_message_raises_only_payload_error(frame: hb.Frame) -> None:
    with contextlib.suppress(PayloadError):
        decode_message(frame)
