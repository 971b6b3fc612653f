"""What the LED devices show, as pure functions of the center's events."""

from __future__ import annotations

from typing import Any

import pytest

from devices.client.stream import StreamEvent
from display.view import (
    Call,
    HallView,
    WindowStatus,
    WindowView,
    apply,
    board_lines,
    strip_lines,
    waiting_notice,
    window_from_center,
)


def ev(kind: str, window: int | None = 3, **data: Any) -> StreamEvent:
    return StreamEvent(1, kind, None, window, None, data)


def fold(*events: StreamEvent, keep: int = 10) -> HallView:
    view = HallView(keep=keep)
    for e in events:
        view = apply(view, e)
    return view


def test_a_call_sets_the_window_and_tops_the_board() -> None:
    view = fold(
        ev("window.opened", staff="1005"), ev("ticket.called", number="A012", service="tax")
    )
    assert view.window(3) == WindowView(3, "", WindowStatus.OPEN, "A012", "tax", staff="1005")
    assert view.recent == (Call("A012", 3),)


def test_a_recall_moves_the_call_to_the_top_once() -> None:
    view = fold(
        ev("ticket.called", 1, number="A001"),
        ev("ticket.called", 2, number="A002"),
        ev("ticket.recalled", 1, number="A001"),
    )
    assert view.recent == (Call("A001", 1), Call("A002", 2))


def test_the_board_keeps_only_what_it_shows() -> None:
    view = fold(*(ev("ticket.called", 1, number=f"A00{n}") for n in range(5)), keep=3)
    assert [c.number for c in view.recent] == ["A004", "A003", "A002"]


@pytest.mark.parametrize("kind", ["ticket.done", "ticket.no_show", "ticket.transferred"])
def test_the_end_of_a_visit_frees_the_window(kind: str) -> None:
    view = fold(ev("ticket.called", number="A012"), ev(kind, number="A012"))
    assert view.window(3).current is None
    assert view.recent == (Call("A012", 3),)


def test_the_end_of_another_visit_changes_nothing() -> None:
    before = fold(ev("ticket.called", number="A012"))
    assert apply(before, ev("ticket.done", number="A011")) is before


def test_pause_resume_handover_close() -> None:
    view = fold(ev("window.opened", staff="1005"), ev("window.paused", reason="取材料"))
    assert (view.window(3).status, view.window(3).pause_reason) == (WindowStatus.PAUSED, "取材料")
    view = apply(view, ev("window.resumed"))
    assert (view.window(3).status, view.window(3).pause_reason) == (WindowStatus.OPEN, None)
    view = apply(view, ev("window.handover", to_staff="1006", covering_for="1005"))
    assert (view.window(3).staff, view.window(3).covering_for) == ("1006", "1005")
    view = apply(view, ev("window.closed"))
    assert view.window(3) == WindowView(3, "", WindowStatus.CLOSED)


def test_events_without_a_window_or_unknown_kinds_change_nothing() -> None:
    view = HallView()
    assert apply(view, ev("ticket.issued", None, number="A1")) is view
    assert apply(view, ev("case.registered")) is view


@pytest.mark.parametrize(
    ("window", "lines"),
    [
        (WindowView(3, "综合窗口", WindowStatus.OPEN, "A012"), ["A012 请到3号窗口", "税务"]),
        (WindowView(3, "综合窗口", WindowStatus.OPEN), ["3号窗口", "综合窗口"]),
        (
            WindowView(3, "x", WindowStatus.PAUSED, pause_reason="取材料"),
            ["3号窗口", "暂停: 取材料"],
        ),
        (WindowView(3, "x", WindowStatus.PAUSED), ["3号窗口", "暂停服务"]),
        (WindowView(3, "x", WindowStatus.CLOSED), ["3号窗口", "暂停服务"]),
        (WindowView(3, "x", WindowStatus.UNKNOWN), ["3号窗口", "暂停服务"]),
        (
            WindowView(3, "x", WindowStatus.OPEN, staff="1006", covering_for="1005"),
            ["3号窗口", "A岗外出 B岗代办"],
        ),
    ],
)
def test_strip_lines(window: WindowView, lines: list[str]) -> None:
    assert strip_lines(window, "税务") == lines


def test_a_one_line_strip_gets_one_line() -> None:
    w = WindowView(3, "x", WindowStatus.OPEN, "A012")
    assert strip_lines(w, "税务", lines=1) == ["A012 请到3号窗口 税务"]


def test_board_lines_and_notice() -> None:
    calls = [Call("A012", 3), Call("B001", 12), Call("C9", 1)]
    assert board_lines(calls, 2) == ["A012 请到3号窗口", "B001 请到12号窗口"]
    assert (
        waiting_notice([("税务", 3), ("户籍", 0), ("不动产", 12)])
        == "等候人数: 税务 3人  不动产 12人"
    )
    assert waiting_notice([("税务", 0)]) == "当前无人等候"


def test_a_window_from_the_center() -> None:
    row = {"number": 2, "name": "2号窗口", "status": "paused", "current": None,
           "pause_reason": "会议", "staff": "1003", "covering_for": None}  # fmt: skip
    assert window_from_center(row, None) == WindowView(
        2, "2号窗口", WindowStatus.PAUSED, pause_reason="会议", staff="1003"
    )
    assert window_from_center({"number": 1, "status": "odd"}, None).status is WindowStatus.UNKNOWN
