"""Appointments, elderly mode, admin exit, live status, closed and full services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devices.camera.appointment import AppointmentToken, sign
from devices.client import CenterClient
from devices.idcard.sim import sample_card
from devices.printer.sim import TcpPrinterSim
from kiosk.model import TileState
from kiosk.presenter import Screen
from kiosk.simulate import LoopbackCenter, write_qr_frames

from .conftest import ADMIN_PIN, Kiosk, appointment_key
from .test_flows import WAIT, printed_jobs, wait_screen


def signed(code: str, key: bytes, clock_now: dt.datetime) -> str:
    token = AppointmentToken(
        code, "estate", clock_now + dt.timedelta(minutes=10),
        clock_now + dt.timedelta(minutes=40), clock_now,
    )  # fmt: skip
    return sign(token, key)


@pytest.mark.parametrize("keyed", [True, False], ids=["kiosk-checks", "center-checks"])
def test_appointment_qr_check_in(
    qtbot: Any,
    make_kiosk: Callable[..., Kiosk],
    center: LoopbackCenter,
    printer: TcpPrinterSim,
    tmp_path: Path,
    keyed: bool,
) -> None:
    """GIVEN a booked appointment (its code signed by the center) WHEN its QR code is shown to
    the camera on 预约签到 THEN a ticket in the appointment lane is printed, whether the kiosk
    checks the signature itself or leaves it to the center."""
    text = center.book("estate")
    assert text.startswith("hallq1.")
    kiosk = make_kiosk(camera=write_qr_frames(tmp_path / "frames", [text]), keyed=keyed)
    kiosk.window.home.checkin_button.click()
    assert kiosk.screen is Screen.CHECKIN
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.ticket.appointment and outcome.ticket.service == "estate"
    assert "预约签到成功" in kiosk.window.ticket.extra.text()
    qtbot.waitUntil(lambda: len(printed_jobs(printer)) == 1, timeout=WAIT)


@pytest.mark.parametrize("keyed", [True, False], ids=["kiosk-checks", "center-checks"])
@pytest.mark.parametrize(
    ("make_text", "expected"),
    [
        (lambda key, now: signed("Xq3v9LpA2mRtY7kB", b"somebody-elses-key-0123456789", now),
         "校验失败"),
        (lambda key, now: signed("UnknownCode123456", key, now), "未找到该预约"),
        (lambda key, now: "UnknownCode123456", "不是本中心的预约码"),
        (lambda key, now: "https://pay.example/qr?x=1", "不是本中心的预约码"),
    ],
    ids=["forged-signature", "unknown-code", "plain-code", "not-an-appointment"],
)  # fmt: skip
def test_forged_qr_is_refused(
    qtbot: Any,
    make_kiosk: Callable[..., Kiosk],
    center: LoopbackCenter,
    printer: TcpPrinterSim,
    tmp_path: Path,
    make_text: Callable[[bytes, dt.datetime], str],
    expected: str,
    keyed: bool,
) -> None:
    """A forged code, a genuine signature over an unknown code, a plain (unsigned) code and
    some other QR code are refused with the center's or the kiosk's words; nothing issued."""
    center.book("estate")
    text = make_text(appointment_key(center), center.clock.now())
    frames = write_qr_frames(tmp_path / "frames", [text])
    kiosk = make_kiosk(camera=frames, keyed=keyed)
    kiosk.window.home.checkin_button.click()
    wait_screen(qtbot, kiosk, Screen.MESSAGE)
    assert expected in kiosk.window.message.text.text()
    assert printed_jobs(printer) == []
    status = {s.code: s for s in center.center.status.hall().services}
    assert status["estate"].issued_today == 0, "nothing was checked in"


def test_appointment_check_in_by_id_card(
    qtbot: Any,
    make_kiosk: Callable[..., Kiosk],
    center: LoopbackCenter,
    idcard: Any,
    printer: TcpPrinterSim,
) -> None:
    """GIVEN an appointment booked for the holder of the card WHEN the ID card is swiped on
    预约签到 THEN an appointment-lane ticket is printed; swiping again says it is done."""
    card = sample_card()
    center.book("estate", id_number=card.id_number)
    kiosk = make_kiosk()
    kiosk.window.home.checkin_button.click()
    assert kiosk.screen is Screen.CHECKIN
    idcard.place_card(card)
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.ticket.appointment
    assert (outcome.ticket.service, outcome.ticket.masked_name) == ("estate", "张*")
    assert "预约签到成功" in kiosk.window.ticket.extra.text()
    qtbot.waitUntil(lambda: len(printed_jobs(printer)) == 1, timeout=WAIT)
    kiosk.presenter.go_home()
    kiosk.window.home.checkin_button.click()
    idcard.place_card(card)
    wait_screen(qtbot, kiosk, Screen.MESSAGE)
    assert "已签到" in kiosk.window.message.text.text()
    assert len(printed_jobs(printer)) == 1


def test_appointment_check_in_by_id_card_without_appointment(
    qtbot: Any, make_kiosk: Callable[..., Kiosk], idcard: Any
) -> None:
    """No appointment today for the card's holder: the center's words, nothing issued."""
    kiosk = make_kiosk()
    kiosk.window.home.checkin_button.click()
    idcard.place_card(sample_card())
    wait_screen(qtbot, kiosk, Screen.MESSAGE)
    assert "未找到您今天的预约" in kiosk.window.message.text.text()


class RecordingSpeaker:
    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def close(self) -> None:
        pass


def test_elderly_mode(qtbot: Any, make_kiosk: Callable[..., Kiosk], idcard: Any) -> None:
    """GIVEN elderly mode WHEN a 76-year-old swipes the ID card THEN larger text, spoken
    prompts, and a green-channel ticket (老年人) without extra choices."""
    speaker = RecordingSpeaker()
    kiosk = make_kiosk(speaker=speaker)
    window, home = kiosk.window, kiosk.window.home
    normal_css = window.styleSheet()
    home.elderly_button.click()
    assert kiosk.presenter.elderly and window.styleSheet() != normal_css
    assert "42px" in window.styleSheet()  # tile text 30px × 1.4
    assert not home.checkin_button.isVisibleTo(window)
    assert "hukou" in home.buttons and len(home.buttons) <= 6
    home.tile_button("tax").click()
    assert kiosk.screen is Screen.IDENTIFY, "elderly mode goes straight to the card"
    identify = window.identify
    assert identify.skip_button.isVisibleTo(window) and "老年人优先" in identify.hint.text()
    idcard.place_card(sample_card())  # born 1949
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.ticket.priority_name == "老年人"
    assert any("身份证" in s for s in speaker.said)
    assert any(s.startswith("请取走您的号票") and "零" in s for s in speaker.said)


def test_elderly_mode_skip_card(qtbot: Any, make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.window.home.elderly_button.click()
    kiosk.window.home.tile_button("tax").click()
    kiosk.window.identify.skip_button.click()
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.ticket.priority_name is None


def test_admin_exit(qtbot: Any, make_kiosk: Callable[..., Kiosk], printer: TcpPrinterSim) -> None:
    """Kiosk mode: closing is refused; 5 touches on the hall name and the admin PIN open the
    admin screen, which shows the devices, prints a test ticket and exits."""
    kiosk = make_kiosk()
    window, presenter = kiosk.window, kiosk.presenter
    assert window.windowFlags() & window.windowFlags().FramelessWindowHint
    window.close()
    assert window.isVisible(), "kiosk mode: the window cannot be closed"
    for _ in range(5):
        qtbot.mouseClick(window.home.hall, qtbot_button())
    assert kiosk.screen is Screen.PIN
    pin = window.pin
    for key in "0000":
        pin.keys[key].click()
    with qtbot.waitSignal(presenter.pin_message, timeout=WAIT) as wrong:
        pin.keys["✓"].click()
    assert wrong.args == ["密码错误"] and kiosk.screen is Screen.PIN
    for key in ADMIN_PIN:
        pin.keys[key].click()
    pin.keys["✓"].click()
    wait_screen(qtbot, kiosk, Screen.ADMIN)
    admin = window.admin
    qtbot.waitUntil(lambda: admin.rows["printer"][0].text() == "正常", timeout=WAIT)
    assert admin.rows["center"][0].text() == "正常"
    assert admin.rows["id_reader"][0].text() == "正常"
    with qtbot.waitSignal(presenter.admin_message, timeout=WAIT) as printed:
        admin.test_button.click()
    assert printed.args == ["测试票已打印"]
    qtbot.waitUntil(lambda: len(printed_jobs(printer)) == 1, timeout=WAIT)
    with qtbot.waitSignal(presenter.exit_requested, timeout=WAIT):
        admin.exit_button.click()
    assert not window.isVisible()


def qtbot_button() -> Any:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_live_refresh_from_the_event_stream(
    qtbot: Any, make_kiosk: Callable[..., Kiosk], center: LoopbackCenter
) -> None:
    """A ticket taken at another kiosk shows on this one's home screen without a touch."""
    kiosk = make_kiosk()
    tile = kiosk.window.home.tile_button
    assert "等候 0 人" in tile("tax").text()
    with CenterClient(center.url, center.device_token("k2")) as other:
        other.issue_ticket("tax")
    qtbot.waitUntil(lambda: "等候 1 人" in tile("tax").text(), timeout=WAIT)


def test_closed_full_and_id_required_say_so(
    qtbot: Any, make_kiosk: Callable[..., Kiosk], center: LoopbackCenter
) -> None:
    kiosk = make_kiosk()
    service = kiosk.service
    for _ in range(5):  # estate: daily_max = 5
        service.issue("estate")
    kiosk.presenter.refresh()
    qtbot.waitUntil(lambda: not kiosk.window.home.tile_button("estate").isEnabled(), timeout=WAIT)
    assert "今日号源已取完" in kiosk.window.home.tile_button("estate").text()
    assert "需刷身份证" in kiosk.window.home.tile_button("hukou").text()
    center.clock.advance(11 * 3600)  # 20:00
    kiosk.presenter.refresh()
    qtbot.waitUntil(lambda: not kiosk.window.home.tile_button("tax").isEnabled(), timeout=WAIT)
    model = kiosk.presenter.home_model
    assert {t.state for t in model.tiles} == {TileState.CLOSED}
    assert kiosk.window.home.notice.text()
