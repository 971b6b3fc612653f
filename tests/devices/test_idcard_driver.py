"""ID card reader driver against the simulated SAM over real pseudo-terminals."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from random import Random

import pytest

from devices.bus.simwire import Faults
from devices.idcard import errors
from devices.idcard import protocol as p
from devices.idcard.driver import IdCardReader, ReaderState, ReaderTiming
from devices.idcard.service import IdCardService, ReaderSnapshot
from devices.idcard.sim import IdCardSim, RemoveMode, sample_card

from .conftest import Waiter
from .idcard_fixtures import FAST, fixture_bytes

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def sim() -> Iterator[IdCardSim]:
    s = IdCardSim(card=sample_card())
    s.start()
    yield s
    s.stop()


@pytest.fixture
def reader(sim: IdCardSim) -> Iterator[IdCardReader]:
    r = IdCardReader(sim.path, timing=FAST)
    r.open()
    yield r
    r.close()


def test_read_card_find_select_read(sim: IdCardSim, reader: IdCardReader) -> None:
    card = reader.read_card(2.0, today=TODAY)
    assert card == sample_card()
    assert sim.requests == ["sam_status", "find_card", "select_card", "read_text_photo"]
    assert reader.available and reader.state == ReaderState.IDLE
    assert reader.stats["retries"] == 0


def test_card_placed_while_waiting(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.remove_card()
    threading.Timer(0.15, sim.place_card, [sample_card(name="李四")]).start()
    started = time.monotonic()
    assert reader.read_card(2.0, today=TODAY).name == "李四"
    assert 0.1 < time.monotonic() - started < 1.5


def test_no_card_gives_a_prompt_within_the_timeout(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.remove_card()
    started = time.monotonic()
    with pytest.raises(errors.NoCard) as info:
        reader.read_card(0.3, today=TODAY)
    assert 0.3 <= time.monotonic() - started < 1.0
    assert info.value.prompt == "请将身份证放在读卡区" and info.value.retryable
    assert reader.available


def test_a_read_card_must_leave_before_it_is_read_again(
    sim: IdCardSim, reader: IdCardReader
) -> None:
    reader.read_card(1.0, today=TODAY)
    with pytest.raises(errors.NoCard):
        reader.read_card(0.1, today=TODAY)
    sim.remove_card()
    sim.place_card(sample_card())
    assert reader.read_card(1.0, today=TODAY).id_number == "11010519491231002X"


@pytest.mark.parametrize("mode", list(RemoveMode))
def test_card_removed_mid_read(sim: IdCardSim, reader: IdCardReader, mode: RemoveMode) -> None:
    """GIVEN the card leaves after find/select WHEN reading THEN CardRemoved, not a crash."""
    sim.card_faults.remove_mid_read = mode
    started = time.monotonic()
    with pytest.raises(errors.CardRemoved) as info:
        reader.read_card(2.0, today=TODAY)
    assert time.monotonic() - started < 3.0
    assert "重新放好" in info.value.prompt
    assert reader.available  # the reader itself is fine
    sim.place_card(sample_card())
    assert reader.read_card(1.0, today=TODAY) == sample_card()


def test_corrupt_reply_is_retried(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.card_faults.corrupt_replies = 1
    sim.card_faults.corrupt_only = "read_text_photo"
    assert reader.read_card(2.0, today=TODAY) == sample_card()
    assert reader.stats["bad_checksums"] == 1 and reader.stats["retries"] == 1


def test_corrupt_replies_every_time_give_bad_checksum(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.card_faults.corrupt_replies = 100
    with pytest.raises(errors.BadChecksum) as info:
        reader.read_card(2.0, today=TODAY)
    assert info.value.field == "frame"
    assert reader.stats["sent"] == 1 + FAST.link_retries + 1  # sam_status + find attempts


def test_corrupt_request_is_answered_0x10_and_resent(sim: IdCardSim, reader: IdCardReader) -> None:
    """The SAM answers SW3 0x10 to a request with a bad CHK; the driver sends it again."""
    reader._link.write(b"\xaa\xaa\xaa\x96\x69\x00\x03\x20\x01\x23")  # find with CHK off by one
    time.sleep(0.05)
    assert reader.read_card(2.0, today=TODAY) == sample_card()
    assert "?" not in sim.requests[:1]


def test_slow_reply_within_timeout_is_fine(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.card_faults.slow_reply_s = 0.05
    assert reader.read_card(2.0, today=TODAY) == sample_card()


def test_silent_reader_times_out(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.card_faults.slow_reply_s = 1.0
    started = time.monotonic()
    with pytest.raises(errors.ReaderTimeout) as info:
        reader.read_card(2.0, today=TODAY)
    assert time.monotonic() - started < (FAST.link_retries + 1) * 0.5
    assert not reader.available and not info.value.retryable
    sim.card_faults.slow_reply_s = 0.0
    time.sleep(1.1)  # let the late replies drain
    reader.sam_status()
    assert reader.available


def test_sam_fault(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.card_faults.sam_fault = True
    with pytest.raises(errors.ReaderFault) as info:
        reader.read_card(1.0, today=TODAY)
    assert info.value.status == p.Status.SAM_SELF_TEST_FAILED
    assert "SAM" in str(info.value) and info.value.prompt.startswith("身份证阅读器故障")
    assert reader.state == ReaderState.FAULT and not reader.available
    sim.card_faults.sam_fault = False
    reader.reset_sam()
    assert reader.available


def test_expired_card_is_refused_with_its_date(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.place_card(sample_card(valid_to=dt.date(2026, 5, 31)))
    with pytest.raises(errors.CardExpired) as info:
        reader.read_card(1.0, today=TODAY)
    assert info.value.expiry == dt.date(2026, 5, 31)
    assert "2026年5月31日" in info.value.prompt and "过期" in info.value.prompt
    sim.place_card(sample_card(valid_to=dt.date(2026, 5, 31)))
    card = reader.read_card(1.0, today=TODAY, accept_expired=True)
    assert card.expired(TODAY)


def test_last_day_of_validity_is_accepted(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.place_card(sample_card(valid_to=TODAY))
    assert reader.read_card(1.0, today=TODAY).valid_to == TODAY


def test_bad_id_number_is_refused_at_once(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.place_card(sample_card(id_number="110105194912310021"))
    with pytest.raises(errors.BadChecksum) as info:
        reader.read_card(1.0, today=TODAY)
    assert info.value.field == "id_number"
    assert "110105194912310021" not in str(info.value)
    assert sim.requests.count("read_text_photo") == 1


def test_residence_permit_is_unsupported(sim: IdCardSim, reader: IdCardReader) -> None:
    raw = fixture_bytes("read_reply_j_permit.hex")
    sim.place_card(sample_card(), raw_text=raw[14:270])
    with pytest.raises(errors.UnsupportedCard) as info:
        reader.read_card(1.0, today=TODAY)
    assert info.value.card_type == "J" and "居民身份证" in info.value.prompt


def test_unplugged_reader_is_a_fault_not_a_crash(sim: IdCardSim, reader: IdCardReader) -> None:
    sim.unplug()
    with pytest.raises((errors.ReaderFault, errors.ReaderTimeout)):
        reader.read_card(0.5, today=TODAY)
    assert not reader.available


def test_missing_port() -> None:
    reader = IdCardReader("/nonexistent/ttyUSB9", timing=FAST)
    with pytest.raises(errors.ReaderFault, match="cannot open"):
        reader.open()
    assert reader.state == ReaderState.FAULT


def test_sam_id_and_fingerprint_read(sim: IdCardSim, reader: IdCardReader) -> None:
    assert len(bytes.fromhex(reader.read_sam_id())) == 16
    sim.place_card(sample_card(fingerprint=bytes(512)))
    card = reader.read_card(1.0, today=TODAY, with_fingerprint=True)
    assert card.fingerprint == bytes(512)


def test_nothing_personal_in_logs(
    sim: IdCardSim, reader: IdCardReader, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.card_faults.corrupt_replies = 1
    reader.read_card(1.0, today=TODAY)
    assert "张三" not in caplog.text and "11010519491231002X" not in caplog.text
    assert "1101**********002X" in caplog.text


def test_service_reports_cards_errors_and_state(sim: IdCardSim, wait_until: Waiter) -> None:
    """GIVEN the owner thread WHEN a card comes, an expired one comes, the reader dies
    THEN on_card, on_error and an unavailable snapshot follow, and it recovers."""
    cards: list[p.IdCard] = []
    failures: list[errors.IdCardError] = []
    states: list[ReaderSnapshot] = []
    service = IdCardService(
        sim.path, on_card=cards.append, on_error=failures.append, on_state=states.append,
        timing=ReaderTiming(poll_interval_s=0.02, reply_scale=0.2), poll_s=0.2, reopen_s=0.1,
        today=lambda: TODAY,
    )  # fmt: skip
    service.start()
    try:
        assert wait_until(lambda: len(cards) == 1, timeout=3)
        sim.remove_card()
        sim.place_card(sample_card(valid_to=dt.date(2020, 1, 1)))
        assert wait_until(lambda: any(isinstance(f, errors.CardExpired) for f in failures), 3)
        sim.card_faults.sam_fault = True
        assert wait_until(lambda: not service.snapshot.available, timeout=3)
        assert service.snapshot.prompt.startswith("身份证阅读器故障")
        sim.card_faults.sam_fault = False
        sim.place_card(sample_card(name="王五"))
        assert wait_until(lambda: len(cards) == 2, timeout=3)
        assert cards[1].name == "王五" and service.snapshot.available
        assert any(not s.available for s in states)
    finally:
        service.stop()


def test_late_reply_to_an_earlier_command_is_ignored(sim: IdCardSim, reader: IdCardReader) -> None:
    """GIVEN a find reply arriving late, while sam_status waits THEN it is not taken for
    the SAM status (GA/T 467 has no sequence numbers)."""
    late_find_reply = bytes.fromhex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
    sim.card_faults.slow_reply_s = 0.1
    threading.Timer(0.03, sim.wire.write, [late_find_reply]).start()
    assert reader.sam_status() == p.Status.OK
    assert reader.stats["stale"] == 1


def test_random_bit_flips_never_give_a_wrong_card() -> None:
    """GIVEN a line flipping bits both ways (≈ 1 reply in 5 corrupt) THEN every read gives
    the right card or a declared error, and retries save most of them."""
    sim = IdCardSim(card=sample_card(), wire_faults=Faults(corrupt_ratio=0.0002, rng=Random(7)))
    sim.start()
    results: list[tuple[str, str]] = []
    try:
        with IdCardReader(sim.path, timing=FAST) as reader:
            for given in "三四五六七八":
                sim.place_card(sample_card(name="张" + given))
                try:
                    results.append(("张" + given, reader.read_card(1.0, today=TODAY).name))
                except errors.IdCardError as exc:
                    results.append(("张" + given, type(exc).__name__))
    finally:
        sim.stop()
    assert sim.faults.corrupted > 0
    assert all(got == placed or not got.startswith("张") for placed, got in results)
    assert sum(got == placed for placed, got in results) >= 4, results
