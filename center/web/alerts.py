"""Supervisor alerts (电子监察预警), computed from a snapshot of the hall: a pure function.

Nothing here reads the clock or the database: :func:`hall_alerts` gets the facts (see
``center.web.watch`` for how they are read) and the thresholds, and says what needs a
supervisor's attention, most urgent first.

| alert | when | severity |
| --- | --- | --- |
| ``wait`` | tickets of a service have waited more than ``wait_minutes`` | warning; critical past twice that |
| ``pause`` | a window has been paused more than ``pause_minutes`` | warning; critical past twice that |
| ``absent`` | a window with an A post is closed during a business session (after ``absent_grace_minutes`` of it) without a pause: 空岗 | critical |
| ``device`` | a device reported a fault; or one that sends heartbeats went silent for ``device_silent_minutes`` in business hours | critical (fault), warning (silent) |
| ``deadline`` | an open 承诺件 (any kind with a promised deadline) is due within ``deadline_working_days`` working days | warning |
| ``overdue`` | an open 承诺件 is past its due date | critical |
| ``bad_rating`` | a 差评 (不满意, 非常不满意) was given today | critical |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

WAIT_MINUTES = 30
"""A ticket waiting longer than this is an alert (critical past twice as long)."""
PAUSE_MINUTES = 15
"""A window paused longer than this is an alert (critical past twice as long)."""
ABSENT_GRACE_MINUTES = 10
"""A closed window with an A post is 空岗 only this long into a business session."""
DEVICE_SILENT_MINUTES = 5
"""A device that sends heartbeats, seen before and silent this long during business hours, is
offline."""
HEARTBEAT_KINDS = frozenset({"display"})
"""Device kinds that send heartbeats (the display controller, every 30 seconds). Kiosks,
evaluators and keypads send none: only their fault reports count."""
DEADLINE_WORKING_DAYS = 1
"""An open 承诺件 due within this many working days is near its deadline."""

Severity = Literal["critical", "warning"]
AlertKind = Literal["wait", "pause", "absent", "device", "deadline", "overdue", "bad_rating"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When the alerts fire (the module constants by default)."""

    wait_minutes: int = WAIT_MINUTES
    pause_minutes: int = PAUSE_MINUTES
    absent_grace_minutes: int = ABSENT_GRACE_MINUTES
    device_silent_minutes: int = DEVICE_SILENT_MINUTES
    deadline_working_days: int = DEADLINE_WORKING_DAYS
    heartbeat_kinds: frozenset[str] = HEARTBEAT_KINDS


# --- facts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowFacts:
    """A configured window and its state now."""

    number: int
    name: str
    status: str
    """``open``, ``paused`` or ``closed`` (a window never opened is closed)."""
    since: dt.datetime | None
    """When it entered this status (None: never opened)."""
    staff: str | None
    a_post: str | None
    """The window's A post (主办), if it has posts."""
    a_post_name: str | None = None
    pause_reason: str | None = None


@dataclass(frozen=True, slots=True)
class WaitingFacts:
    """A waiting ticket."""

    number: str
    service: str
    service_name: str
    issued_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """A registered, not revoked device."""

    name: str
    kind: str
    window: int | None
    state: str | None
    """The last report: ``ok``, ``fault`` or None (never reported)."""
    last_seen_at: dt.datetime | None
    fault: str | None = None
    """The code of the last fault reported (``printer.paper_out``)."""


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """An open case with a promised deadline."""

    case_no: str
    kind_name: str
    item: str
    window: int | None
    staff: str | None
    due: dt.date


