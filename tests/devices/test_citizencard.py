"""Citizen card over a real pcscd with the vpcd virtual reader and our own virtual card."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from devices.citizencard import pcsc
from devices.citizencard.errors import CardError, NoReader, PcscUnavailable
from devices.citizencard.monitor import CardEvent, CardEventKind, CitizenCardMonitor
from devices.citizencard.reader import CitizenCardConfig, read_card
from devices.citizencard.vcard import CardApplet, VirtualCard

from .conftest import Waiter
from .conftest_pcsc import (
    PORTS,
    READER_0,
    READER_1,
    REPO,
    PcscDaemon,
    VcardProcess,
    pcscd,
    vcard_process,
)

__all__ = ["pcscd", "vcard_process"]  # fixtures, imported for this module

AID = "A00000000386980701"
FILE_CONTENT = b"11010519491231002X" + bytes(14) + b"CITIZEN CARD SAMPLE"
CONFIG = CitizenCardConfig(aid=bytes.fromhex(AID), file_id=b"\xef\x05", field=(0, 18))


@pytest.fixture
def card_in_reader_1(pcscd: PcscDaemon) -> Iterator[Callable[..., VirtualCard]]:
    """In-process virtual cards in "Virtual PCD 00 01" (faster than a process)."""
    cards: list[VirtualCard] = []

    def insert(applet: CardApplet) -> VirtualCard:
        card = VirtualCard(applet, port=PORTS[READER_1])
        card.insert()
        cards.append(card)
        return card

    yield insert
    for card in cards:
        card.remove()


def _wait_for_card(reader: str, timeout: float = 3.0) -> None:
    """pcscd polls vpcd every 0.4 s: wait until it has seen the card."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            read_card(reader)
            return
        except CardError:
            time.sleep(0.05)


def test_pcscd_lists_the_virtual_readers(pcscd: PcscDaemon) -> None:
    assert READER_0 in pcscd.readers and READER_1 in pcscd.readers
    if pcscd.process is not None:
        assert pcscd.start_s < 5


def test_monitor_sees_insert_and_remove_of_a_card_process(
    pcscd: PcscDaemon, vcard_process: Callable[..., VcardProcess], wait_until: Waiter
) -> None:
    """GIVEN the monitor WHEN our card process connects to vpcd and later exits
    THEN INSERTED with the card's UID and field, then REMOVED, are reported."""
    events: list[CardEvent] = []
    lock = threading.Lock()

    def on_event(event: CardEvent) -> None:
        with lock:
            events.append(event)

    def kinds() -> list[CardEventKind]:
        with lock:
            return [e.kind for e in events if e.reader == READER_0]

    card = vcard_process("04A1B2C3D4E5F6", aid=AID, files={"EF05": FILE_CONTENT.hex()})
    with CitizenCardMonitor(on_event, CONFIG, poll_s=0.1) as monitor:
        assert wait_until(lambda: monitor.snapshot.available, timeout=3)
        started = time.monotonic()
        card.insert()
        assert wait_until(lambda: CardEventKind.INSERTED in kinds(), timeout=5)
        insert_latency = time.monotonic() - started
        inserted = next(e for e in events if e.kind == CardEventKind.INSERTED)
        assert inserted.identity is not None
        assert inserted.identity.uid == "04A1B2C3D4E5F6"
        assert inserted.identity.field == "11010519491231002X"
        assert inserted.identity.key == "uid:04A1B2C3D4E5F6/field:11010519491231002X"
        assert "11010519491231002X" not in repr(inserted.identity)
        assert monitor.snapshot.cards[READER_0].uid == "04A1B2C3D4E5F6"
        started = time.monotonic()
        card.remove()
        assert wait_until(lambda: CardEventKind.REMOVED in kinds(), timeout=5)
        remove_latency = time.monotonic() - started
        assert READER_0 not in monitor.snapshot.cards
    assert kinds() == [CardEventKind.INSERTED, CardEventKind.REMOVED]
    assert insert_latency < 3 and remove_latency < 3


