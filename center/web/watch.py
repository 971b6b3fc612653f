"""The supervisor's live hall: the facts behind the alerts, the windows with who is on duty and
for how long, and the longest waits, read in one snapshot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from center.db.auth_tables import devices
from center.db.tables import cases, device_reports, evaluations, sessions, tickets, windows
from center.engine.cases import BEHAVIOUR, OPEN_STATUSES
from center.engine.center import Center
from center.engine.states import EvaluationStatus, Rating, SessionOutcome, TicketState
from center.rules.hours import is_open_day
from center.rules.workdays import WorkCalendar
from center.web.alerts import (
    BadRatingFacts,
    CaseFacts,
    DeviceFacts,
    HallFacts,
    Thresholds,
    WaitingFacts,
    WindowFacts,
)
from config.schema import HallConfig

LONGEST = 10
"""How many of the longest-waiting tickets the live hall lists."""


@dataclass(frozen=True, slots=True)
class WindowLive:
    """A window as the supervisor sees it."""

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


@dataclass(frozen=True, slots=True)
class LongWait:
    """A ticket among the longest waiting."""

    number: str
    service: str
    service_name: str
    lane: str
    priority_class: str | None
    target_window: int | None
    issued_at: dt.datetime
    waited_seconds: float


@dataclass(frozen=True, slots=True)
class Watch:
    """The facts for the alerts plus what the live hall shows beside them."""

    facts: HallFacts
    windows: list[WindowLive]
    longest: list[LongWait]
    waiting_by_service: dict[str, list[WaitingFacts]]


def session_started_at(
    cfg: HallConfig, calendar: WorkCalendar, now: dt.datetime, day: dt.date
) -> dt.datetime | None:
    """Start of the business session ``now`` (of hall day ``day``) falls in, or None outside
    them. Session times before the day boundary belong to the next date, as in
    ``center.rules.hours``."""
    if not is_open_day(day, cfg.hours, calendar):
        return None
    zone = ZoneInfo(cfg.hall.timezone)
    local = now.astimezone(zone)
    boundary = cfg.hall.day_boundary.replace(tzinfo=None)
    for s in cfg.hours.sessions:
        start_t, end_t = s.start.replace(tzinfo=None), s.end.replace(tzinfo=None)
        start = dt.datetime.combine(
            day + dt.timedelta(days=1) if start_t < boundary else day, start_t, tzinfo=zone
        )
        end = dt.datetime.combine(
            day + dt.timedelta(days=1) if end_t < boundary else day, end_t, tzinfo=zone
        )
        if start <= local < end:
            return start.astimezone(dt.UTC)
    return None


def read_watch(center: Center, thresholds: Thresholds | None = None) -> Watch:
    """Everything the live hall shows, read in one transaction at the center's now."""
    t = thresholds or Thresholds()
    cfg = center.ctx.cfg
    now, day, _ = center.ctx.now()
    warn_until = center.ctx.calendar.add_working_days(day, t.deadline_working_days).due
    with center.store.read() as conn:
        win_rows = {r.number: r for r in conn.execute(select(windows)).all()}
        waiting_rows = conn.execute(
            select(
                tickets.c.display,
                tickets.c.service,
                tickets.c.lane,
                tickets.c.priority_class,
                tickets.c.target_window,
                tickets.c.issued_at,
            )
            .where(tickets.c.hall_day == day, tickets.c.state == TicketState.WAITING.value)
            .order_by(tickets.c.issued_at, tickets.c.id)
        ).all()
        current_ids = [r.current_ticket_id for r in win_rows.values() if r.current_ticket_id]
        serving = {
            r.id: r
            for r in conn.execute(
                select(tickets.c.id, tickets.c.display, tickets.c.called_at).where(
                    tickets.c.id.in_(current_ids)
                )
            ).all()
        }
        served = dict(
            conn.execute(
                select(sessions.c.window, func.count())
                .where(sessions.c.hall_day == day, sessions.c.outcome == SessionOutcome.DONE.value)
                .group_by(sessions.c.window)
            )
            .tuples()
            .all()
        )
        device_facts = _devices(conn)
        case_facts = _cases(conn, cfg, warn_until)
        rectify_by = center.ctx.calendar.add_working_days(day, cfg.evaluation.rectify_days).due
        bad = _bad_ratings(conn, cfg, day, rectify_by)
    services = cfg.services_by_code
    waiting = [
        WaitingFacts(
            r.display,
            r.service,
            services[r.service].name if r.service in services else r.service,
            r.issued_at,
        )
        for r in waiting_rows
    ]
    by_service: dict[str, list[WaitingFacts]] = {}
    for item in waiting:
        by_service.setdefault(item.service, []).append(item)
    window_facts, lives = [], []
    for w in cfg.windows:
        r = win_rows.get(w.number)
        status = r.status if r is not None else "closed"
        a_post = w.posts.a if w.posts else None
        a_staff = cfg.staff_by_number.get(a_post) if a_post else None
        window_facts.append(
            WindowFacts(
                w.number,
                w.name,
                status,
                r.status_since if r is not None else None,
                r.staff if r is not None else None,
                a_post,
                a_staff.name if a_staff else None,
                r.pause_reason if r is not None else None,
            )
        )
        staff = cfg.staff_by_number.get(r.staff) if r is not None and r.staff else None
        cur = serving.get(r.current_ticket_id) if r is not None else None
        lives.append(
            WindowLive(
                number=w.number,
                name=w.name,
                status=status,
                since=r.status_since if r is not None else None,
                staff=r.staff if r is not None else None,
                staff_name=staff.name if staff else None,
                covering_for=r.covering_for if r is not None else None,
                current=cur.display if cur is not None else None,
                serving_since=cur.called_at if cur is not None else None,
                pause_reason=r.pause_reason if r is not None else None,
                served_today=int(served.get(w.number, 0)),
            )
        )
    longest = [
        LongWait(
            r.display,
            r.service,
            services[r.service].name if r.service in services else r.service,
            r.lane,
            r.priority_class,
            r.target_window,
            r.issued_at,
            round((now - r.issued_at).total_seconds(), 1),
        )
        for r in waiting_rows[:LONGEST]
    ]
    facts = HallFacts(
        now=now,
        today=day,
        session_started_at=session_started_at(cfg, center.ctx.calendar, now, day),
        deadline_warn_until=warn_until,
        windows=window_facts,
        waiting=waiting,
        devices=device_facts,
        cases=case_facts,
        bad_ratings=bad,
    )
    return Watch(facts, lives, longest, by_service)


