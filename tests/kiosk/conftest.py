"""Kiosk fixtures: a real center on a loopback port, the device simulators, a kiosk window.

The kiosk under test is wired exactly as ``hallq kiosk`` wires it (``kiosk.adapters``):
the center through ``devices.client`` over HTTP and its event stream; the GA/T 467 reader
simulator on a pty; the ESC/POS printer simulator on TCP; the camera replaying PNG frames.
The citizen card reader is a fake (``SimCitizenCards``, as ``--simulate`` uses) unless a
test passes ``card_reader`` (``test_citizencard_pcsc.py``: the real PC/SC stack).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from center.clock import ManualClock
from center.engine.tickets import APPOINTMENT_KEY_PURPOSE
from config.schema import HallConfig, Printer
from devices.idcard.driver import ReaderTiming
from devices.idcard.sim import IdCardSim
from devices.printer.driver import PrinterOptions
from devices.printer.sim import TcpPrinterSim
from kiosk.adapters import CameraScanner, ClientCenter, EscposPrinter, GaT467Reader
from kiosk.presenter import KioskPresenter, Screen
from kiosk.service import KioskService
from kiosk.simulate import LoopbackCenter, SimCitizenCards
from kiosk.views.window import KioskWindow
from tests.api.conftest import PIN, PIN_HASH
from tests.center.conftest import MONDAY_9, hall_dict

FAST_READER = ReaderTiming(poll_interval_s=0.02, reply_scale=0.2, link_retries=2, read_attempts=3)
FAST_PRINTER = PrinterOptions(
    reply_timeout_s=0.3, job_timeout_s=3.0, poll_s=0.1, probe_timeout_s=0.3
)
ADMIN_PIN = PIN

TAX_INFO = {
    "conditions": "纳税人或其委托代理人",
    "materials": ["居民身份证", "税务登记表"],
    "time_limit": "即时办结",
    "fees": "不收费",
    "complaint_phone": "12366",
}


def kiosk_hall(**overrides: Any) -> HallConfig:
    """The engine tests' hall (tax A, hukou B needs an ID card, estate C by appointment),
    with published facts, an admin and one kiosk."""
    data = hall_dict(**overrides)
    data["services"][0]["info"] = TAX_INFO
    data["staff"] = [
        *({"number": f"100{i}", "name": f"员工{i}", "pin_hash": PIN_HASH} for i in range(1, 7)),
        {"number": "9001", "name": "管理员", "role": "admin", "pin_hash": PIN_HASH},
    ]
    data["devices"] = {"kiosks": [{"name": "k1", "idle_seconds": 60}]}
    return HallConfig.model_validate(data)


@pytest.fixture
def hall() -> HallConfig:
    return kiosk_hall()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_9)


@pytest.fixture
def center(tmp_path: Path, hall: HallConfig, clock: ManualClock) -> Iterator[LoopbackCenter]:
    live = LoopbackCenter(hall, tmp_path / "center.db", clock).start()
    live.open_windows()
    yield live
    live.stop()


def appointment_key(center: LoopbackCenter) -> bytes:
    """The key the center signs appointment codes with (derived from its data key)."""
    pii = center.center.ctx.pii
    assert pii is not None
    return pii.derive_key(APPOINTMENT_KEY_PURPOSE)


@pytest.fixture
def idcard() -> Iterator[IdCardSim]:
    sim = IdCardSim(card=None)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def printer() -> Iterator[TcpPrinterSim]:
    with TcpPrinterSim() as sim:
        yield sim


@dataclass
class Kiosk:
    """One kiosk under test and the handles a test drives."""

    window: KioskWindow
    presenter: KioskPresenter
    service: KioskService
    link: ClientCenter
    cards: SimCitizenCards

    @property
    def screen(self) -> Screen:
        return self.presenter.screen


@pytest.fixture
def make_kiosk(
    qtbot: Any,
    tmp_path: Path,
    hall: HallConfig,
    center: LoopbackCenter,
    idcard: IdCardSim,
    printer: TcpPrinterSim,
) -> Iterator[Callable[..., Kiosk]]:
    made: list[Kiosk] = []

    def make(
        *,
        idle_ms: int = 60_000,
        camera: str | None = None,
        speaker: Any = None,
        name: str = "k1",
        card_reader: Any = None,
        keyed: bool = True,
    ) -> Kiosk:
        kiosk_cfg = hall.devices.kiosks[0].model_copy(
            update={
                "name": name,
                "printer": Printer(transport="network", target=printer.target),
                "id_reader": idcard.path,
            }
        )
        link = ClientCenter(
            center.url,
            center.device_token(name),
            tmp_path / f"state-{name}",
            ["tax"],
            timeout=1.0,
            clock=center.clock.now,
        )
        cards = SimCitizenCards()
        service = KioskService(
            hall,
            kiosk_cfg,
            link,
            printer=EscposPrinter(kiosk_cfg.printer, FAST_PRINTER),
            id_reader=GaT467Reader(idcard.path, timing=FAST_READER, poll_s=0.2, reopen_s=0.2),
            card_reader=card_reader if card_reader is not None else cards,
            scanner=CameraScanner(camera, max_rate=30) if camera else None,
            appointment_keys=[appointment_key(center)] if keyed else [],
            center_url=center.url,
            clock=center.clock.now,
        )
        presenter = KioskPresenter(
            service, idle_ms=idle_ms, speaker=speaker, refresh_ms=60_000, poll_ms=60_000
        )
        window = KioskWindow(presenter, kiosk_cfg.orientation)
        qtbot.addWidget(window)
        window.show()
        presenter.start()
        qtbot.waitUntil(lambda: presenter.pending == 0 and link.link().available, timeout=10_000)
        kiosk = Kiosk(window, presenter, service, link, cards)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.window.allow_close = True
        kiosk.presenter.shutdown()


def days_ago(n: int) -> dt.date:
    """A date ``n`` days before today (the ID reader checks expiry against the real date)."""
    return dt.date.today() - dt.timedelta(days=n)
