"""The supervisor's live hall and figures (center/web/static/supervisor): queues, windows with
who is on duty and for how long, the longest waits, alerts, and today's figures per window,
staff member and service.

For staff with the supervisor or admin role. Alerts and their thresholds: center.web.alerts.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError

from center.api.deps import HallDep, require
from center.api.errors import ERROR_RESPONSES
from center.api.views import HallStatusOut, Out
from center.auth.roles import Principal, Role
from center.web.alerts import Alert, Thresholds, hall_alerts
from center.web.breakdown import Group, day_breakdown
from center.web.watch import read_watch

router = APIRouter(prefix="/api/v1/supervisor", tags=["supervisor"], responses=ERROR_RESPONSES)
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.ADMIN))]
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


class AlertOut(Out):
    """Something a supervisor should look at."""

    key: str
    """Stable while the condition lasts: ``wait:tax``, ``pause:5``, ``bad_rating:17``."""
    kind: str
    """``wait``, ``pause``, ``absent``, ``device``, ``deadline``, ``overdue``, ``bad_rating``."""
    severity: str
    """``critical`` or ``warning``."""
    title: str
    detail: str
    since: dt.datetime | None
    window: int | None
    service: str | None

    @classmethod
    def of(cls, a: Alert) -> AlertOut:
        """From the pure alert."""
        return cls(
            key=a.key,
            kind=a.kind,
            severity=a.severity,
            title=a.title,
            detail=a.detail,
            since=a.since,
            window=a.window,
            service=a.service,
        )


class ThresholdsOut(Out):
    """When the alerts fire."""

    wait_minutes: int
    pause_minutes: int
    absent_grace_minutes: int
    device_silent_minutes: int
    deadline_working_days: int


class LiveWindowOut(Out):
    """A window: state, since when, who is on duty, what it serves now."""

    number: int
    name: str
    status: str
    since: dt.datetime | None
    staff: str | None
    staff_name: str | None
    covering_for: str | None
    current: str | None
    serving_since: dt.datetime | None
    pause_reason: str | None
    served_today: int


class LongWaitOut(Out):
    """One of the longest-waiting tickets."""

    number: str
    service: str
    service_name: str
    lane: str
    priority_class: str | None
    target_window: int | None
    issued_at: dt.datetime
    waited_seconds: float


class ServiceWaitOut(Out):
    """A service's longest wait now."""

    code: str
    longest_wait_seconds: float | None
    over_threshold: int


class OverviewOut(Out):
    """The live hall."""

    hall: str
    """The hall's name."""
    status: HallStatusOut
    windows: list[LiveWindowOut]
    waits: list[ServiceWaitOut]
    longest: list[LongWaitOut]
    alerts: list[AlertOut]
    thresholds: ThresholdsOut


class GroupOut(Out):
    """One window's, staff member's or service's day."""

    key: str
    name: str
    served: int
    no_show: int
    transferred: int
    mean_wait_seconds: float | None
    mean_handling_seconds: float | None
    cases: int
    immediate_cases: int
    immediate_rate: float | None
    """即办件比率"""
    invitations: int
    rated: int
    good: int
    bad: int
    good_rate: float | None
    """好评率"""
    not_rated: int
    not_rated_rate: float | None
    """未评价率"""

    @classmethod
    def of(cls, g: Group) -> GroupOut:
        """From the breakdown."""
        return cls(
            key=g.key,
            name=g.name,
            served=g.served,
            no_show=g.no_show,
            transferred=g.transferred,
            mean_wait_seconds=_round(g.mean_wait_seconds),
            mean_handling_seconds=_round(g.mean_handling_seconds),
            cases=g.cases,
            immediate_cases=g.immediate_cases,
            immediate_rate=g.immediate_rate,
            invitations=g.invitations,
            rated=g.rated,
            good=g.good,
            bad=g.bad,
            good_rate=g.good_rate,
            not_rated=g.not_rated,
            not_rated_rate=g.not_rated_rate,
        )


