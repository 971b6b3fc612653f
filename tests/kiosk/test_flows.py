"""Every citizen path through the kiosk, driven through its widgets (pytest-qt, offscreen).

Real center on a loopback port, real ID card reader simulator on a pty, real ESC/POS
printer simulator on TCP; waits are qtbot.waitUntil, never sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devices.idcard.sim import RemoveMode, sample_card
from devices.printer.sim import TcpPrinterSim
from kiosk.ports import CitizenCard
from kiosk.presenter import Screen
from kiosk.simulate import LoopbackCenter

from .conftest import Kiosk, days_ago

WAIT = 10_000


def wait_screen(qtbot: Any, kiosk: Kiosk, screen: Screen, timeout: int = WAIT) -> None:
    qtbot.waitUntil(lambda: kiosk.screen is screen, timeout=timeout)


def printed_jobs(printer: TcpPrinterSim) -> list[Any]:
    return [job for job in printer.printer.jobs if job.cut]


def test_plain_ticket(qtbot: Any, make_kiosk: Callable[..., Kiosk], printer: TcpPrinterSim) -> None:
    """GIVEN the home screen WHEN 税务 then 取号 are touched THEN one ticket is printed."""
    kiosk = make_kiosk()
    home = kiosk.window.home
    assert "税务" in home.tile_button("tax").text()
    assert "需刷身份证" in home.tile_button("hukou").text()
    home.tile_button("tax").click()
    assert kiosk.screen is Screen.INFO
    info = kiosk.window.info
    texts = [w.text() for w in info.body.findChildren(type(info.title))]
    assert "办理条件" in texts and "申请材料" in texts and "1. 居民身份证\n2. 税务登记表" in texts
    assert "收费标准" in texts and "投诉电话" in texts
    info.take_button.click()
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None
    number = outcome.ticket.number
    assert number.startswith("A") and kiosk.window.ticket.number.text() == number
    qtbot.waitUntil(lambda: len(printed_jobs(printer)) == 1, timeout=WAIT)
    assert printed_jobs(printer)[0].rasters, "the ticket is printed as an image"
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.printed and not outcome.ticket.offline


def test_ticket_with_id_card(
    qtbot: Any, make_kiosk: Callable[..., Kiosk], idcard: Any, printer: TcpPrinterSim
) -> None:
    """A service that needs an ID card asks for it, then issues a ticket with the masked name."""
    kiosk = make_kiosk()
    kiosk.window.home.tile_button("hukou").click()
    assert kiosk.window.info.take_button.text() == "刷身份证取号"
    kiosk.window.info.take_button.click()
    assert kiosk.screen is Screen.IDENTIFY
    assert not kiosk.window.identify.skip_button.isVisibleTo(kiosk.window)
    idcard.place_card(sample_card())
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.ticket.number == "B001"  # never leased: ID needed
    assert outcome.ticket.masked_name == "张*"
    assert "张*" in kiosk.window.ticket.extra.text()
    assert len(printed_jobs(printer)) == 1


def test_citizen_card(qtbot: Any, make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.window.home.tile_button("tax").click()
    kiosk.window.info.identify_button.click()
    assert kiosk.screen is Screen.IDENTIFY
    assert "市民卡" in kiosk.window.identify.prompt.text()
    kiosk.cards.present(CitizenCard("3301000012345678", "11010519491231002X", "李小明"))
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.ticket.masked_name == "李*明"


def test_expired_card_is_refused_on_screen(
    qtbot: Any, make_kiosk: Callable[..., Kiosk], idcard: Any, printer: TcpPrinterSim
) -> None:
    kiosk = make_kiosk()
    kiosk.window.home.tile_button("hukou").click()
    kiosk.window.info.take_button.click()
    idcard.place_card(sample_card(valid_to=days_ago(3)))
    error = kiosk.window.identify.error
    qtbot.waitUntil(lambda: "过期" in error.text(), timeout=WAIT)
    assert kiosk.screen is Screen.IDENTIFY
    assert printed_jobs(printer) == []


def test_card_pulled_out_mid_read(
    qtbot: Any, make_kiosk: Callable[..., Kiosk], idcard: Any
) -> None:
    """GIVEN the card leaves the field during the read THEN the prompt says to place it
    again, and placing it again issues the ticket."""
    kiosk = make_kiosk()
    kiosk.window.home.tile_button("hukou").click()
    kiosk.window.info.take_button.click()
    idcard.card_faults.remove_mid_read = RemoveMode.READ_FAILED
    idcard.place_card(sample_card())
    error = kiosk.window.identify.error
    qtbot.waitUntil(lambda: "重新放好" in error.text(), timeout=WAIT)
    assert kiosk.screen is Screen.IDENTIFY
    idcard.place_card(sample_card())
    wait_screen(qtbot, kiosk, Screen.TICKET)


def test_green_channel(qtbot: Any, make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.window.home.tile_button("tax").click()
    kiosk.window.info.green_button.click()
    assert kiosk.screen is Screen.GREEN
    green = kiosk.window.green.buttons
    assert "urgent" not in green, "classes staff assign are not offered at the kiosk"
    green["elderly"].click()
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.ticket.priority_name == "老年人"


def test_printer_out_of_paper_shows_the_ticket_and_reports(
    qtbot: Any, make_kiosk: Callable[..., Kiosk], printer: TcpPrinterSim, center: LoopbackCenter
) -> None:
    """GIVEN no paper WHEN a ticket is taken THEN number and QR are on screen, the fault
    reaches the center, nothing is printed; after a new roll the next number prints once."""
    kiosk = make_kiosk()
    printer.printer.run_out_of_paper()
    kiosk.window.home.tile_button("tax").click()
    kiosk.window.info.take_button.click()
    wait_screen(qtbot, kiosk, Screen.FALLBACK)
    fallback = kiosk.window.fallback
    first = fallback.number.text()
    assert first.startswith("A")
    assert "拍照" in fallback.message.text() and "另一台取号机" in fallback.message.text()
    assert not fallback.qr.pixmap().isNull() and fallback.qr.pixmap().width() > 200
    assert printed_jobs(printer) == []
    qtbot.waitUntil(lambda: not kiosk.link.outbox.pending(), timeout=WAIT)
    assert kiosk.service.active_faults == {"printer.paper_out"}
    rows = {r["name"]: r for r in _devices(center)}
    assert rows["k1"]["state"] not in (None, "", "ok")

    printer.printer.restore()
    kiosk.presenter.go_home()
    kiosk.window.home.tile_button("tax").click()
    kiosk.window.info.take_button.click()
    wait_screen(qtbot, kiosk, Screen.TICKET)
    assert kiosk.window.ticket.number.text() not in ("", first)
    qtbot.waitUntil(lambda: len(printed_jobs(printer)) == 1, timeout=WAIT)
    assert kiosk.service.active_faults == set()


def _devices(center: LoopbackCenter) -> list[dict[str, Any]]:
    from center.api.queries import list_devices

    return list_devices(center.center)


def test_center_down_issues_from_the_lease(
    qtbot: Any, make_kiosk: Callable[..., Kiosk], center: LoopbackCenter, printer: TcpPrinterSim
) -> None:
    """GIVEN the center stops WHEN a ticket is taken THEN it is printed from the lease like
    any other; when the center is back the ticket is synced into its queue."""
    kiosk = make_kiosk()
    assert kiosk.link.leases.remaining("tax") >= 2
    center.stop()
    kiosk.window.home.tile_button("tax").click()
    kiosk.window.info.take_button.click()
    wait_screen(qtbot, kiosk, Screen.TICKET)
    outcome = kiosk.presenter.last_outcome
    assert outcome is not None and outcome.printed and outcome.ticket.offline
    number = outcome.ticket.number
    assert number.startswith("A") and kiosk.window.ticket.number.text() == number
    assert kiosk.link.leases.unsynced()
    center.start()
    kiosk.presenter.poll_devices()
    qtbot.waitUntil(lambda: not kiosk.link.leases.unsynced(), timeout=WAIT)
    status = center.center.status.hall()
    assert {s.code: s.waiting for s in status.services}["tax"] == 1


def test_idle_timeout_returns_home(qtbot: Any, make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk(idle_ms=300)
    kiosk.window.home.tile_button("tax").click()
    assert kiosk.screen is Screen.INFO
    wait_screen(qtbot, kiosk, Screen.HOME, timeout=3000)
    kiosk.window.home.tile_button("tax").click()
    kiosk.window.info.take_button.click()
    wait_screen(qtbot, kiosk, Screen.TICKET)
    wait_screen(qtbot, kiosk, Screen.HOME, timeout=3000)
