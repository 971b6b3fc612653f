"""Read models: the hall's live state per service and window, and the day's figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from center.db.tables import tickets, windows
from center.engine.context import Context
from center.engine.states import Lane, TicketState, WindowStatus
from center.rules.estimate import estimate_wait_seconds, mean_handling_seconds
from center.rules.hours import ticket_window_state
from center.rules.numbering import capacity


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """What a kiosk shows for one service."""

    code: str
    name: str
    waiting: int
    issued_today: int
    remaining_today: int
    open_windows: int
    wait_seconds: float | None


@dataclass(frozen=True, slots=True)
class WindowState:
    """What a hall screen shows for one window."""

    number: int
    name: str
    status: WindowStatus
    staff: str | None
    covering_for: str | None
    current: str | None
    pause_reason: str | None


@dataclass(frozen=True, slots=True)
class HallStatus:
    """The hall at one moment."""

    at: dt.datetime
    hall_day: dt.date
    open_for_tickets: bool
    notice: str
    services: list[ServiceStatus]
    windows: list[WindowState]


class StatusReader:
    """Reads the live state of the hall."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def hall(self) -> HallStatus:
        """Queues per service and states per window, read in one consistent snapshot."""
        now, day, _ = self.ctx.now()
        gate = ticket_window_state(now, self.ctx.cfg.hall, self.ctx.cfg.hours, self.ctx.calendar)
        with self.ctx.store.read() as conn:
            waiting: dict[str, int] = dict(
                conn.execute(
                    select(tickets.c.service, func.count())
                    .where(tickets.c.hall_day == day, tickets.c.state == TicketState.WAITING.value)
                    .where(tickets.c.lane != Lane.DIRECT.value)
                    .group_by(tickets.c.service)
                )
                .tuples()
                .all()
            )
            issued: dict[str, int] = dict(
                conn.execute(
                    select(tickets.c.original_service, func.count())
                    .where(tickets.c.hall_day == day)
                    .group_by(tickets.c.original_service)
                )
                .tuples()
                .all()
            )
            win_rows = {r.number: r for r in conn.execute(select(windows)).all()}
            current_ids = [r.current_ticket_id for r in win_rows.values() if r.current_ticket_id]
            shown: dict[int, str] = (
                dict(
                    conn.execute(
                        select(tickets.c.id, tickets.c.display).where(tickets.c.id.in_(current_ids))
                    )
                    .tuples()
                    .all()
                )
                if current_ids
                else {}
            )
        open_numbers = {n for n, r in win_rows.items() if r.status == WindowStatus.OPEN.value}
        services = []
        for svc in self.ctx.cfg.services:
            n_open = sum(
                1 for w in self.ctx.windows_by_service.get(svc.code, []) if w in open_numbers
            )
            ahead = int(waiting.get(svc.code, 0))
            mean = mean_handling_seconds((), svc.expected_minutes)
            taken = int(issued.get(svc.code, 0))
            services.append(
                ServiceStatus(
                    svc.code,
                    svc.name,
                    ahead,
                    taken,
                    max(0, capacity(svc.number_digits, svc.daily_max) - taken),
                    n_open,
                    estimate_wait_seconds(ahead, n_open, mean),
                )
            )
        wins = []
        for w in self.ctx.cfg.windows:
            r = win_rows.get(w.number)
            if r is None:
                wins.append(
                    WindowState(w.number, w.name, WindowStatus.CLOSED, None, None, None, None)
                )
                continue
            wins.append(
                WindowState(
                    w.number,
                    w.name,
                    WindowStatus(r.status),
                    r.staff,
                    r.covering_for,
                    shown.get(r.current_ticket_id),
                    r.pause_reason,
                )
            )
        return HallStatus(now, day, gate.open, gate.message, services, wins)
