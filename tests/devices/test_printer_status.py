"""Status replies, golden vectors.

Sources of the literal bytes (not hallq's constants):
- Epson ESC/POS Command Reference, "DLE EOT n" (real-time status transmission) and "GS r n":
  every DLE EOT reply has bit 1 and bit 4 on, bits 0 and 7 off (0x12 base); n=1 bit 3 is
  off-line, bit 2 the drawer pin; n=2 bit 2 cover open, bit 5 paper-end stop, bit 6 error;
  n=3 bit 3 autocutter, bit 5 unrecoverable, bit 6 auto-recoverable; n=4 bits 2-3 near end
  (0x0C), bits 5-6 paper end (0x60). Samsung/Bixolon SRP-350 manual, same tables.
  GS r 1: bits 0-1 near end (0x03), bit 4 fixed off; paper end never sent.
- python-escpos 3.1 ``escpos/constants.py``: RT_STATUS_ONLINE = 10 04 01,
  RT_STATUS_PAPER = 10 04 04, RT_MASK_PAPER = 18 (0x12), RT_MASK_LOWPAPER = 30 (0x1E),
  RT_MASK_NOPAPER = 114 (0x72).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.printer.status import (
    GS_R_PAPER,
    BadStatusByte,
    ErrorCause,
    OfflineCause,
    PaperLevel,
    PrinterFlags,
    PrinterState,
    StatusQuery,
    is_gs_r_reply,
    is_status_byte,
    parse_error_cause,
    parse_gs_r_paper,
    parse_offline_cause,
    parse_printer,
    parse_roll_paper,
    summarize,
)


def test_queries_are_the_documented_bytes() -> None:
    assert StatusQuery.PRINTER.command == b"\x10\x04\x01"
    assert StatusQuery.OFFLINE_CAUSE.command == b"\x10\x04\x02"
    assert StatusQuery.ERROR_CAUSE.command == b"\x10\x04\x03"
    assert StatusQuery.ROLL_PAPER.command == b"\x10\x04\x04"
    assert GS_R_PAPER == b"\x1d\x72\x01"


@pytest.mark.parametrize(
    ("byte", "flags"),
    [
        (
            0x12,
            PrinterFlags(
                online=True, drawer_pin_high=False, waiting_recovery=False, feed_button=False
            ),
        ),
        (
            0x16,
            PrinterFlags(
                online=True, drawer_pin_high=True, waiting_recovery=False, feed_button=False
            ),
        ),
        (
            0x1A,
            PrinterFlags(
                online=False, drawer_pin_high=False, waiting_recovery=False, feed_button=False
            ),
        ),
        (
            0x1E,
            PrinterFlags(
                online=False, drawer_pin_high=True, waiting_recovery=False, feed_button=False
            ),
        ),
        (
            0x3A,
            PrinterFlags(
                online=False, drawer_pin_high=False, waiting_recovery=True, feed_button=False
            ),
        ),
        (
            0x52,
            PrinterFlags(
                online=True, drawer_pin_high=False, waiting_recovery=False, feed_button=True
            ),
        ),
    ],
)
def test_printer_status(byte: int, flags: PrinterFlags) -> None:
    assert parse_printer(byte) == flags


@pytest.mark.parametrize(
    ("byte", "cause"),
    [
        (0x12, OfflineCause(False, False, False, False)),
        (
            0x16,
            OfflineCause(
                cover_open=True, feeding_by_button=False, paper_end_stop=False, error=False
            ),
        ),
        (
            0x1A,
            OfflineCause(
                cover_open=False, feeding_by_button=True, paper_end_stop=False, error=False
            ),
        ),
        (
            0x32,
            OfflineCause(
                cover_open=False, feeding_by_button=False, paper_end_stop=True, error=False
            ),
        ),
        (
            0x52,
            OfflineCause(
                cover_open=False, feeding_by_button=False, paper_end_stop=False, error=True
            ),
        ),
        (
            0x36,
            OfflineCause(
                cover_open=True, feeding_by_button=False, paper_end_stop=True, error=False
            ),
        ),
    ],
)
def test_offline_cause(byte: int, cause: OfflineCause) -> None:
    assert parse_offline_cause(byte) == cause


@pytest.mark.parametrize(
    ("byte", "cause"),
    [
        (0x12, ErrorCause(False, False, False, False)),
        (
            0x16,
            ErrorCause(
                recoverable=True, autocutter=False, unrecoverable=False, auto_recoverable=False
            ),
        ),
        (
            0x1A,
            ErrorCause(
                recoverable=False, autocutter=True, unrecoverable=False, auto_recoverable=False
            ),
        ),
        (
            0x32,
            ErrorCause(
                recoverable=False, autocutter=False, unrecoverable=True, auto_recoverable=False
            ),
        ),
        (
            0x52,
            ErrorCause(
                recoverable=False, autocutter=False, unrecoverable=False, auto_recoverable=True
            ),
        ),
    ],
)
def test_error_cause(byte: int, cause: ErrorCause) -> None:
    assert parse_error_cause(byte) == cause


@pytest.mark.parametrize(
    ("byte", "level"),
    [
        (0x12, PaperLevel.OK),
        (0x1E, PaperLevel.NEAR_END),
        (0x72, PaperLevel.OUT),  # end sensor only (a printer without near-end sensor)
        (0x7E, PaperLevel.OUT),  # both sensors
        (0x16, PaperLevel.NEAR_END),  # one bit of the pair (some clones set only bit 2)
        (0x32, PaperLevel.OUT),
    ],
)
def test_roll_paper(byte: int, level: PaperLevel) -> None:
    assert parse_roll_paper(byte) == level


def escpos_paper_status(byte: int) -> int:
    """python-escpos' own paper_status() on a reply byte, for a second opinion."""
    from escpos.printer import Dummy

    class Answering(Dummy):
        def _read(self) -> bytes:
            return bytes((byte,))

    return int(Answering().paper_status())


