"""What the staff console shows for one window: the ticket being served, its case and rating,
the window's queue, the visits it finished today and its own figures; and the preview of a
case's deadline and notices before it is registered.

Citizens' names appear masked (张*三); nothing else personal is read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select

from center.db.tables import cases, evaluations, sessions, tickets, windows
from center.engine import sql
from center.engine.cases import BEHAVIOUR, PROMISED
from center.engine.center import Center
from center.engine.states import (
    NOTICE_TITLES,
    EvaluationStatus,
    Lane,
    NoticeKind,
    Rating,
    TicketState,
    WindowStatus,
)
from center.errors import InvalidState, NotFound, Refused
from center.pii import mask_name
from center.web.breakdown import Group, day_breakdown

QUEUE_LIMIT = 50
"""The console lists at most this many waiting tickets (and says how many there are)."""
RECENT_LIMIT = 15
"""… and this many of the window's latest visits."""

_LANE_RANK = {Lane.DIRECT.value: 0, Lane.APPOINTMENT.value: 1}


@dataclass(frozen=True, slots=True)
class CasePreview:
    """What registering a case of ``kind`` now would do."""

    kind: str
    kind_name: str
    behaviour: str
    """``immediate``, ``promised``, ``returned`` or ``awaiting`` (see docs/cases.md)."""
    working_days: int | None
    due: dt.date | None
    due_provisional: bool
    notices: list[str]
    """Titles of the notices issued on registration."""
    needs_reason: bool
    needs_documents: bool


def _rating(level: int | None) -> str | None:
    return Rating(level).label if level is not None else None


def _evaluation(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "ticket_id": row.ticket_id,
        "number": row.display,
        "status": row.status,
        "level": row.level,
        "label": _rating(row.level),
        "bad": row.level is not None and Rating(row.level).is_bad,
        "channel": row.channel,
        "invited_at": row.invited_at,
        "expires_at": row.expires_at,
        "rated_at": row.rated_at,
    }


def _figures(group: Group | None) -> dict[str, Any]:
    g = group or Group("", "")
    return {
        "served": g.served,
        "no_show": g.no_show,
        "transferred": g.transferred,
        "mean_wait_seconds": g.mean_wait_seconds,
        "mean_handling_seconds": g.mean_handling_seconds,
        "cases": g.cases,
        "immediate_rate": g.immediate_rate,
        "rated": g.rated,
        "good_rate": g.good_rate,
        "not_rated": g.not_rated,
        "not_rated_rate": g.not_rated_rate,
    }


def console_state(center: Center, window: int) -> dict[str, Any]:
    """Everything the console of window ``window`` shows (a JSON-ready dict)."""
    cfg = center.ctx.cfg
    win_cfg = cfg.windows_by_number.get(window)
    if win_cfg is None:
        raise NotFound(f"unknown window {window}", zh=f"没有{window}号窗口")
    now, day, _ = center.ctx.now()
    svc = cfg.services_by_code
    with center.store.read() as conn:
        row = conn.execute(select(windows).where(windows.c.number == window)).first()
        current = _current(center, conn, row.current_ticket_id if row is not None else None)
        queue, total = _queue(conn, day, window, win_cfg.services, win_cfg.selection)
        recent = _recent(conn, day, window)
        last = conn.execute(
            select(evaluations, tickets.c.display)
            .join(tickets, tickets.c.id == evaluations.c.ticket_id)
            .where(evaluations.c.window == window, evaluations.c.hall_day == day)
            .order_by(evaluations.c.invited_at.desc(), evaluations.c.id.desc())
            .limit(1)
        ).first()
        staff_no = row.staff if row is not None else None
        figures = day_breakdown(conn, cfg, day, window=window, staff=staff_no)
    staff = cfg.staff_by_number.get(staff_no) if staff_no else None
    by_window = {g.key: g for g in figures.windows}
    by_staff = {g.key: g for g in figures.staff}
    return {
        "at": now,
        "hall_day": day,
        "window": {
            "number": window,
            "name": win_cfg.name,
            "status": row.status if row is not None else WindowStatus.CLOSED.value,
            "since": row.status_since if row is not None else None,
            "pause_reason": row.pause_reason if row is not None else None,
            "staff": staff_no,
            "staff_name": staff.name if staff else None,
            "covering_for": row.covering_for if row is not None else None,
        },
        "services": [
            {
                "code": code,
                "name": svc[code].name,
                "prefix": svc[code].prefix,
                "promised_days": svc[code].promised_days,
                "case_kinds": list(svc[code].case_kinds) or list(cfg.case_kinds),
            }
            for code in win_cfg.services
            if code in svc
        ],
        "transfer_services": [{"code": s.code, "name": s.name} for s in cfg.services],
        "transfer_windows": [
            {"number": w.number, "name": w.name} for w in cfg.windows if w.number != window
        ],
        "case_kinds": [{"code": code, "name": name} for code, name in cfg.case_kinds.items()],
        "current": current,
        "queue": [
            {
                "number": q.display,
                "service": q.service,
                "service_name": svc[q.service].name if q.service in svc else q.service,
                "lane": q.lane,
                "priority_class": q.priority_class,
                "priority_name": _priority_name(center, q.priority_class),
                "waited_seconds": round((now - q.issued_at).total_seconds(), 1),
            }
            for q in queue
        ],
        "queue_total": total,
        "recent": [
            {
                "number": r.display,
                "service_name": svc[r.service].name if r.service in svc else r.service,
                "outcome": r.outcome,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "handling_seconds": round((r.ended_at - r.started_at).total_seconds(), 1)
                if r.ended_at
                else None,
                "level": r.level,
                "label": _rating(r.level),
            }
            for r in recent
        ],
        "last_rating": _evaluation(last),
        "figures": {
            "window": _figures(by_window.get(str(window))),
            "staff": _figures(by_staff.get(staff_no)) if staff_no else None,
        },
    }


