"""The screen model on its own: event sequences in, immutable states out (no Qt)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys

import pytest

from config.schema import HallConfig
from devices.client.models import RecentCall, WindowState
from display.screen.model import (
    LINK_DOWN,
    CallEntry,
    Link,
    ModelOptions,
    ScreenModel,
    ServiceLine,
    Snapshot,
    WindowMode,
    call_text,
    mask_name,
    wait_text,
)
from tests.center.conftest import MONDAY_9
from tests.live.server import ROOT
from tests.screen.conftest import FakeClock, called, ev, hall_status


@pytest.fixture
def model(hall: HallConfig) -> ScreenModel:
    return ScreenModel.from_config(hall, notice="欢迎", options=ModelOptions(keep=5, flash_s=6))


def numbers(model: ScreenModel) -> list[str]:
    return [c.number for c in model.state.calls]


def test_starts_from_the_config_with_the_center_not_yet_heard(model: ScreenModel) -> None:
    state = model.state
    assert state.hall_name == "测试政务服务中心"
    assert [(w.number, w.mode) for w in state.windows] == [
        (1, WindowMode.UNKNOWN),
        (2, WindowMode.UNKNOWN),
        (3, WindowMode.UNKNOWN),
    ]
    assert [s.name for s in state.services] == ["税务", "户籍", "不动产登记"]
    assert state.newest is None
    assert not state.center_available
    assert state.notice_line() == "欢迎"


def test_a_call_becomes_the_newest_flashes_and_shows_at_its_window(
    model: ScreenModel, clock: FakeClock
) -> None:
    assert model.apply(called(1, "A001", 3, minute=1), clock())
    state = model.state
    assert state.newest is not None
    assert (state.newest.number, state.newest.window, state.newest.seq) == ("A001", 3, 1)
    assert state.flashing(clock())
    clock.advance(5.9)
    assert state.flashing(clock())
    clock.advance(0.2)
    assert not state.flashing(clock())
    tile = state.window(3)
    assert tile is not None
    assert (tile.mode, tile.current) == (WindowMode.OPEN, "A001")
    assert call_text(state.newest) == "请 A001 到 3 号窗口"


def test_calls_are_kept_newest_first_up_to_keep(model: ScreenModel, clock: FakeClock) -> None:
    for i in range(1, 8):
        model.apply(called(i, f"A{i:03d}", 1 + i % 3, minute=i), clock())
    assert numbers(model) == ["A007", "A006", "A005", "A004", "A003"]


def test_a_state_is_immutable_and_older_states_are_untouched(
    model: ScreenModel, clock: FakeClock
) -> None:
    before = model.state
    model.apply(called(1, "A001", 1), clock())
    assert before.calls == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.state.notice = "x"  # type: ignore[misc]


def test_replayed_events_after_a_reconnect_are_not_applied_twice(
    model: ScreenModel, clock: FakeClock
) -> None:
    """GIVEN calls 1..3 seen, WHEN the stream reconnects and the server replays 2..5,
    THEN 2 and 3 are ignored, 4 and 5 added: every call once, in order."""
    seen = [called(1, "A001", 1, minute=1), called(2, "A002", 2, minute=2),
            called(3, "A003", 3, minute=3)]  # fmt: skip
    for e in seen:
        model.apply(e, clock())
    replay = [*seen[1:], called(4, "A004", 1, minute=4), called(5, "A005", 2, minute=5)]
    changed = [model.apply(e, clock()) for e in replay]
    assert changed == [False, False, True, True]
    assert numbers(model) == ["A005", "A004", "A003", "A002", "A001"]
    assert model.counters.ignored == 2
    assert model.state.last_seq == 5


def test_stale_replayed_calls_are_listed_but_do_not_flash(
    model: ScreenModel, clock: FakeClock
) -> None:
    model.apply(called(1, "A001", 1, stale=True), clock())
    assert numbers(model) == ["A001"]
    assert not model.state.flashing(clock())


def test_a_recall_goes_on_top_again_and_flashes(model: ScreenModel, clock: FakeClock) -> None:
    model.apply(called(1, "A001", 1, minute=1), clock())
    model.apply(called(2, "A002", 2, minute=2), clock())
    clock.advance(10)
    model.apply(ev(3, "ticket.recalled", 1, minute=3, number="A001"), clock())
    newest = model.state.newest
    assert newest is not None
    assert (newest.number, newest.recall) == ("A001", True)
    assert model.state.flashing(clock())
    assert numbers(model) == ["A001", "A002", "A001"]


def test_window_events_set_open_paused_with_reason_and_absent(
    model: ScreenModel, clock: FakeClock
) -> None:
    steps = [
        (ev(1, "window.opened", 2, staff="1003"), WindowMode.OPEN, None, None),
        (called(2, "B001", 2), WindowMode.OPEN, "B001", None),
        (ev(3, "ticket.done", 2, number="B001"), WindowMode.OPEN, None, None),
        (ev(4, "window.paused", 2, reason="会议"), WindowMode.PAUSED, None, "会议"),
        (ev(5, "window.resumed", 2), WindowMode.OPEN, None, None),
        (ev(6, "window.closed", 2), WindowMode.CLOSED, None, None),
    ]
    for event, mode, current, reason in steps:
        model.apply(event, clock())
        tile = model.state.window(2)
        assert tile is not None
        assert (tile.mode, tile.current, tile.pause_reason) == (mode, current, reason), event.kind


def test_the_end_of_another_ticket_leaves_the_window_as_it_is(
    model: ScreenModel, clock: FakeClock
) -> None:
    model.apply(called(1, "A002", 1), clock())
    model.apply(ev(2, "ticket.no_show", 1, number="A001"), clock())
    tile = model.state.window(1)
    assert tile is not None and tile.current == "A002"


def test_unknown_and_windowless_events_only_advance_the_seq(
    model: ScreenModel, clock: FakeClock
) -> None:
    before = model.state
    assert model.apply(ev(7, "ticket.issued", None, number="A009", service="tax"), clock())
    assert model.apply(ev(8, "window.handover", 1, to_staff="1002"), clock())
    assert model.state == dataclasses.replace(before, last_seq=8)


def test_the_snapshot_sets_windows_waiting_counts_notice_and_recent_calls(
    model: ScreenModel,
) -> None:
    status = hall_status(
        windows=[
            WindowState(1, "1号窗口", "open", "A003", None),
            WindowState(2, "2号窗口", "paused", None, "会议"),
            WindowState(3, "3号窗口", "closed", None, None),
        ],
        waiting={"tax": 4},
        notice="今日取号已结束",
    )
    recent = [
        RecentCall("A003", 1, "1号窗口", "next", MONDAY_9 + dt.timedelta(minutes=3)),
        RecentCall("B001", 2, "2号窗口", "next", MONDAY_9 + dt.timedelta(minutes=1)),
    ]
    assert model.apply_snapshot(Snapshot(10, status, recent))
    state = model.state
    assert [(w.mode, w.current, w.pause_reason) for w in state.windows] == [
        (WindowMode.OPEN, "A003", None),
        (WindowMode.PAUSED, None, "会议"),
        (WindowMode.CLOSED, None, None),
    ]
    assert state.services[0] == ServiceLine("tax", "税务", 4, 1, 2400.0)
    assert wait_text(state.services[0]) == "约40分钟"
    assert wait_text(state.services[1]) == "无需等候"
    assert numbers(model) == ["A003", "B001"]
    assert not state.flashing(0.0)
    assert state.notice_line() == "今日取号已结束　　欢迎"
    assert not model.apply_snapshot(Snapshot(10, status, recent)), "the same again changes nothing"


def test_a_snapshot_older_than_an_event_does_not_undo_it(
    model: ScreenModel, clock: FakeClock
) -> None:
    """GIVEN window 2 paused by event 12, WHEN a status read started at seq 11 arrives
    saying "open", THEN the window stays paused; a later read (mark 12) is taken."""
    model.apply(ev(12, "window.paused", 2, reason="午休"), clock())
    stale = hall_status(windows=[WindowState(2, "2号窗口", "open", None, None)])
    model.apply_snapshot(Snapshot(11, stale))
    tile = model.state.window(2)
    assert tile is not None and tile.mode is WindowMode.PAUSED
    model.apply_snapshot(Snapshot(12, stale))
    tile = model.state.window(2)
    assert tile is not None and tile.mode is WindowMode.OPEN


def test_replayed_events_older_than_the_snapshot_do_not_undo_it(
    model: ScreenModel, clock: FakeClock
) -> None:
    """GIVEN a snapshot at head 20 (window 1 closed), WHEN the replay brings event 15
    (window 1 opened), THEN the window stays closed, but the call list still gets it."""
    closed = hall_status(windows=[WindowState(1, "1号窗口", "closed", None, None)])
    model.apply_snapshot(Snapshot(20, closed))
    model.apply(ev(15, "window.opened", 1), clock())
    model.apply(called(16, "A001", 1), clock())
    tile = model.state.window(1)
    assert tile is not None and tile.mode is WindowMode.CLOSED
    assert numbers(model) == ["A001"]
    model.apply(called(21, "A002", 1), clock())
    tile = model.state.window(1)
    assert tile is not None and (tile.mode, tile.current) == (WindowMode.OPEN, "A002")


def test_a_call_from_the_snapshot_and_from_an_event_is_one_entry(
    model: ScreenModel, clock: FakeClock
) -> None:
    at = MONDAY_9 + dt.timedelta(minutes=5)
    model.apply(called(30, "A005", 1, minute=5), clock())
    utc = at.astimezone(dt.UTC)
    model.apply_snapshot(
        Snapshot(29, hall_status(), [RecentCall("A005", 1, "1号窗口", "next", utc)])
    )
    assert len(model.state.calls) == 1
    entry = model.state.calls[0]
    assert entry.seq == 30 and entry.flashing(clock()), "the event's entry (it flashes) is kept"


def test_calls_of_an_earlier_hall_day_leave_with_the_next_status(
    model: ScreenModel, clock: FakeClock
) -> None:
    """GIVEN Monday's calls, WHEN a status read at Tuesday 03:30 arrives (the hall day starts
    at 03:00), THEN the screen has no calls; a status read on Monday night kept them."""
    model.apply(called(1, "A001", 1, minute=1), clock())
    monday_night = dataclasses.replace(hall_status(), at=MONDAY_9.replace(hour=23, minute=59))
    model.apply_snapshot(Snapshot(1, monday_night))
    assert numbers(model) == ["A001"]
    tuesday = dataclasses.replace(hall_status(), at=MONDAY_9 + dt.timedelta(hours=18, minutes=30))
    assert model.apply_snapshot(Snapshot(1, tuesday))
    assert model.state.calls == ()


def test_seq_gaps_are_counted_not_kept(model: ScreenModel, clock: FakeClock) -> None:
    for seq in (1, 5, 9):
        model.apply(called(seq, f"A{seq:03d}", 1), clock())
    assert (model.counters.applied, model.counters.gaps) == (3, 2)


def test_link_down_and_up(model: ScreenModel) -> None:
    assert model.set_link(Link(False, LINK_DOWN))
    assert (model.state.center_available, model.state.link_message) == (False, LINK_DOWN)
    assert not model.set_link(Link(False, LINK_DOWN))
    assert model.set_link(Link(True))
    assert (model.state.center_available, model.state.link_message) == (True, "")


def test_names_are_shown_masked_only_when_enabled(hall: HallConfig, clock: FakeClock) -> None:
    hidden = ScreenModel.from_config(hall)
    hidden.apply(called(1, "A001", 1, name="张小三"), clock())
    assert hidden.state.calls[0].name is None
    shown = ScreenModel.from_config(hall, options=ModelOptions(show_names=True))
    shown.apply(called(1, "A001", 1, name="张小三"), clock())
    shown.apply(called(2, "A002", 1, masked_name="李*"), clock())
    assert [c.name for c in shown.state.calls] == ["李*", "张*三"]
    assert call_text(shown.state.calls[1]) == "请 A001（张*三） 到 1 号窗口"


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张小三", "张*三"), ("欧阳小明", "欧**明"), ("张", "*"), ("王*", "王*")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_call_entry_key_ignores_the_time_zone_of_its_time() -> None:
    at = MONDAY_9
    assert CallEntry("A1", 1, at).key == CallEntry("A1", 1, at.astimezone(dt.UTC)).key


def test_the_model_imports_without_qt() -> None:
    """The model is pure: importing it with PySide6 made unimportable still works."""
    code = (
        "import sys; sys.modules['PySide6'] = None\n"
        "import display.screen.model, display.screen.app\n"
        "assert not any(m.startswith('PySide6.') for m in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