class TotalsOut(Out):
    """The hall's headline figures (center.engine.figures)."""

    tickets_issued: int
    tickets_served: int
    mean_wait_seconds: float | None
    mean_handling_seconds: float | None
    immediate_case_rate: float | None
    good_rating_rate: float | None
    not_rated_rate: float | None
    invitations: int
    not_rated: int
    ratings_by_level: dict[int, int]
    cases_by_kind: dict[str, int]


class FiguresDayOut(Out):
    """A hall day's figures per window, staff member and service."""

    hall_day: dt.date
    totals: TotalsOut
    windows: list[GroupOut]
    staff: list[GroupOut]
    services: list[GroupOut]


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


@router.get("/overview", response_model=OverviewOut)
def overview(hall: HallDep, _who: Supervisor) -> OverviewOut:
    """The live hall: queues, windows with staff on duty, longest waits and alerts."""
    t = Thresholds()
    watch = read_watch(hall.center, t)
    now = watch.facts.now
    limit = t.wait_minutes * 60
    waits = []
    for code, items in watch.waiting_by_service.items():
        longest = max((now - w.issued_at).total_seconds() for w in items)
        over = sum(1 for w in items if (now - w.issued_at).total_seconds() > limit)
        waits.append(
            ServiceWaitOut(code=code, longest_wait_seconds=round(longest, 1), over_threshold=over)
        )
    return OverviewOut(
        hall=hall.center.ctx.cfg.hall.name,
        status=HallStatusOut.of(hall.center.status.hall()),
        windows=[LiveWindowOut.model_validate(w, from_attributes=True) for w in watch.windows],
        waits=waits,
        longest=[LongWaitOut.model_validate(w, from_attributes=True) for w in watch.longest],
        alerts=[AlertOut.of(a) for a in hall_alerts(watch.facts, t)],
        thresholds=ThresholdsOut(
            wait_minutes=t.wait_minutes,
            pause_minutes=t.pause_minutes,
            absent_grace_minutes=t.absent_grace_minutes,
            device_silent_minutes=t.device_silent_minutes,
            deadline_working_days=t.deadline_working_days,
        ),
    )


@router.get("/alerts", response_model=list[AlertOut])
def alerts(hall: HallDep, _who: Supervisor) -> list[AlertOut]:
    """The hall's alerts now, critical first (thresholds: see the overview)."""
    t = Thresholds()
    return [AlertOut.of(a) for a in hall_alerts(read_watch(hall.center, t).facts, t)]


@router.get("/figures", response_model=FiguresDayOut)
def figures(
    hall: HallDep,
    _who: Supervisor,
    day: Annotated[
        dt.date | None, Query(description="Hall day (default: today), 2000-01-01 to 2100-12-31")
    ] = None,
) -> FiguresDayOut:
    """A hall day's figures per window, staff member and service: served, average wait and
    handling time, 即办件比率, 好评率, 未评价率."""
    cfg = hall.center.ctx.cfg
    day = day or hall.center.ctx.now()[1]
    if not FIRST_DAY <= day <= LAST_DAY:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "day"), "msg": "Must lie in 2000-2100"}]
        )
    with hall.center.store.read() as conn:
        b = day_breakdown(conn, cfg, day)
    f = b.totals
    assert f is not None  # a whole-hall breakdown always has totals
    return FiguresDayOut(
        hall_day=b.hall_day,
        totals=TotalsOut(
            tickets_issued=f.tickets_issued,
            tickets_served=f.tickets_served,
            mean_wait_seconds=_round(f.mean_wait_seconds),
            mean_handling_seconds=_round(f.mean_handling_seconds),
            immediate_case_rate=f.immediate_case_rate,
            good_rating_rate=f.good_rating_rate,
            not_rated_rate=f.not_rated_rate,
            invitations=f.invitations,
            not_rated=f.not_rated,
            ratings_by_level=f.ratings_by_level,
            cases_by_kind=f.cases_by_kind,
        ),
        windows=[GroupOut.of(g) for g in b.windows],
        staff=[GroupOut.of(g) for g in b.staff],
        services=[GroupOut.of(g) for g in b.services],
    )
