"""Read queries for displays and supervisors: calls, tickets, cases, evaluations, events.

Lists are paged by key (``after`` = the last id or sequence number seen, ascending), so a
page is an index range scan whatever the table's size, and rows added meanwhile are neither
skipped nor repeated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, select

from center.db.auth_tables import devices
from center.db.tables import calls, cases, evaluations, events, tickets, windows
from center.engine.center import Center
from center.engine.states import WindowStatus
from center.pii import mask_name


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Key-set paging: rows with a key above ``after``, at most ``limit`` of them."""

    after: int | None
    limit: int


def _page(stmt: Select[Any], key: Any, page: PageQuery) -> Select[Any]:
    if page.after is not None:
        stmt = stmt.where(key > page.after)
    return stmt.order_by(key).limit(page.limit)


def next_after(rows: list[dict[str, Any]], key: str, page: PageQuery) -> int | None:
    """The ``after`` of the next page, or None when this one was the last."""
    return int(rows[-1][key]) if len(rows) == page.limit else None


# --- displays -----------------------------------------------------------------------------


def current_calls(center: Center) -> list[dict[str, Any]]:
    """Per configured window: its state and the ticket it serves (and when it was called)."""
    with center.store.read() as conn:
        rows = {r.number: r for r in conn.execute(select(windows)).all()}
        ids = [r.current_ticket_id for r in rows.values() if r.current_ticket_id]
        serving = {
            t.id: t
            for t in conn.execute(
                select(tickets.c.id, tickets.c.display, tickets.c.called_at).where(
                    tickets.c.id.in_(ids)
                )
            ).all()
        }
    out = []
    for w in center.ctx.cfg.windows:
        r = rows.get(w.number)
        t = serving.get(r.current_ticket_id) if r is not None else None
        out.append(
            {
                "window": w.number,
                "window_name": w.name,
                "status": r.status if r is not None else WindowStatus.CLOSED.value,
                "number": t.display if t is not None else None,
                "called_at": t.called_at if t is not None else None,
                "pause_reason": r.pause_reason if r is not None else None,
            }
        )
    return out


def recent_calls(center: Center, limit: int) -> list[dict[str, Any]]:
    """The latest calls and recalls of the hall day, newest first."""
    _, day, _ = center.ctx.now()
    names = {w.number: w.name for w in center.ctx.cfg.windows}
    with center.store.read() as conn:
        rows = conn.execute(
            select(calls.c.kind, calls.c.at, calls.c.window, tickets.c.display)
            .join(tickets, tickets.c.id == calls.c.ticket_id)
            .where(tickets.c.hall_day == day)
            .order_by(calls.c.id.desc())
            .limit(limit)
        ).all()
    return [
        {
            "number": r.display,
            "window": r.window,
            "window_name": names.get(r.window, str(r.window)),
            "kind": r.kind,
            "at": r.at,
        }
        for r in rows
    ]


# --- supervisors --------------------------------------------------------------------------


def list_tickets(
    center: Center, day: dt.date, filters: dict[str, Any], page: PageQuery
) -> list[dict[str, Any]]:
    """Tickets of hall day ``day`` matching ``filters`` (column = value)."""
    stmt = select(tickets).where(tickets.c.hall_day == day)
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(tickets.c[column] == value)
    with center.store.read() as conn:
        rows = conn.execute(_page(stmt, tickets.c.id, page)).all()
        return [_ticket_row(center, conn, r) for r in rows]


def _ticket_row(center: Center, conn: Connection, r: Any) -> dict[str, Any]:
    name = center.ctx.person_name(conn, r.person_id)
    return {
        "id": r.id,
        "number": r.display,
        "hall_day": r.hall_day,
        "service": r.service,
        "original_service": r.original_service,
        "source": r.source,
        "lane": r.lane,
        "priority_class": r.priority_class,
        "state": r.state,
        "window": r.window,
        "staff": r.staff,
        "issued_at": r.issued_at,
        "first_called_at": r.first_called_at,
        "ended_at": r.ended_at,
        "recalls": r.recalls,
        "transfers": r.transfers,
        "person": mask_name(name) if name else None,
    }


def list_cases(
    center: Center, filters: dict[str, Any], overdue_on: dt.date | None, page: PageQuery
) -> list[dict[str, Any]]:
    """Cases matching ``filters``; with ``overdue_on``, only open ones due before that day."""
    stmt = select(cases)
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(cases.c[column] == value)
    if overdue_on is not None:
        stmt = stmt.where(cases.c.due < overdue_on, cases.c.closed_at.is_(None))
    with center.store.read() as conn:
        rows = conn.execute(_page(stmt, cases.c.id, page)).all()
        out = []
        for r in rows:
            name = center.ctx.person_name(conn, r.person_id)
            out.append(
                {
                    "id": r.id,
                    "case_no": r.case_no,
                    "service": r.service,
                    "item": r.item,
                    "kind": r.kind,
                    "status": r.status,
                    "window": r.window,
                    "staff": r.staff,
                    "registered_at": r.registered_at,
                    "due": r.due,
                    "due_provisional": bool(r.due_provisional),
                    "pending_documents": r.pending_documents or [],
                    "closed_at": r.closed_at,
                    "person": mask_name(name) if name else None,
                }
            )
        return out


def list_evaluations(
    center: Center, filters: dict[str, Any], page: PageQuery
) -> list[dict[str, Any]]:
    """Rating invitations and ratings matching ``filters``."""
    stmt = select(evaluations, tickets.c.display).join(
        tickets, tickets.c.id == evaluations.c.ticket_id
    )
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(evaluations.c[column] == value)
    with center.store.read() as conn:
        rows = conn.execute(_page(stmt, evaluations.c.id, page)).all()
    return [
        {
            "id": r.id,
            "ticket_id": r.ticket_id,
            "number": r.display,
            "hall_day": r.hall_day,
            "service": r.service,
            "window": r.window,
            "staff": r.staff,
            "status": r.status,
            "level": r.level,
            "channel": r.channel,
            "invited_at": r.invited_at,
            "rated_at": r.rated_at,
            "followup": r.followup,
            "followup_status": r.followup_status,
        }
        for r in rows
    ]


def list_events(center: Center, filters: dict[str, Any], page: PageQuery) -> list[dict[str, Any]]:
    """The event log (全过程留痕) in commit order, from ``page.after`` on."""
    stmt = select(events)
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(events.c[column] == value)
    with center.store.read() as conn:
        rows = conn.execute(_page(stmt, events.c.seq, page)).all()
    return [
        {
            "seq": r.seq,
            "at": r.at,
            "hall_day": r.hall_day,
            "kind": r.kind,
            "actor": r.actor,
            "ticket_id": r.ticket_id,
            "window": r.window,
            "data": r.data,
        }
        for r in rows
    ]


def list_devices(center: Center) -> list[dict[str, Any]]:
    """Registered devices with their last report and when they were last seen."""
    with center.store.read() as conn:
        rows = conn.execute(select(devices).order_by(devices.c.name)).all()
    return [
        {
            "name": r.name,
            "kind": r.kind,
            "window": r.window,
            "state": r.state,
            "last_seen_at": r.last_seen_at,
            "revoked": r.revoked_at is not None,
        }
        for r in rows
    ]