def _priority_name(center: Center, code: str | None) -> str | None:
    if code is None:
        return None
    spec = center.ctx.cfg.priority.classes.get(code)
    return spec.name if spec else code


def _current(center: Center, conn: Connection, ticket_id: int | None) -> dict[str, Any] | None:
    if ticket_id is None:
        return None
    cfg = center.ctx.cfg
    t = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
    if t is None:
        return None
    case = conn.execute(
        select(cases.c.case_no, cases.c.kind, cases.c.status, cases.c.due, cases.c.due_provisional)
        .where(cases.c.ticket_id == ticket_id)
        .order_by(cases.c.id.desc())
        .limit(1)
    ).first()
    ev = conn.execute(
        select(evaluations, tickets.c.display)
        .join(tickets, tickets.c.id == evaluations.c.ticket_id)
        .where(evaluations.c.ticket_id == ticket_id)
    ).first()
    name = center.ctx.person_name(conn, t.person_id)
    now, _, _ = center.ctx.now()
    svc = cfg.services_by_code.get(t.service)
    return {
        "ticket_id": t.id,
        "number": t.display,
        "service": t.service,
        "service_name": svc.name if svc else t.service,
        "lane": t.lane,
        "priority_class": t.priority_class,
        "priority_name": _priority_name(center, t.priority_class),
        "called_at": t.called_at,
        "serving_seconds": round((now - t.called_at).total_seconds(), 1) if t.called_at else None,
        "waited_seconds": round((t.first_called_at - t.issued_at).total_seconds(), 1)
        if t.first_called_at
        else None,
        "recalls": t.recalls,
        "transfers": t.transfers,
        "person": mask_name(name) if name else None,
        "case": None
        if case is None
        else {
            "case_no": case.case_no,
            "kind": case.kind,
            "kind_name": cfg.case_kinds.get(case.kind, case.kind),
            "status": case.status,
            "due": case.due,
            "due_provisional": bool(case.due_provisional),
        },
        "evaluation": _evaluation(ev),
    }


def _queue(
    conn: Connection, day: dt.date, window: int, services: list[str], selection: str
) -> tuple[list[Any], int]:
    """Tickets window ``window`` may call, roughly in the order it would call them."""
    rows = conn.execute(
        select(
            tickets.c.id,
            tickets.c.display,
            tickets.c.service,
            tickets.c.lane,
            tickets.c.priority_class,
            tickets.c.queue_key,
            tickets.c.issued_at,
        ).where(
            tickets.c.hall_day == day,
            tickets.c.state == TicketState.WAITING.value,
            or_(
                tickets.c.target_window == window,
                tickets.c.service.in_(services) & (tickets.c.lane != Lane.DIRECT.value),
            ),
        )
    ).all()
    order = {code: i for i, code in enumerate(services)}

    def key(r: Any) -> tuple[int, int, int, int]:
        rank = _LANE_RANK.get(r.lane, 2)
        precedence = order.get(r.service, 0) if selection == "precedence" and rank else 0
        return (min(rank, 1), precedence, r.queue_key, r.id)

    rows = sorted(rows, key=key)
    return rows[:QUEUE_LIMIT], len(rows)


