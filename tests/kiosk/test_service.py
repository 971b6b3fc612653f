"""KioskService without Qt: published facts, masking, refusals, the admin PIN, speech."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
import wave
from pathlib import Path
from typing import Any

import pytest

from devices.client.models import HallStatus, ServiceStatus, Ticket
from kiosk.ports import CitizenCard, DeviceState, IdCardData, PrintFailure, Refused, Unreachable
from kiosk.service import KioskRefusal, KioskService, age_on
from kiosk.speech import EspeakSpeaker, spell_number

from .conftest import ADMIN_PIN, kiosk_hall

NOW = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # 09:00 in the hall


class FakeCenter:
    """A center that answers from memory (the real one is used by the flow tests)."""

    def __init__(self) -> None:
        self.down = False
        self.faults: list[tuple[str, str, dict[str, Any]]] = []
        self.recoveries: list[str] = []
        self.issued: list[tuple[str, str | None, Any]] = []
        self.checked_in: list[Any] = []

    def hall_status(self) -> HallStatus:
        if self.down:
            raise Unreachable("down")
        services = [ServiceStatus("tax", "税务", 4, 100, 1, 600.0)]
        return HallStatus(NOW, True, "", services, [])

    def issue(self, service: str, *, priority_class: str | None, person: Any | None) -> Ticket:
        if service == "estate":
            raise Refused("limit", "今日号已取完", "limit_reached")
        self.issued.append((service, priority_class, person))
        offline = self.down
        return Ticket("A007", service, "税务", NOW, None if offline else 4,
                      None if offline else 600.0, offline)  # fmt: skip

    def check_in(self, code: str) -> Ticket:
        raise Refused("not found", "未找到该预约", "not_found")

    def check_in_person(self, person: Any) -> Ticket:
        self.checked_in.append(person)
        return Ticket("C001", "estate", "不动产登记", NOW, 0, None)

    def report_fault(self, code: str, message: str, detail: dict[str, Any]) -> None:
        self.faults.append((code, message, detail))

    def report_recovery(self, code: str, message: str) -> None:
        self.recoveries.append(code)

    def link(self) -> DeviceState:
        return DeviceState(not self.down, "online")

    def start(self, on_event: Any) -> None:
        pass

    def stop(self) -> None:
        pass


class FakePrinter:
    def __init__(self) -> None:
        self.fail: PrintFailure | None = None
        self.images: list[Any] = []

    def print_ticket(self, image: Any) -> int:
        if self.fail is not None:
            raise self.fail
        self.images.append(image)
        return 1234

    def status(self) -> DeviceState:
        return DeviceState(self.fail is None, "ready" if self.fail is None else "paper_out")

    def close(self) -> None:
        pass


@pytest.fixture
def parts() -> tuple[KioskService, FakeCenter, FakePrinter]:
    cfg = kiosk_hall()
    center, printer = FakeCenter(), FakePrinter()
    service = KioskService(cfg, cfg.devices.kiosks[0], center, printer=printer, clock=lambda: NOW)
    return service, center, printer


def test_info_sections_and_defaults(parts: tuple[KioskService, FakeCenter, FakePrinter]) -> None:
    service = parts[0]
    tax = dict(service.info("tax").sections)
    assert tax["申请材料"] == "1. 居民身份证\n2. 税务登记表"
    assert tax["办理时限"] == "即时办结" and tax["投诉电话"] == "12366"
    estate = dict(service.info("estate").sections)  # no published facts: from the config
    assert estate["办理时限"] == "承诺5个工作日" and estate["办理地点"] == "3号窗口"
    assert service.info("hukou").id_required


def test_home_groups_by_window_class(parts: tuple[KioskService, FakeCenter, FakePrinter]) -> None:
    service, center, _ = parts
    home = service.refresh()
    assert [g.name for g in home.groups] == ["主题窗口", "专业窗口"]
    tax = home.tile("tax")
    assert tax is not None and tax.summary == "等候 4 人 · 约 10 分钟"
    center.down = True
    stale = service.refresh()
    assert stale.stale and stale.tile("tax") == tax, "the last figures stay on screen"


def test_offline_ticket_uses_the_last_known_queue(
    parts: tuple[KioskService, FakeCenter, FakePrinter],
) -> None:
    service, center, printer = parts
    service.refresh()
    center.down = True
    outcome = service.take("tax")
    assert outcome.printed and outcome.ticket.offline
    assert outcome.ticket.ahead == 4 and outcome.ticket.wait_minutes == 10
    assert len(printer.images) == 1


def test_identities_are_masked_and_never_logged(
    parts: tuple[KioskService, FakeCenter, FakePrinter], caplog: pytest.LogCaptureFixture
) -> None:
    service, center, _ = parts
    caplog.set_level(logging.DEBUG)
    card = IdCardData("欧阳小明", "11010519491231002X", dt.date(1949, 12, 31), None)
    who = service.identify_id_card(card)
    assert (who.masked_name, who.masked_id, who.age) == ("欧**明", "1101**********002X", 76)
    assert "欧阳小明" not in repr(who) and "11010519491231002X" not in repr(card)
    ticket = service.issue("hukou", who)
    assert ticket.masked_name == "欧**明"
    assert center.issued[-1][2].id_number == "11010519491231002X"
    assert "11010519491231002X" not in caplog.text and "欧阳小明" not in caplog.text
    nameless = service.identify_citizen_card(CitizenCard("uid:04A1B2C3"))
    with pytest.raises(KioskRefusal, match="身份证"):
        service.issue("hukou", nameless)
    assert "04A1B2C3" not in caplog.text


def test_a_citizen_card_uid_is_never_an_id_number(
    parts: tuple[KioskService, FakeCenter, FakePrinter],
) -> None:
    """GIVEN a card known only by its UID THEN the visit is identified at the kiosk but no
    person goes to the center (not as a ticket's person, not for a check-in); a card that
    gave its holder's ID number stands for that person."""
    service, center, _ = parts
    card_only = service.identify_citizen_card(CitizenCard("uid:04A1B2C3"))
    assert (card_only.source, card_only.masked_name, card_only.masked_id) == ("citizencard", "", "")
    assert card_only.person is None
    outcome = service.take("tax", card_only)
    assert outcome.printed and outcome.ticket.masked_name is None
    assert center.issued[-1][2] is None
    with pytest.raises(KioskRefusal, match="居民身份证"):
        service.check_in_identity(card_only)
    assert center.checked_in == []
    holder = service.identify_citizen_card(CitizenCard("uid:04A1B2C3", "11010519491231002X"))
    assert holder.person is not None and holder.person.id_number == "11010519491231002X"
    assert holder.masked_id == "1101**********002X"
    checked = service.check_in_identity(holder)
    assert checked.appointment and checked.number == "C001"
    assert center.checked_in == [holder.person]


def test_refusals_carry_the_centers_words(
    parts: tuple[KioskService, FakeCenter, FakePrinter],
) -> None:
    service = parts[0]
    with pytest.raises(KioskRefusal, match="今日号已取完"):
        service.take("estate")
    with pytest.raises(KioskRefusal, match="绿色通道"):
        service.issue("tax", priority_class="urgent")  # staff assign it, not the kiosk
    with pytest.raises(KioskRefusal, match="未找到该预约"):
        service.check_in_code("hallq1.abc.def")  # no key here: the center checks it
    with pytest.raises(KioskRefusal, match="未找到该预约"):
        service.check_in_code("Abcdefgh12345678")


def test_print_failure_falls_back_and_reports_once(
    parts: tuple[KioskService, FakeCenter, FakePrinter],
) -> None:
    service, center, printer = parts
    printer.fail = PrintFailure("paper out", "printer.paper_out", "paper_out", sent=False)
    first, second = service.take("tax"), service.take("tax")
    assert not first.printed and not second.printed and first.fault == "printer.paper_out"
    assert first.ticket.number == second.ticket.number == "A007"  # the fake's fixed number
    assert "拍照" in first.message and first.ticket.number in first.lines
    assert [f[0] for f in center.faults] == ["printer.paper_out"], "reported once"
    printer.fail = None
    assert service.take("tax").printed
    assert center.recoveries == ["printer.paper_out"]


def test_no_printer_means_on_screen_tickets(
    parts: tuple[KioskService, FakeCenter, FakePrinter],
) -> None:
    service = parts[0]
    service.printer = None
    outcome = service.take("tax")
    assert not outcome.printed and outcome.fault == "printer.missing"


def test_admin_pin_and_lockout(parts: tuple[KioskService, FakeCenter, FakePrinter]) -> None:
    service = parts[0]
    assert service.check_admin(ADMIN_PIN)
    for _ in range(5):
        assert not service.check_admin("0000")
    with pytest.raises(KioskRefusal, match="稍后"):
        service.check_admin(ADMIN_PIN)


def test_age_and_spelling() -> None:
    assert age_on(dt.date(1949, 12, 31), dt.date(2026, 12, 30)) == 76
    assert age_on(dt.date(1949, 12, 31), dt.date(2026, 12, 31)) == 77
    assert spell_number("A012") == "A零一二"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_espeak_writes_a_spoken_prompt(tmp_path: Path) -> None:
    done = threading.Event()
    spoken: list[Path] = []

    def heard(path: Path) -> None:
        spoken.append(path)
        done.set()

    speaker = EspeakSpeaker(out_dir=tmp_path, player=False, on_spoken=heard)
    speaker.say("请取走您的号票，您的号码是" + spell_number("A012"))
    assert done.wait(20)
    speaker.close()
    with wave.open(str(spoken[0])) as wav:
        frames = wav.readframes(wav.getnframes())
        seconds = wav.getnframes() / wav.getframerate()
    assert seconds > 1.0
    assert max(frames) > 0x40, "not silent"


def test_card_reader_wiring_from_config() -> None:
    """``card_reader`` (the PC/SC reader name) gives the real citizen card adapter, None gives
    none, and ``--simulate`` hands in its fake."""
    from kiosk.adapters import PcscCitizenCards
    from kiosk.app import build_devices
    from kiosk.simulate import SimCitizenCards

    kiosk = kiosk_hall().devices.kiosks[0]
    assert "card_reader" not in build_devices(kiosk)
    real = build_devices(kiosk.model_copy(update={"card_reader": "ACS ACR39U"}))["card_reader"]
    assert isinstance(real, PcscCitizenCards) and real.reader_name == "ACS ACR39U"
    assert real.state() == DeviceState(False, "stopped")
    fake = SimCitizenCards()
    sim = kiosk.model_copy(update={"card_reader": "sim"})
    assert build_devices(sim, fake)["card_reader"] is fake
