"""The screen widget, offscreen: a synthetic event sequence through presenter and view."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6.QtWidgets")

from pytestqt.qtbot import QtBot

from config.schema import HallConfig
from devices.client.models import WindowState
from display.screen.model import LINK_DOWN, Link, ModelOptions, ScreenModel, Snapshot, WindowMode
from display.screen.presenter import ScreenPresenter
from display.screen.view import ScreenView
from tests.screen.conftest import FakeClock, called, ev, hall_status


class Rig:
    """A presenter rendering into a view, both on the fake clock."""

    def __init__(self, qtbot: QtBot, hall: HallConfig, clock: FakeClock, flash_s: float) -> None:
        model = ScreenModel.from_config(
            hall, notice="请携带身份证原件", options=ModelOptions(flash_s=flash_s)
        )
        self.presenter = ScreenPresenter(model, clock)
        self.view = ScreenView(clock, blink_ms=50)
        qtbot.addWidget(self.view)
        self.presenter.changed.connect(self.view.show_state)
        self.view.show_state(self.presenter.state)
        self.presenter.on_link(Link(True))


@pytest.fixture
def rig(qtbot: QtBot, hall: HallConfig, clock: FakeClock) -> Iterator[Rig]:
    yield Rig(qtbot, hall, clock, flash_s=6.0)


def test_the_latest_call_is_shown_big_and_the_others_listed(rig: Rig) -> None:
    for seq, (number, window) in enumerate([("A001", 1), ("B001", 2), ("A002", 3)], 1):
        rig.presenter.on_event(called(seq, number, window, minute=seq))
    assert rig.view.hero_texts() == ("A002", "请到 3 号窗口办理")
    assert rig.view.call_rows() == ["B001 → 2号窗口", "A001 → 1号窗口"]
    assert rig.view.window_texts() == {1: "办理中 A001", 2: "办理中 B001", 3: "办理中 A002"}


def test_the_newest_call_flashes_then_stays_steady(rig: Rig, clock: FakeClock) -> None:
    """GIVEN a call at t, THEN it is highlighted and alternates colours while t+6 s has not
    come; WHEN the fake clock passes t+6 s, THEN the next tick shows it steady."""
    rig.presenter.on_event(called(1, "A001", 1))
    assert rig.view.hero.property("phase") == "on", "a new call starts bright"
    phases = set()
    for _ in range(4):
        rig.view.tick()
        phases.add(rig.view.hero.property("phase"))
    assert phases == {"on", "off"}
    clock.advance(5.5)
    rig.view.tick()
    assert rig.view.highlighted()
    clock.advance(1.0)
    rig.view.tick()
    assert not rig.view.highlighted()
    assert rig.view.hero.property("phase") == "steady"
    assert rig.view.hero_texts()[0] == "A001", "the call stays on screen"


def test_the_flash_ends_by_itself_on_the_real_timer(
    qtbot: QtBot, hall: HallConfig, clock: FakeClock
) -> None:
    rig = Rig(qtbot, hall, clock, flash_s=1.0)
    rig.presenter.on_event(called(1, "A001", 1))
    assert rig.view.highlighted()
    clock.advance(2.0)
    qtbot.waitUntil(lambda: not rig.view.highlighted(), timeout=2000)


def test_a_recall_is_marked_and_flashes_again(rig: Rig, clock: FakeClock) -> None:
    rig.presenter.on_event(called(1, "A001", 1))
    clock.advance(30)
    rig.view.tick()
    assert not rig.view.highlighted()
    rig.presenter.on_event(ev(2, "ticket.recalled", 1, number="A001"))
    assert rig.view.highlighted()
    assert rig.view.hero_texts() == ("A001", "请到 1 号窗口办理（重呼）")


def test_window_states_show_paused_with_reason_and_absent(rig: Rig) -> None:
    rig.presenter.on_snapshot(
        Snapshot(
            5,
            hall_status(
                windows=[
                    WindowState(1, "1号窗口", "open", None, None),
                    WindowState(2, "2号窗口", "paused", None, "会议"),
                    WindowState(3, "3号窗口", "closed", None, None),
                ],
                waiting={"tax": 3, "estate": 1},
            ),
        )
    )
    assert rig.view.window_texts() == {1: "在岗", 2: "暂停：会议", 3: "未在岗"}
    assert rig.view.window_modes() == {
        1: WindowMode.OPEN,
        2: WindowMode.PAUSED,
        3: WindowMode.CLOSED,
    }
    assert rig.view.service_rows() == [
        ("税务", "3", "约30分钟"),
        ("户籍", "0", "无需等候"),
        ("不动产登记", "1", "约10分钟"),
    ]
    rig.presenter.on_event(ev(6, "window.resumed", 2))
    assert rig.view.window_texts()[2] == "在岗"


def test_the_banner_shows_while_the_center_is_down_and_calls_stay(rig: Rig) -> None:
    rig.presenter.on_event(called(1, "A001", 1))
    assert rig.view.banner_text() is None
    rig.presenter.on_link(Link(False, LINK_DOWN))
    assert rig.view.banner_text() == "中心连接中断，正在重连…"
    assert rig.view.hero_texts()[0] == "A001"
    rig.presenter.on_link(Link(True))
    assert rig.view.banner_text() is None


def test_the_notice_scrolls_when_it_does_not_fit(rig: Rig, qtbot: QtBot) -> None:
    assert rig.view.marquee.text() == "请携带身份证原件"
    rig.presenter.set_notice("请携带身份证原件。" * 20)
    rig.view.show()
    qtbot.waitExposed(rig.view)
    marquee = rig.view.marquee
    start = marquee._offset
    qtbot.waitUntil(lambda: marquee._offset > start + 5, timeout=2000)


def test_a_broken_event_is_logged_and_the_screen_keeps_its_state(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.presenter.on_event(called(1, "A001", 1))
    bad = called(2, "A002", 1)
    object.__setattr__(bad, "data", None)  # what no center sends: data that is not a dict
    rig.presenter.on_event(bad)
    assert rig.view.hero_texts()[0] == "A001"
    assert "could not take in event #2" in caplog.text


def test_the_layout_fits_a_1080p_screen_and_scales_to_720p(rig: Rig) -> None:
    rig.view.resize(1920, 1080)
    rig.view.show()
    assert rig.view.size().height() == 1080
    assert rig.view.grab().size().height() == 1080
    rig.view.resize(1280, 720)
    assert (rig.view.width(), rig.view.height()) == (1280, 720)
    assert rig.view.grab().size().height() == 720


def test_waiting_figures_show_a_dash_until_read_and_while_the_center_is_away(rig: Rig) -> None:
    assert rig.view.service_rows()[0] == ("税务", "—", "—")
    rig.presenter.on_snapshot(Snapshot(1, hall_status(waiting={"tax": 2})))
    assert rig.view.service_rows()[0] == ("税务", "2", "约20分钟")
    rig.presenter.on_link(Link(False, LINK_DOWN))
    assert rig.view.service_rows()[0] == ("税务", "—", "—")


def test_a_large_hall_pages_the_services_people_wait_for() -> None:
    """GIVEN more services than fit, WHEN some have people waiting,
    THEN only those are listed, a readable page at a time, and the pages turn."""
    from display.screen.model import ServiceLine
    from display.screen.view import SERVICE_ROWS, service_page

    lines = tuple(
        ServiceLine(
            code=f"s{i}",
            name=f"业务{i}",
            waiting=(i if i % 3 == 0 else 0),
            open_windows=1,
            wait_seconds=60.0,
        )
        for i in range(42)
    )
    waiting = [line.code for line in lines if line.waiting]
    first, pages = service_page(lines, 0)
    second, _ = service_page(lines, 1)
    assert pages == -(-len(waiting) // SERVICE_ROWS) == 2
    assert [line.code for line in first + second] == waiting
    assert service_page(lines, 2)[0] == first  # wraps
    small = lines[:5]
    assert service_page(small, 3) == (small, 1)  # a small hall shows everything, always
    nobody = tuple(
        ServiceLine(code=line.code, name=line.name, waiting=0, open_windows=1, wait_seconds=None)
        for line in lines
    )
    assert len(service_page(nobody, 0)[0]) == SERVICE_ROWS