def test_second_card_is_a_new_insert(
    pcscd: PcscDaemon, card_in_reader_1: Callable[..., VirtualCard], wait_until: Waiter
) -> None:
    events: list[CardEvent] = []
    config = CitizenCardConfig(reader_name="00 01")
    with CitizenCardMonitor(events.append, config, poll_s=0.1):
        first = card_in_reader_1(CardApplet(bytes.fromhex("0A0B0C0D")))
        assert wait_until(lambda: any(e.kind == CardEventKind.INSERTED for e in events), 5)
        first.remove()
        assert wait_until(lambda: any(e.kind == CardEventKind.REMOVED for e in events), 5)
        card_in_reader_1(CardApplet(bytes.fromhex("11223344")))
        assert wait_until(
            lambda: sum(e.kind == CardEventKind.INSERTED for e in events) == 2, timeout=5
        )
    uids = [e.identity.uid for e in events if e.kind == CardEventKind.INSERTED and e.identity]
    assert uids == ["0A0B0C0D", "11223344"]
    assert {e.reader for e in events if e.reader} == {READER_1}


def test_read_card_with_file_hash(
    pcscd: PcscDaemon, card_in_reader_1: Callable[..., VirtualCard]
) -> None:
    content = bytes(range(256)) * 2 + b"tail"  # 516 bytes: three READ BINARYs
    card_in_reader_1(CardApplet(b"\x01\x02\x03\x04", bytes.fromhex(AID), {b"\xef\x05": content}))
    _wait_for_card(READER_1)
    config = CitizenCardConfig(aid=bytes.fromhex(AID), file_id=b"\xef\x05")
    identity = read_card(READER_1, config)
    assert identity.uid == "01020304"
    assert identity.file_sha256 == hashlib.sha256(content).hexdigest()
    assert identity.atr.startswith("3B8F8001")


def test_missing_file_is_a_card_error_with_its_status(
    pcscd: PcscDaemon, card_in_reader_1: Callable[..., VirtualCard], wait_until: Waiter
) -> None:
    events: list[CardEvent] = []
    config = CitizenCardConfig(aid=bytes.fromhex(AID), file_id=b"\xef\x07", reader_name="00 01")
    with CitizenCardMonitor(events.append, config, poll_s=0.1):
        card_in_reader_1(CardApplet(b"\x05\x06\x07\x08", bytes.fromhex(AID), {b"\xef\x05": b"x"}))
        assert wait_until(lambda: any(e.kind == CardEventKind.READ_FAILED for e in events), 5)
    failed = next(e for e in events if e.kind == CardEventKind.READ_FAILED)
    assert isinstance(failed.error, CardError) and failed.error.sw == 0x6A82
    assert "select file" in str(failed.error) and failed.error.prompt


def test_no_card_and_unknown_reader(pcscd: PcscDaemon) -> None:
    with pytest.raises(CardError):
        read_card(READER_1)
    with pytest.raises(NoReader):
        read_card(config=CitizenCardConfig(reader_name="no such reader"))


def test_pcscd_not_running_names_pcscd(pcscd: PcscDaemon, tmp_path: object) -> None:
    """A client pointed at a socket where no pcscd listens gets PcscUnavailable naming pcscd.

    Run in a child process: libpcsclite reads PCSCLITE_CSOCK_NAME once per process.
    """
    code = (
        "from devices.citizencard.reader import read_card\n"
        "from devices.citizencard.errors import PcscUnavailable\n"
        "try:\n    read_card()\nexcept PcscUnavailable as exc:\n    print(exc)\n"
    )
    env = {"PCSCLITE_CSOCK_NAME": f"{tmp_path}/none.comm", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, timeout=30, text=True
    )
    assert "pcscd is not running" in out.stdout, out.stdout + out.stderr


# ---------------------------------------------------------------- without pcscd


def test_missing_pyscard_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> object:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(pcsc.importlib, "import_module", refuse)
    with pytest.raises(PcscUnavailable, match=r"hallq\[citizencard\]"):
        pcsc.PcscContext()


def test_monitor_reports_unavailable_and_retries(wait_until: Waiter) -> None:
    events: list[CardEvent] = []
    calls = 0

    def factory() -> pcsc.PcscContext:
        nonlocal calls
        calls += 1
        raise PcscUnavailable(pcsc.PCSCD_HINT)

    with CitizenCardMonitor(events.append, retry_s=0.02, context_factory=factory) as monitor:
        assert wait_until(lambda: calls >= 3, timeout=3)
    assert [e.kind for e in events] == [CardEventKind.UNAVAILABLE]
    assert "pcscd" in str(events[0].error) and not monitor.snapshot.available