@dataclass(frozen=True, slots=True)
class BadRatingFacts:
    """A 差评 given today."""

    evaluation_id: int
    number: str
    window: int
    window_name: str
    staff: str | None
    level: int
    label: str
    channel: str | None
    rated_at: dt.datetime
    rectify_by: dt.date | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class HallFacts:
    """Everything the alerts look at, read at ``now``."""

    now: dt.datetime
    today: dt.date
    session_started_at: dt.datetime | None
    """Start of the business session ``now`` is in; None outside business hours."""
    deadline_warn_until: dt.date
    """Due dates up to this day are near (today + ``deadline_working_days`` working days)."""
    windows: list[WindowFacts] = field(default_factory=list)
    waiting: list[WaitingFacts] = field(default_factory=list)
    devices: list[DeviceFacts] = field(default_factory=list)
    cases: list[CaseFacts] = field(default_factory=list)
    bad_ratings: list[BadRatingFacts] = field(default_factory=list)


# --- alerts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a supervisor should look at."""

    key: str
    """Stable while the condition lasts (``wait:tax``, ``pause:5``): pages highlight new keys."""
    kind: AlertKind
    severity: Severity
    title: str
    detail: str
    since: dt.datetime | None
    window: int | None = None
    service: str | None = None


def _minutes(seconds: float) -> int:
    return int(seconds // 60)


def window_label(number: int, name: str) -> str:
    """ "5号窗口 企业开办", or the name alone when it already says the number ("1号窗口")."""
    return name if name.startswith(f"{number}号") else f"{number}号窗口 {name}"


def _staff(number: str | None, name: str | None = None) -> str:
    if not number:
        return ""
    return f"（{name} 工号{number}）" if name else f"（工号{number}）"


def wait_alerts(facts: HallFacts, t: Thresholds) -> list[Alert]:
    """Per service: tickets waiting past the threshold, with the longest wait."""
    limit = dt.timedelta(minutes=t.wait_minutes)
    late: dict[str, list[WaitingFacts]] = {}
    for w in facts.waiting:
        if facts.now - w.issued_at > limit:
            late.setdefault(w.service, []).append(w)
    out = []
    for service, tickets in late.items():
        oldest = min(tickets, key=lambda w: w.issued_at)
        waited = (facts.now - oldest.issued_at).total_seconds()
        critical = waited > 2 * limit.total_seconds()
        out.append(
            Alert(
                key=f"wait:{service}",
                kind="wait",
                severity="critical" if critical else "warning",
                title=f"{oldest.service_name}等候超时",
                detail=(
                    f"{len(tickets)}人等候超过{t.wait_minutes}分钟，"
                    f"最长{oldest.number}号已等{_minutes(waited)}分钟"
                ),
                since=oldest.issued_at + limit,
                service=service,
            )
        )
    return out


def window_alerts(facts: HallFacts, t: Thresholds) -> list[Alert]:
    """Windows paused too long, and windows left closed in business hours (空岗)."""
    out = []
    pause_limit = dt.timedelta(minutes=t.pause_minutes)
    grace = dt.timedelta(minutes=t.absent_grace_minutes)
    for w in facts.windows:
        label = window_label(w.number, w.name)
        if w.status == "paused" and w.since is not None and facts.now - w.since > pause_limit:
            paused = (facts.now - w.since).total_seconds()
            out.append(
                Alert(
                    key=f"pause:{w.number}",
                    kind="pause",
                    severity="critical" if paused > 2 * pause_limit.total_seconds() else "warning",
                    title=f"{label} 暂停过久",
                    detail=f"已暂停{_minutes(paused)}分钟（{w.pause_reason or '未注明原因'}）"
                    f"{_staff(w.staff)}",
                    since=w.since + pause_limit,
                    window=w.number,
                )
            )
        started = facts.session_started_at
        if (
            w.status == "closed"
            and w.a_post is not None
            and started is not None
            and facts.now - started >= grace
            and (w.since is None or facts.now - w.since >= grace)
        ):
            since = max(started, w.since) if w.since is not None else started
            out.append(
                Alert(
                    key=f"absent:{w.number}",
                    kind="absent",
                    severity="critical",
                    title=f"{label} 空岗",
                    detail=f"工作时间无人登录且未报暂停，已{_minutes((facts.now - since).total_seconds())}分钟，"
                    f"A岗{_staff(w.a_post, w.a_post_name)}",
                    since=since,
                    window=w.number,
                )
            )
    return out


def device_alerts(facts: HallFacts, t: Thresholds) -> list[Alert]:
    """Devices that reported a fault, or went silent during business hours."""
    out = []
    silent = dt.timedelta(minutes=t.device_silent_minutes)
    for d in facts.devices:
        where = f"（{d.window}号窗口）" if d.window is not None else ""
        if d.state == "fault":
            out.append(
                Alert(
                    key=f"device:{d.name}",
                    kind="device",
                    severity="critical",
                    title=f"设备故障：{d.name}{where}",
                    detail=f"{d.kind} 报告故障" + (f"：{d.fault}" if d.fault else ""),
                    since=d.last_seen_at,
                    window=d.window,
                )
            )
        elif (
            facts.session_started_at is not None
            and d.kind in t.heartbeat_kinds
            and d.last_seen_at is not None
            and facts.now - d.last_seen_at > silent
        ):
            gone = (facts.now - d.last_seen_at).total_seconds()
            out.append(
                Alert(
                    key=f"device:{d.name}",
                    kind="device",
                    severity="warning",
                    title=f"设备离线：{d.name}{where}",
                    detail=f"{d.kind} 已{_minutes(gone)}分钟没有联系",
                    since=d.last_seen_at + silent,
                    window=d.window,
                )
            )
    return out


def case_alerts(facts: HallFacts, t: Thresholds) -> list[Alert]:
    """Open promised cases near or past their due date."""
    del t  # the warning horizon is already in facts.deadline_warn_until
    out = []
    for c in facts.cases:
        where = f"{c.window}号窗口" if c.window is not None else ""
        who = _staff(c.staff)
        if c.due < facts.today:
            days = (facts.today - c.due).days
            out.append(
                Alert(
                    key=f"overdue:{c.case_no}",
                    kind="overdue",
                    severity="critical",
                    title=f"{c.kind_name}已超期：{c.case_no}",
                    detail=f"{c.item}，应于{c.due.isoformat()}办结，已超期{days}天 {where}{who}",
                    since=None,
                    window=c.window,
                )
            )
        elif c.due <= facts.deadline_warn_until:
            when = "今天到期" if c.due == facts.today else f"{c.due.isoformat()}到期"
            out.append(
                Alert(
                    key=f"deadline:{c.case_no}",
                    kind="deadline",
                    severity="warning",
                    title=f"{c.kind_name}临近期限：{c.case_no}",
                    detail=f"{c.item}，{when} {where}{who}",
                    since=None,
                    window=c.window,
                )
            )
    return out


def rating_alerts(facts: HallFacts, t: Thresholds) -> list[Alert]:
    """Today's bad ratings (差评), each one."""
    del t
    out = []
    for r in facts.bad_ratings:
        rectify = f"，须于{r.rectify_by.isoformat()}前整改" if r.rectify_by else ""
        comment = f"：“{r.comment}”" if r.comment else ""
        channel = "扫码评价" if r.channel == "qr" else "评价器"
        out.append(
            Alert(
                key=f"bad_rating:{r.evaluation_id}",
                kind="bad_rating",
                severity="critical",
                title=f"新差评：{window_label(r.window, r.window_name)} {r.number}号「{r.label}」",
                detail=f"{channel}{_staff(r.staff)}{comment}{rectify}",
                since=r.rated_at,
                window=r.window,
            )
        )
    return out


_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def hall_alerts(facts: HallFacts, thresholds: Thresholds | None = None) -> list[Alert]:
    """Every alert of the hall now: critical before warning, then the most recent first."""
    t = thresholds or Thresholds()
    found = [
        *rating_alerts(facts, t),
        *window_alerts(facts, t),
        *wait_alerts(facts, t),
        *device_alerts(facts, t),
        *case_alerts(facts, t),
    ]
    found.sort(key=lambda a: a.since or _EPOCH, reverse=True)
    found.sort(key=lambda a: a.severity != "critical")
    return found