def _devices(conn: Connection) -> list[DeviceFacts]:
    rows = conn.execute(select(devices).where(devices.c.revoked_at.is_(None))).all()
    faults: dict[str, str | None] = {}
    for r in rows:
        if r.state == "fault":
            last = conn.execute(
                select(device_reports.c.detail)
                .where(device_reports.c.device == r.name, device_reports.c.kind == "fault")
                .order_by(device_reports.c.id.desc())
                .limit(1)
            ).scalar()
            code = last.get("code") if isinstance(last, dict) else None
            faults[r.name] = str(code) if code else None
    return [
        DeviceFacts(r.name, r.kind, r.window, r.state, r.last_seen_at, faults.get(r.name))
        for r in rows
    ]


def _cases(conn: Connection, cfg: HallConfig, warn_until: dt.date) -> list[CaseFacts]:
    """Open cases with a promised deadline up to ``warn_until`` (即办件, due the day they are
    taken in, are left out)."""
    no_deadline = [code for code, behaviour in BEHAVIOUR.items() if behaviour == "immediate"]
    rows = conn.execute(
        select(
            cases.c.case_no, cases.c.kind, cases.c.item, cases.c.window, cases.c.staff, cases.c.due
        )
        .where(
            cases.c.status.in_([s.value for s in OPEN_STATUSES]),
            cases.c.due <= warn_until,
            cases.c.kind.not_in(no_deadline),
        )
        .order_by(cases.c.due, cases.c.id)
    ).all()
    return [
        CaseFacts(r.case_no, cfg.case_kinds.get(r.kind, r.kind), r.item, r.window, r.staff, r.due)
        for r in rows
    ]


def _bad_ratings(
    conn: Connection, cfg: HallConfig, day: dt.date, rectify_by: dt.date
) -> list[BadRatingFacts]:
    """Bad ratings given since hall day ``day`` began (a QR rating of an earlier visit too)."""
    rows = conn.execute(
        select(evaluations, tickets.c.display)
        .join(tickets, tickets.c.id == evaluations.c.ticket_id)
        .where(
            evaluations.c.status == EvaluationStatus.RATED.value,
            evaluations.c.level <= int(Rating.DISSATISFIED),
            evaluations.c.rated_at >= _day_start(cfg, day),
        )
        .order_by(evaluations.c.rated_at.desc())
    ).all()
    out = []
    for r in rows:
        win = cfg.windows_by_number.get(r.window)
        rating = Rating(r.level)
        out.append(
            BadRatingFacts(
                evaluation_id=r.id,
                number=r.display,
                window=r.window,
                window_name=win.name if win else f"{r.window}号窗口",
                staff=r.staff,
                level=r.level,
                label=rating.label,
                channel=r.channel,
                rated_at=r.rated_at,
                rectify_by=rectify_by,
                comment=r.comment,
            )
        )
    return out


def _day_start(cfg: HallConfig, day: dt.date) -> dt.datetime:
    """When hall day ``day`` began (its day boundary, hall time)."""
    zone = ZoneInfo(cfg.hall.timezone)
    return dt.datetime.combine(day, cfg.hall.day_boundary.replace(tzinfo=None), tzinfo=zone)
