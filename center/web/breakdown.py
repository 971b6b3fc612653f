"""The day's figures per window, per staff member and per service (绩效考评), beside the hall's
headline figures of ``center.engine.figures.day_figures``.

Definitions, the same for every group:

* served (办件量): service sessions that ended ``done``; no-shows are sessions ended ``no_show``;
* waiting time: from taking the ticket to its first call, counted for the window and staff
  member who made that first call; per service it is the ``day_figures`` value (by the service
  the ticket was taken for);
* handling time: from the call to finishing, over sessions that ended ``done``;
* 即办件比率: 即办件 among the cases registered (cases belong to the day of their visit);
* 好评率: the three upper levels among rated visits; 未评价率: 未评价 among all invitations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, or_, select, true

from center.db.tables import cases, evaluations, sessions, tickets
from center.engine.figures import DayFigures, day_figures
from center.engine.states import EvaluationStatus, Rating, SessionOutcome
from config.schema import HallConfig

IMMEDIATE = "immediate"


@dataclass
class Group:
    """One window's, staff member's or service's day."""

    key: str
    name: str
    served: int = 0
    no_show: int = 0
    transferred: int = 0
    mean_wait_seconds: float | None = None
    mean_handling_seconds: float | None = None
    cases: int = 0
    immediate_cases: int = 0
    invitations: int = 0
    rated: int = 0
    good: int = 0
    bad: int = 0
    not_rated: int = 0
    _waits: list[float] = field(default_factory=list, repr=False)
    _handling: list[float] = field(default_factory=list, repr=False)

    @property
    def immediate_rate(self) -> float | None:
        """即办件比率."""
        return self.immediate_cases / self.cases if self.cases else None

    @property
    def good_rate(self) -> float | None:
        """好评率."""
        return self.good / self.rated if self.rated else None

    @property
    def not_rated_rate(self) -> float | None:
        """未评价率."""
        return self.not_rated / self.invitations if self.invitations else None

    def _close(self) -> None:
        if self._waits:
            self.mean_wait_seconds = sum(self._waits) / len(self._waits)
        if self._handling:
            self.mean_handling_seconds = sum(self._handling) / len(self._handling)


@dataclass
class Breakdown:
    """The day per window, per staff member and per service, with the hall's totals."""

    hall_day: dt.date
    totals: DayFigures | None
    """None when the breakdown was limited to one window and staff member."""
    windows: list[Group]
    staff: list[Group]
    services: list[Group]


class _Groups:
    def __init__(self) -> None:
        self.by_key: dict[str, Group] = {}

    def get(self, key: str | int | None, name: str) -> Group | None:
        if key is None:
            return None
        k = str(key)
        found = self.by_key.get(k)
        if found is None:
            found = self.by_key[k] = Group(k, name)
        return found


def day_breakdown(
    conn: Connection,
    cfg: HallConfig,
    day: dt.date,
    *,
    window: int | None = None,
    staff: str | None = None,
) -> Breakdown:
    """Every group's figures for hall day ``day``.

    With ``window`` (and ``staff``), only that window's and staff member's rows are read and
    returned (what a staff console shows): no services, no hall totals.
    """
    only = window is not None
    win_names = {w.number: w.name for w in cfg.windows}
    staff_names = {s.number: s.name for s in cfg.staff}
    svc_names = {s.code: s.name for s in cfg.services}
    wins, people, svcs = _Groups(), _Groups(), _Groups()
    if only:
        wins.get(window, win_names.get(window or 0, f"{window}号窗口"))
    else:
        for w in cfg.windows:
            wins.get(w.number, w.name)
        for s in cfg.services:
            svcs.get(s.code, s.name)

    def groups(at: int | None, by: str | None, service: str | None) -> list[Group]:
        found = [
            wins.get(at, win_names.get(at or 0, f"{at}号窗口"))
            if not only or at == window
            else None,
            people.get(by, staff_names.get(by or "", by or ""))
            if not only or (by is not None and by == staff)
            else None,
            svcs.get(service, svc_names.get(service or "", service or "")) if not only else None,
        ]
        return [g for g in found if g is not None]

    def mine(table: Any) -> Any:
        """Rows of the window or the staff member when limited, else every row."""
        if not only:
            return true()
        return (
            or_(table.c.window == window, table.c.staff == staff)
            if staff
            else table.c.window == window
        )

    rows = conn.execute(
        select(
            sessions.c.window,
            sessions.c.staff,
            sessions.c.service,
            sessions.c.started_at,
            sessions.c.ended_at,
            sessions.c.outcome,
            tickets.c.issued_at,
            tickets.c.first_called_at,
        )
        .join(tickets, tickets.c.id == sessions.c.ticket_id)
        .where(sessions.c.hall_day == day, mine(sessions))
    ).all()
    for r in rows:
        for g in groups(r.window, r.staff, None):
            if r.started_at == r.first_called_at:
                g._waits.append((r.first_called_at - r.issued_at).total_seconds())
        for g in groups(r.window, r.staff, r.service):
            if r.outcome == SessionOutcome.DONE.value and r.ended_at is not None:
                g.served += 1
                g._handling.append((r.ended_at - r.started_at).total_seconds())
            elif r.outcome == SessionOutcome.NO_SHOW.value:
                g.no_show += 1
            elif r.outcome == SessionOutcome.TRANSFERRED.value:
                g.transferred += 1
    day_tickets = select(tickets.c.id).where(tickets.c.hall_day == day)
    for c in conn.execute(
        select(cases.c.window, cases.c.staff, cases.c.service, cases.c.kind).where(
            cases.c.ticket_id.in_(day_tickets), mine(cases)
        )
    ):
        for g in groups(c.window, c.staff, c.service):
            g.cases += 1
            g.immediate_cases += c.kind == IMMEDIATE
    for e in conn.execute(
        select(
            evaluations.c.window,
            evaluations.c.staff,
            evaluations.c.service,
            evaluations.c.status,
            evaluations.c.level,
        ).where(evaluations.c.hall_day == day, mine(evaluations))
    ):
        for g in groups(e.window, e.staff, e.service):
            g.invitations += 1
            if e.status == EvaluationStatus.RATED.value and e.level is not None:
                g.rated += 1
                if Rating(e.level).is_bad:
                    g.bad += 1
                else:
                    g.good += 1
            elif e.status == EvaluationStatus.NOT_RATED.value:
                g.not_rated += 1
    totals = None if only else day_figures(conn, day, [s.code for s in cfg.services])
    for f in totals.services if totals is not None else []:
        svc = svcs.get(f.code, svc_names.get(f.code, f.code))
        if svc is not None:
            svc.served, svc.no_show = f.served, f.no_show
            svc.mean_wait_seconds = f.mean_wait_seconds
            svc.mean_handling_seconds = f.mean_handling_seconds
    for g in (*wins.by_key.values(), *people.by_key.values()):
        g._close()
    return Breakdown(
        hall_day=day,
        totals=totals,
        windows=sorted(wins.by_key.values(), key=lambda g: int(g.key)),
        staff=sorted(people.by_key.values(), key=lambda g: g.key),
        services=list(svcs.by_key.values()),
    )
