"""The day's figures, computed from the database (绩效考评 headline numbers).

Waiting time is from taking the ticket to its first call; handling time is from the call to
finishing (sessions that ended ``done``). Good ratings (好评) are the three upper levels;
the good-rating rate is over rated visits, the not-rated rate over all invitations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from center.db.tables import cases, evaluations, events, sessions, tickets
from center.engine.states import EvaluationStatus, Rating, SessionOutcome, TicketState


@dataclass
class ServiceFigures:
    """One service's day."""

    code: str
    issued: int = 0
    served: int = 0
    no_show: int = 0
    transferred_out: int = 0
    left_waiting: int = 0
    cancelled: int = 0
    mean_wait_seconds: float | None = None
    mean_handling_seconds: float | None = None


@dataclass
class DayFigures:
    """The hall's day."""

    hall_day: dt.date
    tickets_issued: int = 0
    tickets_served: int = 0
    mean_wait_seconds: float | None = None
    mean_handling_seconds: float | None = None
    services: list[ServiceFigures] = field(default_factory=list)
    cases_by_kind: dict[str, int] = field(default_factory=dict)
    immediate_case_rate: float | None = None
    ratings_by_level: dict[int, int] = field(default_factory=dict)
    not_rated: int = 0
    invitations: int = 0
    good_rating_rate: float | None = None
    not_rated_rate: float | None = None
    served_by_window: dict[int, int] = field(default_factory=dict)
    events_logged: int = 0

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["hall_day"] = self.hall_day.isoformat()
        return data


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def day_figures(conn: Connection, day: dt.date, service_codes: list[str]) -> DayFigures:
    """Every headline figure of hall day ``day``."""
    fig = DayFigures(day)
    rows = conn.execute(
        select(
            tickets.c.original_service,
            tickets.c.service,
            tickets.c.state,
            tickets.c.transfers,
            tickets.c.issued_at,
            tickets.c.first_called_at,
        ).where(tickets.c.hall_day == day)
    ).all()
    per = {code: ServiceFigures(code) for code in service_codes}
    waits: dict[str, list[float]] = {code: [] for code in service_codes}
    for r in rows:
        origin = per.setdefault(r.original_service, ServiceFigures(r.original_service))
        origin.issued += 1
        origin.transferred_out += 1 if r.transfers else 0
        if r.first_called_at is not None:
            wait = (r.first_called_at - r.issued_at).total_seconds()
            waits.setdefault(r.original_service, []).append(wait)
        final = per.setdefault(r.service, ServiceFigures(r.service))
        if r.state == TicketState.DONE.value:
            final.served += 1
        elif r.state == TicketState.NO_SHOW.value:
            final.no_show += 1
        elif r.state == TicketState.WAITING.value:
            final.left_waiting += 1
        elif r.state == TicketState.CANCELLED.value:
            final.cancelled += 1
    handling = _handling(conn, day)
    for code, f in per.items():
        f.mean_wait_seconds = _mean(waits.get(code, []))
        f.mean_handling_seconds = _mean(handling.get(code, []))
    fig.services = list(per.values())
    fig.tickets_issued = len(rows)
    fig.tickets_served = sum(f.served for f in per.values())
    fig.mean_wait_seconds = _mean([w for ws in waits.values() for w in ws])
    fig.mean_handling_seconds = _mean([h for hs in handling.values() for h in hs])
    _cases(conn, day, fig)
    _ratings(conn, day, fig)
    fig.served_by_window = dict(
        conn.execute(
            select(sessions.c.window, func.count())
            .where(sessions.c.hall_day == day, sessions.c.outcome == SessionOutcome.DONE.value)
            .group_by(sessions.c.window)
            .order_by(sessions.c.window)
        )
        .tuples()
        .all()
    )
    fig.events_logged = int(
        conn.execute(
            select(func.count()).select_from(events).where(events.c.hall_day == day)
        ).scalar_one()
    )
    return fig


def _handling(conn: Connection, day: dt.date) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for r in conn.execute(
        select(sessions.c.service, sessions.c.started_at, sessions.c.ended_at).where(
            sessions.c.hall_day == day, sessions.c.outcome == SessionOutcome.DONE.value
        )
    ):
        out.setdefault(r.service, []).append((r.ended_at - r.started_at).total_seconds())
    return out


def _cases(conn: Connection, day: dt.date, fig: DayFigures) -> None:
    # Cases belong to the day of the visit (the ticket) they were registered in.
    day_tickets = select(tickets.c.id).where(tickets.c.hall_day == day)
    kinds = dict(
        conn.execute(
            select(cases.c.kind, func.count())
            .where(cases.c.ticket_id.in_(day_tickets))
            .group_by(cases.c.kind)
        )
        .tuples()
        .all()
    )
    fig.cases_by_kind = {k: int(v) for k, v in sorted(kinds.items())}
    total = sum(fig.cases_by_kind.values())
    fig.immediate_case_rate = fig.cases_by_kind.get("immediate", 0) / total if total else None


def _ratings(conn: Connection, day: dt.date, fig: DayFigures) -> None:
    rows = conn.execute(
        select(evaluations.c.status, evaluations.c.level, func.count())
        .where(evaluations.c.hall_day == day)
        .group_by(evaluations.c.status, evaluations.c.level)
    ).all()
    levels = {int(r): 0 for r in Rating}
    for status, level, count in rows:
        fig.invitations += int(count)
        if status == EvaluationStatus.RATED.value:
            levels[int(level)] += int(count)
        elif status == EvaluationStatus.NOT_RATED.value:
            fig.not_rated += int(count)
    fig.ratings_by_level = dict(sorted(levels.items(), reverse=True))
    rated = sum(levels.values())
    good = sum(n for lvl, n in levels.items() if not Rating(lvl).is_bad)
    fig.good_rating_rate = good / rated if rated else None
    fig.not_rated_rate = fig.not_rated / fig.invitations if fig.invitations else None
