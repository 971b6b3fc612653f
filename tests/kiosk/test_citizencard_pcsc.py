"""The kiosk with the real citizen card stack: pcscd, the vpcd virtual reader, our card.

``kiosk.adapters.PcscCitizenCards`` over ``devices.citizencard.CitizenCardMonitor``, watching
"Virtual PCD 00 01" only; the card is ``devices.citizencard.vcard.VirtualCard`` in this
process. Skipped (failed under CI or HALLQ_REQUIRE_PCSC=1) without pyscard, pcscd, vpcd
or root, like ``tests/devices/test_citizencard.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from center.db.tables import tickets
from devices.citizencard.vcard import CardApplet, VirtualCard
from devices.printer.sim import TcpPrinterSim
from kiosk.adapters import PcscCitizenCards
from kiosk.presenter import Screen
from kiosk.simulate import LoopbackCenter
from tests.devices.conftest_pcsc import PORTS, READER_1, PcscDaemon, pcscd

from .conftest import Kiosk
from .test_flows import WAIT, printed_jobs, wait_screen

__all__ = ["pcscd"]  # the module-scoped fixture, imported for this module

UID = bytes.fromhex("04A1B2C3D4")


@pytest.fixture
def insert_card(pcscd: PcscDaemon) -> Iterator[Callable[[CardApplet], VirtualCard]]:
    """Put virtual cards in "Virtual PCD 00 01"; every one is taken out after the test."""
    cards: list[VirtualCard] = []

    def insert(applet: CardApplet) -> VirtualCard:
        card = VirtualCard(applet, port=PORTS[READER_1])
        card.insert()
        cards.append(card)
        return card

    yield insert
    for card in cards:
        card.remove()


def pcsc_kiosk(qtbot: Any, make_kiosk: Callable[..., Kiosk], **options: Any) -> Kiosk:
    reader = PcscCitizenCards(READER_1, poll_s=0.1, retry_s=0.2, **options)
    kiosk = make_kiosk(card_reader=reader)
    qtbot.waitUntil(lambda: reader.state().available, timeout=WAIT)
    return kiosk


def test_citizen_card_identifies_the_visit(
    qtbot: Any,
    make_kiosk: Callable[..., Kiosk],
    center: LoopbackCenter,
    printer: TcpPrinterSim,
    insert_card: Callable[[CardApplet], VirtualCard],
) -> None:
    """GIVEN the identify screen WHEN a citizen card is inserted THEN the kiosk identifies
    the visit by the card and prints the ticket (without a name); the center gets no
    person, as a UID is not an ID number; the admin screen shows the reader with a card."""
    kiosk = pcsc_kiosk(qtbot, make_kiosk)
    kiosk.window.home.tile_button("tax").click()
    kiosk.window.info.identify_button.click()
    assert kiosk.screen is Screen.IDENTIFY
    assert "市民卡" in kiosk.window.identify.prompt.text()
    insert_card(CardApplet(UID))
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.printed and outcome.ticket.masked_name is None
    assert kiosk.presenter.identity is not None
    assert kiosk.presenter.identity.source == "citizencard"
    qtbot.waitUntil(lambda: len(printed_jobs(printer)) == 1, timeout=WAIT)
    with center.center.store.read() as conn:
        person = conn.execute(
            select(tickets.c.person_id).where(tickets.c.display == outcome.ticket.number)
        ).scalar_one()
    assert person is None, "the card is identified at the kiosk, not stored at the center"
    state = kiosk.service.devices()["card_reader"]
    assert state.available and state.state == "card_present" and READER_1 in state.detail


def test_unreadable_citizen_card_says_so(
    qtbot: Any,
    make_kiosk: Callable[..., Kiosk],
    insert_card: Callable[[CardApplet], VirtualCard],
) -> None:
    """GIVEN a reader configured for an application the card lacks WHEN it is inserted
    THEN the identify screen shows the driver's prompt and nothing is issued."""
    kiosk = pcsc_kiosk(
        qtbot, make_kiosk, aid=bytes.fromhex("A00000000386980701"), file_id=b"\xef\x05"
    )
    kiosk.window.home.tile_button("tax").click()
    kiosk.window.info.identify_button.click()
    insert_card(CardApplet(UID))  # no application on it: SELECT answers 6A 82
    error = kiosk.window.identify.error
    qtbot.waitUntil(lambda: "重新插卡" in error.text(), timeout=WAIT)
    assert kiosk.screen is Screen.IDENTIFY and kiosk.presenter.last_outcome is None
