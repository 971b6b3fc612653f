"""Supervisor alerts: the pure rules of center.web.alerts, fact by fact."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from center.web.alerts import (
    BadRatingFacts,
    CaseFacts,
    DeviceFacts,
    HallFacts,
    Thresholds,
    WaitingFacts,
    WindowFacts,
    hall_alerts,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in the hall
SESSION = dt.datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # the morning session began 08:30
TODAY = dt.date(2026, 11, 23)


def ago(minutes: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


def facts(**kw: Any) -> HallFacts:
    base: dict[str, Any] = {
        "now": NOW,
        "today": TODAY,
        "session_started_at": SESSION,
        "deadline_warn_until": dt.date(2026, 11, 24),
    }
    base.update(kw)
    return HallFacts(**base)


def window(status: str, since: dt.datetime | None, **kw: Any) -> WindowFacts:
    base: dict[str, Any] = {
        "number": 5,
        "name": "企业开办",
        "status": status,
        "since": since,
        "staff": "1051" if status != "closed" else None,
        "a_post": "1051",
        "a_post_name": "陆佳怡",
    }
    base.update(kw)
    return WindowFacts(**base)


def kinds(f: HallFacts, t: Thresholds | None = None) -> list[tuple[str, str]]:
    return [(a.key, a.severity) for a in hall_alerts(f, t)]


def test_a_quiet_hall_has_no_alerts() -> None:
    f = facts(
        windows=[window("open", ago(60))],
        waiting=[WaitingFacts("A001", "biz", "企业开办", ago(5))],
        devices=[DeviceFacts("kiosk-1", "kiosk", None, "ok", ago(1))],
        cases=[CaseFacts("20261123000001", "承诺件", "设立登记", 5, "1051", dt.date(2026, 11, 30))],
    )
    assert hall_alerts(f) == []


def test_waits_over_the_threshold_are_one_alert_per_service() -> None:
    waiting = [
        WaitingFacts("A001", "biz", "企业开办", ago(45)),
        WaitingFacts("A002", "biz", "企业开办", ago(31)),
        WaitingFacts("A003", "biz", "企业开办", ago(30)),  # exactly at the limit: not yet
        WaitingFacts("Y001", "tax", "涉税", ago(61)),
    ]
    alerts = hall_alerts(facts(waiting=waiting))
    assert [(a.key, a.severity) for a in alerts] == [
        ("wait:tax", "critical"),
        ("wait:biz", "warning"),
    ]
    biz = alerts[1]
    assert biz.title == "企业开办等候超时"
    assert biz.detail == "2人等候超过30分钟，最长A001号已等45分钟"
    assert biz.service == "biz" and biz.since == ago(15)


def test_thresholds_can_be_changed() -> None:
    f = facts(waiting=[WaitingFacts("A001", "biz", "企业开办", ago(12))])
    assert kinds(f) == []
    assert kinds(f, Thresholds(wait_minutes=10)) == [("wait:biz", "warning")]


def test_a_window_paused_too_long() -> None:
    assert kinds(facts(windows=[window("paused", ago(15))])) == []
    alerts = hall_alerts(facts(windows=[window("paused", ago(16), pause_reason="会议")]))
    assert [(a.key, a.severity) for a in alerts] == [("pause:5", "warning")]
    assert alerts[0].title == "5号窗口 企业开办 暂停过久"
    assert alerts[0].detail == "已暂停16分钟（会议）（工号1051）"
    assert kinds(facts(windows=[window("paused", ago(31))])) == [("pause:5", "critical")]


def test_a_closed_window_with_an_a_post_in_business_hours_is_absent() -> None:
    alerts = hall_alerts(facts(windows=[window("closed", None)]))
    assert [(a.key, a.severity) for a in alerts] == [("absent:5", "critical")]
    assert alerts[0].title == "5号窗口 企业开办 空岗"
    assert "工作时间无人登录且未报暂停，已90分钟" in alerts[0].detail
    assert "陆佳怡" in alerts[0].detail and "1051" in alerts[0].detail
    assert alerts[0].since == SESSION


def test_absence_needs_business_hours_a_grace_period_and_an_a_post() -> None:
    closed = window("closed", None)
    assert kinds(facts(windows=[closed], session_started_at=None)) == []
    assert kinds(facts(windows=[closed], session_started_at=ago(9))) == []
    assert kinds(facts(windows=[closed], session_started_at=ago(10))) == [("absent:5", "critical")]
    assert kinds(facts(windows=[window("closed", ago(5))])) == []  # just logged out
    assert kinds(facts(windows=[window("closed", ago(25))])) == [("absent:5", "critical")]
    assert kinds(facts(windows=[window("closed", None, a_post=None)])) == []
    assert kinds(facts(windows=[window("paused", ago(5))])) == []  # a pause is not absence


def test_absence_counts_from_the_later_of_session_start_and_log_out() -> None:
    # Logged out before lunch, the afternoon session began 20 minutes ago.
    f = facts(windows=[window("closed", ago(200))], session_started_at=ago(20))
    (alert,) = hall_alerts(f)
    assert alert.since == ago(20) and "已20分钟" in alert.detail


def test_devices_that_fault_or_fall_silent() -> None:
    devices = [
        DeviceFacts("printer-ok", "kiosk", None, "ok", ago(1)),
        DeviceFacts("kiosk-1", "kiosk", None, "fault", ago(3), fault="printer.paper_out"),
        DeviceFacts("board-east", "display", None, "ok", ago(6)),
        DeviceFacts("board-west", "display", None, None, None),  # never seen: not an alert
        DeviceFacts("eval-9", "evaluator", 9, "ok", ago(60)),  # sends no heartbeats
        DeviceFacts("kiosk-2", "kiosk", None, "ok", ago(60)),  # neither
    ]
    alerts = hall_alerts(facts(devices=devices))
    assert [(a.key, a.severity) for a in alerts] == [
        ("device:kiosk-1", "critical"),
        ("device:board-east", "warning"),
    ]
    assert alerts[0].title == "设备故障：kiosk-1"
    assert alerts[0].detail == "kiosk 报告故障：printer.paper_out"
    assert alerts[1].title == "设备离线：board-east"
    assert alerts[1].detail == "display 已6分钟没有联系"
    fault_at_window = DeviceFacts("eval-5", "evaluator", 5, "fault", ago(1))
    (alert,) = hall_alerts(facts(devices=[fault_at_window]))
    assert alert.title == "设备故障：eval-5（5号窗口）" and alert.window == 5
    # Outside business hours silence is normal (devices are switched off); faults still count.
    assert kinds(facts(devices=devices, session_started_at=None)) == [
        ("device:kiosk-1", "critical")
    ]


def test_promised_cases_near_and_past_their_deadline() -> None:
    def case(no: str, due: dt.date) -> CaseFacts:
        return CaseFacts(no, "承诺件", "设立登记", 5, "1051", due)

    cases = [
        case("1", dt.date(2026, 11, 20)),  # overdue
        case("2", TODAY),
        case("3", dt.date(2026, 11, 24)),  # the next working day
        case("4", dt.date(2026, 11, 25)),  # later: nothing
    ]
    alerts = hall_alerts(facts(cases=cases))
    assert [(a.key, a.severity) for a in alerts] == [
        ("overdue:1", "critical"),
        ("deadline:2", "warning"),
        ("deadline:3", "warning"),
    ]
    assert alerts[0].title == "承诺件已超期：1"
    assert alerts[0].detail == "设立登记，应于2026-11-20办结，已超期3天 5号窗口（工号1051）"
    assert alerts[1].detail.startswith("设立登记，今天到期")
    assert alerts[2].detail.startswith("设立登记，2026-11-24到期")


def test_each_bad_rating_of_today_is_an_alert() -> None:
    bad = [
        BadRatingFacts(
            7,
            "A003",
            5,
            "企业开办",
            "1051",
            2,
            "不满意",
            "evaluator",
            ago(30),
            rectify_by=dt.date(2026, 11, 30),
        ),
        BadRatingFacts(
            9, "J001", 8, "8号窗口", None, 1, "非常不满意", "qr", ago(2), comment="太慢"
        ),
    ]
    alerts = hall_alerts(facts(bad_ratings=bad))
    assert [a.key for a in alerts] == ["bad_rating:9", "bad_rating:7"]  # newest first
    assert alerts[0].title == "新差评：8号窗口 J001号「非常不满意」"
    assert alerts[0].detail == "扫码评价：“太慢”"
    assert alerts[1].title == "新差评：5号窗口 企业开办 A003号「不满意」"
    assert alerts[1].detail == "评价器（工号1051），须于2026-11-30前整改"


def test_critical_alerts_come_first_then_the_newest() -> None:
    f = facts(
        windows=[window("paused", ago(20)), dataclasses.replace(window("closed", None), number=6)],
        waiting=[WaitingFacts("A001", "biz", "企业开办", ago(40))],
        bad_ratings=[
            BadRatingFacts(1, "A001", 5, "企业开办", "1051", 1, "非常不满意", "qr", ago(1))
        ],
    )
    assert kinds(f) == [
        ("bad_rating:1", "critical"),
        ("absent:6", "critical"),
        ("pause:5", "warning"),  # past its limit 5 minutes ago
        ("wait:biz", "warning"),  # past its limit 10 minutes ago
    ]