@pytest.mark.parametrize(("byte", "escpos"), [(0x12, 2), (0x1E, 1), (0x72, 0), (0x7E, 0)])
def test_agrees_with_python_escpos_on_its_documented_bytes(byte: int, escpos: int) -> None:
    pytest.importorskip("escpos")
    assert escpos_paper_status(byte) == escpos
    ours = {PaperLevel.OK: 2, PaperLevel.NEAR_END: 1, PaperLevel.OUT: 0}[parse_roll_paper(byte)]
    assert ours == escpos


@pytest.mark.parametrize("byte", [0x00, 0x02, 0x10, 0x13, 0x92, 0xFF, 0x80, 0x03])
def test_bytes_without_the_fixed_bits_are_not_status(byte: int) -> None:
    assert not is_status_byte(byte)
    for parse in (parse_printer, parse_offline_cause, parse_error_cause, parse_roll_paper):
        with pytest.raises(BadStatusByte):
            parse(byte)


@pytest.mark.parametrize(
    ("byte", "level"),
    [(0x00, PaperLevel.OK), (0x03, PaperLevel.NEAR_END), (0x01, PaperLevel.NEAR_END)],
)
def test_gs_r_paper(byte: int, level: PaperLevel) -> None:
    assert is_gs_r_reply(byte)
    assert parse_gs_r_paper(byte) == level


@pytest.mark.parametrize("byte", [0x12, 0x16, 0x1E, 0x80])
def test_dle_eot_replies_are_not_gs_r_replies(byte: int) -> None:
    """Bit 4 tells a GS r reply (off) from a DLE EOT reply (on) on the same line."""
    assert not is_gs_r_reply(byte)
    with pytest.raises(BadStatusByte):
        parse_gs_r_paper(byte)


@pytest.mark.parametrize(
    ("replies", "state"),
    [
        ((0x16, 0x12, None, None), PrinterState.READY),
        ((0x16, 0x1E, None, None), PrinterState.PAPER_LOW),
        ((0x1E, 0x7E, 0x32, None), PrinterState.PAPER_OUT),
        ((0x12, 0x72, None, None), PrinterState.PAPER_OUT),  # reports paper end while online
        ((0x1A, 0x12, 0x16, None), PrinterState.COVER_OPEN),
        ((0x1A, 0x12, 0x52, 0x1A), PrinterState.ERROR),
        ((0x1A, 0x12, 0x52, 0x52), PrinterState.ERROR),
        ((0x1A, 0x12, 0x12, None), PrinterState.OFFLINE),
    ],
)
def test_summary(replies: tuple[int, int, int | None, int | None], state: PrinterState) -> None:
    status = summarize(*replies)
    assert status.state is state
    assert status.available is (state in (PrinterState.READY, PrinterState.PAPER_LOW))
    assert status.replies == bytes(b for b in replies if b is not None)


def test_summary_names_the_cutter() -> None:
    assert summarize(0x1A, 0x12, 0x52, 0x1A).detail == "autocutter error"


@given(st.integers(0, 255))
def test_parsers_accept_exactly_the_status_bytes(byte: int) -> None:
    parsers = (parse_printer, parse_offline_cause, parse_error_cause, parse_roll_paper)
    if is_status_byte(byte):
        for parse in parsers:
            parse(byte)
        summarize(byte, byte, byte, byte)
    else:
        for parse in parsers:
            with pytest.raises(BadStatusByte):
                parse(byte)
