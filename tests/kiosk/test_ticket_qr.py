"""The ticket's QR code, read back off the paper: online, the center's status and rating page
of that ticket; offline (from a lease), just the number and the service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image

from config.schema import HallConfig, Printer
from devices.printer.sim import TcpPrinterSim
from kiosk.adapters import ClientCenter, EscposPrinter
from kiosk.service import KioskService
from kiosk.simulate import LoopbackCenter

from .conftest import FAST_PRINTER

PUBLIC = "https://hall.example.gov.cn"


def decode_qr(image: Image.Image) -> str:
    text, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(np.array(image.convert("L")))
    return str(text)


@pytest.fixture
def kiosk(
    tmp_path: Path, hall: HallConfig, center: LoopbackCenter, printer: TcpPrinterSim
) -> Iterator[KioskService]:
    cfg = hall.devices.kiosks[0].model_copy(
        update={"printer": Printer(transport="network", target=printer.target)}
    )
    link = ClientCenter(
        center.url,
        center.device_token(cfg.name),
        tmp_path / "state",
        ["tax"],
        timeout=1.0,
        attempts=1,
        stream=False,
        clock=center.clock.now,
    )
    service = KioskService(
        hall,
        cfg,
        link,
        printer=EscposPrinter(cfg.printer, FAST_PRINTER),
        center_url=PUBLIC + "/",
        clock=center.clock.now,
    )
    service.refresh()
    yield service
    link.client.close()


def test_the_printed_qr_opens_the_tickets_page_at_the_center(
    kiosk: KioskService, center: LoopbackCenter, printer: TcpPrinterSim
) -> None:
    """GIVEN a kiosk online WHEN a ticket is taken THEN the QR on the paper is the center's
    /rate/ page with a token the center accepts for that very ticket (waiting, 0 ahead)."""
    outcome = kiosk.take("tax")
    assert outcome.printed
    [job] = [j for j in printer.printer.jobs if j.cut]
    url = decode_qr(job.image())
    assert url == outcome.ticket.qr_payload
    assert url.startswith(f"{PUBLIC}/rate/#t=")
    token = url.removeprefix(f"{PUBLIC}/rate/#t=")
    reply = httpx.post(f"{center.url}/api/v1/rate/visit", json={"token": token}, timeout=5)
    assert reply.status_code == 200, reply.text
    visit = reply.json()
    assert (visit["number"], visit["service_name"]) == (outcome.ticket.number, "税务")
    assert (visit["status"], visit["ahead"], visit["finished"]) == ("waiting", 0, False)


def test_an_offline_ticket_has_its_number_and_service_in_the_qr(
    kiosk: KioskService, center: LoopbackCenter, printer: TcpPrinterSim
) -> None:
    """GIVEN a lease taken while online WHEN the center goes away THEN the ticket from the
    lease carries a QR with just its number and service (no link that could not work)."""
    link = kiosk.center
    assert isinstance(link, ClientCenter)
    link.maintain()  # takes the lease
    center.stop()
    outcome = kiosk.take("tax")
    assert outcome.ticket.offline and outcome.printed
    assert outcome.ticket.qr_payload == f"{outcome.ticket.number} 税务"
    [job] = [j for j in printer.printer.jobs if j.cut]
    assert decode_qr(job.image()) == outcome.ticket.qr_payload
