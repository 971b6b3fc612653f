"""GA/T 467 framing: public golden vectors, LEN semantics, resync, round trips, fuzzing."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.idcard import frames
from devices.idcard import protocol as p
from devices.idcard.decode import decode_bytes

from .idcard_fixtures import fixture_bytes, public_frames

PUBLIC = public_frames()
FUZZ = settings(max_examples=300, deadline=None)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_frames_parse_and_reencode(name: str) -> None:
    """GIVEN a frame copied from a public implementation WHEN parsed THEN one good frame
    comes out whose re-encoding is byte for byte the same."""
    raw = PUBLIC[name]
    out = frames.FrameParser().feed(raw)
    assert len(out) == 1 and isinstance(out[0], frames.Frame), out
    assert out[0].encode() == raw
    assert len(raw) == int.from_bytes(raw[5:7], "big") + 7  # LEN counts body + CHK


def test_requests_from_the_command_table_match_public_bytes() -> None:
    assert p.BY_NAME["find_card"].encode() == PUBLIC["find_request"]
    assert p.BY_NAME["select_card"].encode() == PUBLIC["select_request"]
    assert p.BY_NAME["read_text_photo"].encode() == PUBLIC["read_request"]
    assert p.BY_NAME["read_text_photo_fp"].encode() == PUBLIC["read_fp_request"]
    assert p.BY_NAME["read_new_address"].encode() == PUBLIC["read_address_request"]
    assert p.BY_NAME["read_sam_id"].encode() == PUBLIC["sam_id_request"]


def test_xor_checksum_of_public_frames() -> None:
    # CHK covers LEN and the body, not the preamble: literal bytes from the sources.
    assert frames.xor_checksum(bytes.fromhex("00 03 20 01")) == 0x22
    assert frames.xor_checksum(bytes.fromhex("00 08 00 00 9F 00 00 00 00")) == 0x97
    assert frames.xor_checksum(bytes.fromhex("00 04 00 00 80")) == 0x84
    for raw in PUBLIC.values():
        assert frames.xor_checksum(raw[5:-1]) == raw[-1]


def test_replies_decode_to_their_status() -> None:
    def status(name: str) -> p.Status | None:
        (frame,) = frames.FrameParser().feed(PUBLIC[name])
        assert isinstance(frame, frames.Frame) and frame.looks_like_reply
        return p.reply_of(frame).status

    assert status("find_reply_found") == p.Status.CARD_FOUND
    assert status("find_reply_no_card") == p.Status.FIND_FAILED
    assert status("select_reply_ok") == p.Status.OK
    assert status("select_reply_failed") == p.Status.SELECT_FAILED
    assert status("read_reply_failed") == p.Status.READ_FAILED


def test_read_reply_fixture_has_the_public_prefix_and_length() -> None:
    raw = fixture_bytes("read_reply_fictitious.hex")
    assert raw[:14] == bytes.fromhex("AAAAAA9669050800009001000400")  # public, see README
    assert len(raw) == 1295
    (frame,) = frames.FrameParser().feed(raw)
    assert isinstance(frame, frames.Frame) and len(frame.body) == 0x0508 - 1


def test_parser_is_incremental_byte_by_byte() -> None:
    stream = PUBLIC["find_request"] + fixture_bytes("read_reply_fictitious.hex")
    parser = frames.FrameParser()
    got = []
    for byte in stream:
        got += parser.feed(bytes((byte,)))
    assert [type(x) for x in got] == [frames.Frame, frames.Frame]
    assert parser.pending == 0


def test_resync_after_junk_and_partial_preamble() -> None:
    """GIVEN line noise, a torn preamble and a corrupt frame between good frames
    THEN the good frames come out and the rest is reported once per run."""
    bad = bytearray(PUBLIC["select_reply_ok"])
    bad[-1] ^= 0x01
    stream = b"\x00\xaa\xaa" + PUBLIC["find_request"] + bytes(bad) + PUBLIC["find_reply_found"]
    out = frames.FrameParser().feed(stream)
    good = [x for x in out if isinstance(x, frames.Frame)]
    errors = [x for x in out if isinstance(x, frames.ParseError)]
    assert [g.encode() for g in good] == [PUBLIC["find_request"], PUBLIC["find_reply_found"]]
    assert [e.reason for e in errors] == ["no preamble", "bad checksum"]
    assert errors[1].data == bytes(bad)


def test_partial_preamble_is_held_until_more_data() -> None:
    parser = frames.FrameParser()
    assert parser.feed(b"\x01\xaa\xaa\xaa\x96") == [frames.ParseError("no preamble", b"\x01")]
    assert parser.pending == 4
    (frame,) = parser.feed(PUBLIC["find_request"][4:])
    assert isinstance(frame, frames.Frame)


def test_impossible_length_is_skipped() -> None:
    raw = frames.PREAMBLE + b"\xff\xff" + b"\x00" * 4 + PUBLIC["find_request"]
    out = frames.FrameParser().feed(raw)
    assert isinstance(out[0], frames.ParseError) and out[0].reason == "bad length"
    assert isinstance(out[-1], frames.Frame)


def test_flush_gives_up_on_a_truncated_frame() -> None:
    parser = frames.FrameParser()
    truncated = fixture_bytes("read_reply_fictitious.hex")[:100]
    assert parser.feed(truncated + PUBLIC["find_request"][:6]) == []
    out = parser.flush()
    assert out and all(isinstance(x, frames.ParseError) for x in out)
    assert parser.pending == 0


def test_encode_rejects_bad_fields() -> None:
    with pytest.raises(ValueError):
        frames.encode_request(0x100, 1)
    with pytest.raises(ValueError):
        frames.encode_body(b"\x00" * frames.MAX_LEN)
    with pytest.raises(ValueError):
        frames.encode_reply(0, 0, 256)


@FUZZ
@given(body=st.binary(min_size=2, max_size=300))
def test_round_trip_any_body(body: bytes) -> None:
    raw = frames.encode_body(body)
    assert len(raw) == len(body) + 8
    (frame,) = frames.FrameParser().feed(raw)
    assert isinstance(frame, frames.Frame) and frame.body == body


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """Valid frames with bytes flipped, dropped, inserted and the stream cut."""
    valid = [*PUBLIC.values(), fixture_bytes("read_reply_fictitious.hex")]
    data = bytearray(b"".join(draw(st.lists(st.sampled_from(valid), min_size=1, max_size=3))))
    for _ in range(draw(st.integers(0, 4))):
        op, pos = draw(st.integers(0, 2)), draw(st.integers(0, max(0, len(data) - 1)))
        if op == 0 and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == 1 and data:
            del data[pos]
        else:
            data.insert(pos, draw(st.integers(0, 255)))
    return bytes(data[: draw(st.integers(0, len(data)))])


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), mutated()), chunk=st.integers(1, 64))
def test_fuzz_parser_gives_only_declared_results(data: bytes, chunk: int) -> None:
    """Only Frame and ParseError come out; every input byte is accounted for."""
    parser = frames.FrameParser()
    out: list[frames.Frame | frames.ParseError] = []
    for i in range(0, len(data), chunk):
        out += parser.feed(data[i : i + chunk])
    out += parser.flush()
    accounted = 0
    for item in out:
        assert isinstance(item, frames.Frame | frames.ParseError)
        accounted += len(item.encode()) if isinstance(item, frames.Frame) else len(item.data)
        if isinstance(item, frames.Frame) and item.looks_like_reply:
            reply = p.reply_of(item)
            if reply.status == p.Status.OK and len(reply.data) >= 4 + p.TEXT_LEN:
                with contextlib.suppress(p.CardLayoutError):
                    p.decode_read_reply(reply)
    assert accounted == len(data)
    assert parser.pending == 0


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), mutated()), show=st.booleans())
def test_fuzz_decode_tool_gives_json(data: bytes, show: bool) -> None:
    """The decode tool turns any bytes into JSON-able dicts and nothing else."""
    out = decode_bytes(data, show_personal=show)
    assert all(isinstance(item, dict) for item in out)
    json.dumps(out, ensure_ascii=False)
