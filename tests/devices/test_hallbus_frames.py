"""hallbus framing and messages: round trips, resynchronisation, declared errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.hallbus.frames import (
    MAX_ADDRESS,
    MAX_PAYLOAD,
    Frame,
    FrameParser,
    ParseError,
    encode_frame,
)
from devices.hallbus.protocol import (
    BY_NAME,
    COMMANDS,
    FieldType,
    Message,
    PayloadError,
    decode_message,
    frame_of,
    max_reply_frame,
    request,
    status_of,
)

frames = st.builds(
    Frame,
    address=st.integers(0, MAX_ADDRESS),
    seq=st.integers(0, 255),
    command=st.integers(0, 255),
    payload=st.binary(max_size=MAX_PAYLOAD),
)


@given(frames)
def test_frame_round_trip(frame: Frame) -> None:
    assert FrameParser().feed(frame.encode()) == [frame]


@given(st.lists(frames, min_size=1, max_size=5), st.integers(1, 9))
def test_frames_fed_in_pieces(items: list[Frame], chunk: int) -> None:
    """GIVEN frames split at arbitrary points THEN the parser returns each once, in order."""
    stream = b"".join(f.encode() for f in items)
    parser = FrameParser()
    out = []
    for i in range(0, len(stream), chunk):
        out += parser.feed(stream[i : i + chunk])
    assert out == items
    assert parser.pending == 0


def test_bad_crc_is_reported_and_the_next_frame_survives() -> None:
    good = encode_frame(3, 1, 0x02, b"\x00")
    bad = bytearray(good)
    bad[5] ^= 0x40
    out = FrameParser().feed(bytes(bad) + good)
    assert isinstance(out[0], ParseError) and out[0].reason == "bad crc"
    assert out[-1] == Frame(3, 1, 0x02, b"\x00")
    assert b"".join(i.data for i in out if isinstance(i, ParseError)) == bytes(bad)


def test_false_sync_inside_garbage_and_huge_length() -> None:
    """GIVEN a stray A5 followed by a length beyond 240 THEN it is skipped, not waited for."""
    good = encode_frame(9, 2, 0x82, bytes(9))
    out = FrameParser().feed(b"\xa5\x01\x02\x03\xf5" + good)
    assert out[-1] == Frame(9, 2, 0x82, bytes(9))
    assert isinstance(out[0], ParseError)


def test_address_above_247_is_not_a_frame() -> None:
    raw = bytearray(encode_frame(1, 0, 1))
    raw[1] = 248
    assert all(isinstance(i, ParseError) for i in FrameParser().feed(bytes(raw)))


def test_reset_forgets_a_partial_frame() -> None:
    parser = FrameParser()
    parser.feed(encode_frame(1, 0, 1, b"abc")[:6])
    assert parser.pending == 6
    parser.reset()
    assert parser.pending == 0


@pytest.mark.parametrize(
    ("address", "seq", "command", "payload"),
    [(248, 0, 0, b""), (1, 256, 0, b""), (1, 0, -1, b""), (1, 0, 0, bytes(241))],
)
def test_encode_frame_rejects_out_of_range(
    address: int, seq: int, command: int, payload: bytes
) -> None:
    with pytest.raises(ValueError):
        encode_frame(address, seq, command, payload)


# messages ----------------------------------------------------------------------------------

GB_TEXT = st.text(alphabet="请到号窗口暂停服务欢迎光临张三李四AB0123456789 -→", max_size=20)
ASCII_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)


def field_value(ftype: FieldType) -> st.SearchStrategy[object]:
    return {
        FieldType.U8: st.integers(0, 255),
        FieldType.U16: st.integers(0, 0xFFFF),
        FieldType.GB: GB_TEXT,
        FieldType.ASCII: ASCII_TEXT,
        FieldType.LINES: st.lists(GB_TEXT, max_size=4).map(tuple),
    }[ftype]


@st.composite
def messages(draw: st.DrawFn) -> Message:
    cmd = draw(st.sampled_from(COMMANDS))
    reply = draw(st.booleans())
    defs = cmd.reply if reply else cmd.request
    return Message(cmd.name, {d.name: draw(field_value(d.type)) for d in defs}, reply=reply)


@given(messages(), st.integers(1, MAX_ADDRESS), st.integers(0, 255))
def test_message_round_trip(message: Message, address: int, seq: int) -> None:
    (frame,) = FrameParser().feed(frame_of(address, seq, message).encode())
    assert isinstance(frame, Frame)
    assert decode_message(frame) == message


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("poll", {"ack": 256}),
        ("poll", {}),
        ("poll", {"ack": 1, "extra": 2}),
        ("strip_set", {"effect": 0, "lines": "not a list"}),
        ("strip_set", {"effect": 0, "lines": ("𠀀",)}),
        ("keypad_display", {"text": "123456789"}),
        ("keypad_display", {"text": "号"}),
        ("board_notice", {"text": "长" * 101}),
        ("nonsense", {}),
    ],
)
def test_request_rejects_what_does_not_fit(name: str, fields: dict[str, object]) -> None:
    with pytest.raises(PayloadError):
        request(name, **fields)


def test_unknown_command_and_trailing_bytes_are_payload_errors() -> None:
    with pytest.raises(PayloadError):
        decode_message(Frame(1, 0, 0x7E))
    with pytest.raises(PayloadError):
        decode_message(Frame(1, 0, 0x02, b"\x00\x00"))


def test_reply_sizes_bound_the_timeouts() -> None:
    assert max_reply_frame("poll") == 16
    assert max_reply_frame("identify") == 7 + 7 + 16
    assert max_reply_frame("strip_set") == 9
    assert set(BY_NAME) >= {"poll", "identify", "strip_set", "invite"}


def test_status_view_of_a_poll_reply() -> None:
    msg = Message("poll", {"boot": 5, "flags": 0, "pending": 0, "event_no": 0, "event_type": 0,
                           "event_code": 0, "event_arg": 0}, reply=True)  # fmt: skip
    assert status_of(msg).event is None
    newer = status_of(Message("poll", {**msg.fields, "event_no": 1, "event_type": 9}, reply=True))
    assert newer.event is not None and newer.event.type == 9
    assert newer.event.key is None and newer.event.rating is None