def _recent(conn: Connection, day: dt.date, window: int) -> list[Any]:
    return list(
        conn.execute(
            select(
                tickets.c.display,
                sessions.c.service,
                sessions.c.outcome,
                sessions.c.started_at,
                sessions.c.ended_at,
                evaluations.c.level,
            )
            .join(tickets, tickets.c.id == sessions.c.ticket_id)
            .outerjoin(
                evaluations,
                (evaluations.c.ticket_id == sessions.c.ticket_id)
                & (evaluations.c.window == sessions.c.window),
            )
            .where(
                sessions.c.hall_day == day,
                sessions.c.window == window,
                sessions.c.ended_at.is_not(None),
            )
            .order_by(sessions.c.ended_at.desc(), sessions.c.id.desc())
            .limit(RECENT_LIMIT)
        ).all()
    )


def case_preview(
    center: Center, window: int, kind: str, working_days: int | None, with_pending_documents: bool
) -> CasePreview:
    """The deadline and notices of a case of ``kind`` registered now for the ticket served."""
    cfg = center.ctx.cfg
    if kind not in cfg.case_kinds:
        raise NotFound(f"unknown case kind {kind!r}", zh="没有这种办件类型")
    _, day, _ = center.ctx.now()
    with center.store.read() as conn:
        service = conn.execute(
            select(tickets.c.service)
            .select_from(windows.join(tickets, tickets.c.id == windows.c.current_ticket_id))
            .where(windows.c.number == window)
        ).scalar()
    if service is None:
        raise InvalidState(
            f"window {window} is not serving any ticket: a case is registered during a visit",
            zh="当前没有正在办理的号，无法登记办件",
        )
    svc = cfg.services_by_code[service]
    if svc.case_kinds and kind not in svc.case_kinds:
        raise Refused(
            f"service {svc.code} does not register {kind} cases", zh="此业务不适用该办件类型"
        )
    behaviour = BEHAVIOUR.get(kind, PROMISED)
    titles = {k: NOTICE_TITLES[k] for k in NoticeKind}
    days: int | None
    if behaviour == "immediate":
        days, notices = 0, [titles[NoticeKind.ACCEPTANCE]]
    elif behaviour == "returned":
        days, notices = None, [titles[NoticeKind.RETURN]]
    elif behaviour == "awaiting":
        days, notices = None, [titles[NoticeKind.CORRECTION]]
    else:
        days = working_days if working_days is not None else svc.promised_days
        notices = [titles[NoticeKind.ACCEPTANCE]]
    due, provisional = None, False
    if days is not None:
        deadline = center.ctx.calendar.add_working_days(day, days)
        due, provisional = deadline.due, deadline.provisional
    return CasePreview(
        kind=kind,
        kind_name=cfg.case_kinds[kind],
        behaviour=behaviour,
        working_days=days,
        due=due,
        due_provisional=provisional,
        notices=notices,
        needs_reason=behaviour == "returned",
        needs_documents=behaviour == "awaiting"
        or (behaviour == PROMISED and with_pending_documents),
    )


def rated_visit(center: Center, ticket_id: int) -> dict[str, Any]:
    """What the QR page shows about the ticket of a link (no personal data): where it is
    (waiting with so many people ahead, called to a window, finished) and its rating."""
    cfg = center.ctx.cfg
    with center.store.read() as conn:
        t = conn.execute(
            select(
                tickets.c.id,
                tickets.c.display,
                tickets.c.service,
                tickets.c.hall_day,
                tickets.c.state,
                tickets.c.window,
                tickets.c.lane,
                tickets.c.queue_key,
            ).where(tickets.c.id == ticket_id)
        ).first()
        ahead = None
        if t is not None and t.state == TicketState.WAITING.value and t.lane != Lane.DIRECT.value:
            params = {"day": t.hall_day, "service": t.service, "key": t.queue_key, "tid": t.id}
            ahead = int(conn.execute(sql.AHEAD, params).scalar_one())
        ev = conn.execute(
            select(evaluations.c.status, evaluations.c.level, evaluations.c.window).where(
                evaluations.c.ticket_id == ticket_id
            )
        ).first()
    if t is None:
        raise NotFound("the visit of this rating link does not exist", zh="未找到该次办事记录")
    window = ev.window if ev is not None else t.window
    win = cfg.windows_by_number.get(window) if window is not None else None
    svc = cfg.services_by_code.get(t.service)
    rated = ev is not None and ev.status == EvaluationStatus.RATED.value
    return {
        "hall": cfg.hall.name,
        "number": t.display,
        "service_name": svc.name if svc else t.service,
        "window_name": win.name if win else None,
        "hall_day": t.hall_day,
        "status": t.state,
        "ahead": ahead,
        "window": window if t.state != TicketState.WAITING.value else None,
        "finished": ev is not None,
        "rated": rated,
        "label": _rating(ev.level) if rated and ev is not None else None,
    }
