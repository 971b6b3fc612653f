"""The ESC/POS stream decoder and the ticket job encoding, with literal bytes.

Command layouts from the Epson ESC/POS Command Reference: ``ESC @`` 1B 40; ``GS v 0 m xL xH
yL yH d1…dk`` with k = x·y bytes, 1 bits printed; ``ESC d n`` 1B 64 n; ``GS V m`` 1D 56 m;
``GS ( k pL pH cn fn …`` with QR as cn = 0x31 (fn 0x41 model, 0x43 size, 0x45 error level,
0x50 store data after m = 0x30, 0x51 print). The QR bytes below are what python-escpos 3.1
``qr(native=True)`` sends (checked byte by byte against that layout).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from devices.printer.driver import encode_job
from devices.printer.stream import (
    Kind,
    StreamDecoder,
    decode_all,
    iter_text,
    qr_parts,
    raster_image,
    raster_scale,
)

# A 16×2 image with the top-left and bottom-right dots black, as a ticket job.
TINY_JOB = bytes.fromhex("1b40 1d7630 00 0200 0200 8000 0001 1b6406 1d5600")
NATIVE_QR = bytes.fromhex(
    "1d286b 0400 31 41 32 00"
    "1d286b 0300 31 43 04"
    "1d286b 0300 31 45 30"
    "1d286b 1100 31 50 30 68747470733a2f2f782e636e2f61"
    "1d286b 0300 31 51 30"
)


def tiny_image() -> Image.Image:
    image = Image.new("1", (16, 2), 1)
    image.putpixel((0, 0), 0)
    image.putpixel((15, 1), 0)
    return image


def test_python_escpos_encodes_the_ticket_job_as_documented() -> None:
    assert encode_job(tiny_image(), 576) == TINY_JOB


def test_job_decodes_to_init_raster_feed_cut() -> None:
    commands, pending = decode_all(TINY_JOB)
    assert pending == 0
    assert [(c.kind, c.name) for c in commands] == [
        (Kind.INIT, "ESC @"),
        (Kind.RASTER, "GS v 0"),
        (Kind.FEED, "ESC d"),
        (Kind.CUT, "GS V"),
    ]
    assert commands[2].arg == 6
    raster = raster_image(commands[1])
    assert raster.size == (16, 2)
    assert raster_scale(commands[1]) == (1, 1)
    assert ImageChops.difference(raster.convert("L"), tiny_image().convert("L")).getbbox() is None


def test_native_qr_commands() -> None:
    commands, pending = decode_all(NATIVE_QR)
    assert pending == 0
    assert [c.kind for c in commands] == [Kind.QR] * 5
    assert qr_parts(commands[3]) == (0x50, b"https://x.cn/a")
    assert qr_parts(commands[4])[0] == 0x51


def test_python_escpos_native_qr_matches_the_literal_bytes() -> None:
    from escpos.printer import Dummy

    printer = Dummy()
    printer.qr("https://x.cn/a", native=True, size=4)
    assert printer.output == NATIVE_QR


def test_text_is_gb18030_split_into_lines() -> None:
    data = bytes.fromhex("41bac50a") + "窗口".encode("gb18030")
    commands, _ = decode_all(data)
    assert list(iter_text(commands)) == ["A号", "窗口"]


def test_variable_and_fixed_commands() -> None:
    data = bytes.fromhex(
        "1d5641 03"  # GS V 65 3: feed and cut
        "1b2a 00 0200 ffff"  # ESC * 8-dot column image, 2 columns
        "1d6b 04 3132 00"  # GS k CODE39 "12" NUL-terminated
        "1d6b 49 02 3132"  # GS k CODE128 with a length
        "1b70 00 19 fa"  # ESC p drawer pulse
        "1d7201"  # GS r 1
        "100402"  # DLE EOT 2
        "1b5a"  # unknown ESC Z
    )
    commands, pending = decode_all(data)
    assert pending == 0
    assert [c.name for c in commands] == [
        "GS V",
        "ESC *",
        "GS k",
        "GS k",
        "ESC p",
        "GS r",
        "DLE EOT",
        "1B 5A",
    ]
    assert commands[-1].kind is Kind.UNKNOWN


def test_raster_data_is_never_taken_for_commands() -> None:
    """GIVEN raster rows that contain DLE EOT and GS V byte patterns THEN they stay image data."""
    data = bytes.fromhex("1d7630 00 0400 0100 10040410 1d5600")
    commands, pending = decode_all(data)
    assert pending == 0
    assert [c.name for c in commands] == ["GS v 0", "GS V"]


def test_partial_commands_wait_for_the_rest() -> None:
    decoder = StreamDecoder()
    assert decoder.feed(TINY_JOB[:5]) != []  # ESC @ is complete
    assert decoder.pending == 3
    rest = decoder.feed(TINY_JOB[5:12])
    assert rest == []
    assert [c.name for c in decoder.feed(TINY_JOB[12:])] == ["GS v 0", "ESC d", "GS V"]
    assert decoder.pending == 0


@given(st.lists(st.integers(1, len(TINY_JOB + NATIVE_QR)), max_size=8))
def test_any_chunking_gives_the_same_commands(cuts: list[int]) -> None:
    data = TINY_JOB + NATIVE_QR
    whole, _ = decode_all(data)
    decoder = StreamDecoder()
    got = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        got += decoder.feed(data[start:cut])
        start = cut
    assert got == whole


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    commands, pending = decode_all(data)
    assert sum(len(c.raw) for c in commands) + pending == len(data)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_raster_scale_from_the_mode_byte(m: int) -> None:
    commands, _ = decode_all(bytes((0x1D, 0x76, 0x30, m, 1, 0, 1, 0, 0xFF)))
    assert raster_scale(commands[0]) == ((2 if m & 1 else 1), (2 if m & 2 else 1))
