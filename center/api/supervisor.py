"""Supervisor endpoints (电子监察): the live hall, and tickets, cases, evaluations, devices and
the event log, filtered and paged by key (pass ``next_after`` back as ``after``).

For staff with the supervisor or admin role. Citizens' names appear masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from center.api import queries
from center.api.deps import HallDep, require
from center.api.errors import ERROR_RESPONSES
from center.api.schemas import Code
from center.api.views import HallStatusOut, Out, Page
from center.auth.roles import Principal, Role
from center.engine.states import CaseStatus, EvaluationStatus, Lane, TicketState

router = APIRouter(prefix="/api/v1/supervisor", tags=["supervisor"], responses=ERROR_RESPONSES)
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.ADMIN))]

After = Annotated[int | None, Query(ge=0, le=2**53, description="Key of the last row seen")]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
WindowQ = Annotated[int | None, Query(ge=1, le=999)]
Day = Annotated[dt.date | None, Query(description="Hall day (default: today)")]
CodeQ = Annotated[Code | None, Query()]


class TicketRow(Out):
    """A ticket as supervisors see it."""

    id: int
    number: str
    hall_day: dt.date
    service: str
    original_service: str
    source: str
    lane: str
    priority_class: str | None
    state: str
    window: int | None
    staff: str | None
    issued_at: dt.datetime
    first_called_at: dt.datetime | None
    ended_at: dt.datetime | None
    recalls: int
    transfers: int
    person: str | None
    """Masked name (张*三), when known."""


class CaseRow(Out):
    """A case as supervisors see it."""

    id: int
    case_no: str
    service: str
    item: str
    kind: str
    status: str
    window: int | None
    staff: str | None
    registered_at: dt.datetime
    due: dt.date | None
    due_provisional: bool
    pending_documents: list[str]
    closed_at: dt.datetime | None
    person: str | None


class EvaluationRow(Out):
    """A rating invitation and its outcome."""

    id: int
    ticket_id: int
    number: str
    hall_day: dt.date
    service: str
    window: int
    staff: str | None
    status: str
    level: int | None
    channel: str | None
    invited_at: dt.datetime
    rated_at: dt.datetime | None
    followup: str | None
    followup_status: str | None


class EventRow(Out):
    """One entry of the event log."""

    seq: int
    at: dt.datetime
    hall_day: dt.date
    kind: str
    actor: str
    ticket_id: int | None
    window: int | None
    data: dict[str, Any]


class DeviceRow(Out):
    """A registered device and its health."""

    name: str
    kind: str
    window: int | None
    state: str | None
    last_seen_at: dt.datetime | None
    revoked: bool


@router.get("/hall", response_model=HallStatusOut)
def hall_state(hall: HallDep, _who: Supervisor) -> HallStatusOut:
    """The live hall: queues per service, every window's state."""
    return HallStatusOut.of(hall.center.status.hall())


@router.get("/tickets", response_model=Page[TicketRow])
def tickets(
    hall: HallDep,
    _who: Supervisor,
    day: Day = None,
    service: CodeQ = None,
    state: Annotated[TicketState | None, Query()] = None,
    lane: Annotated[Lane | None, Query()] = None,
    window: WindowQ = None,
    after: After = None,
    limit: Limit = 50,
) -> Page[TicketRow]:
    """Tickets of one hall day, in issue order."""
    page = queries.PageQuery(after, limit)
    filters = {
        "service": service,
        "state": state.value if state else None,
        "lane": lane.value if lane else None,
        "window": window,
    }
    rows = queries.list_tickets(hall.center, day or hall.center.ctx.now()[1], filters, page)
    return Page[TicketRow](
        items=[TicketRow(**r) for r in rows], next_after=queries.next_after(rows, "id", page)
    )


@router.get("/cases", response_model=Page[CaseRow])
def cases(
    hall: HallDep,
    _who: Supervisor,
    status: Annotated[CaseStatus | None, Query()] = None,
    service: CodeQ = None,
    window: WindowQ = None,
    overdue: Annotated[bool, Query(description="Only open cases past their due date")] = False,
    after: After = None,
    limit: Limit = 50,
) -> Page[CaseRow]:
    """Cases in registration order."""
    page = queries.PageQuery(after, limit)
    filters = {"status": status.value if status else None, "service": service, "window": window}
    overdue_on = hall.center.ctx.now()[1] if overdue else None
    rows = queries.list_cases(hall.center, filters, overdue_on, page)
    return Page[CaseRow](
        items=[CaseRow(**r) for r in rows], next_after=queries.next_after(rows, "id", page)
    )


@router.get("/evaluations", response_model=Page[EvaluationRow])
def evaluations(
    hall: HallDep,
    _who: Supervisor,
    status: Annotated[EvaluationStatus | None, Query()] = None,
    level: Annotated[int | None, Query(ge=1, le=5)] = None,
    window: WindowQ = None,
    day: Day = None,
    after: After = None,
    limit: Limit = 50,
) -> Page[EvaluationRow]:
    """Rating invitations and ratings, oldest first."""
    page = queries.PageQuery(after, limit)
    filters = {
        "status": status.value if status else None,
        "level": level,
        "window": window,
        "hall_day": day,
    }
    rows = queries.list_evaluations(hall.center, filters, page)
    return Page[EvaluationRow](
        items=[EvaluationRow(**r) for r in rows], next_after=queries.next_after(rows, "id", page)
    )


@router.get("/events", response_model=Page[EventRow])
def event_log(
    hall: HallDep,
    _who: Supervisor,
    kind: Annotated[
        str | None, Query(pattern=r"^[a-z_]{1,20}\.[a-z_]{1,20}$", description="e.g. ticket.called")
    ] = None,
    window: WindowQ = None,
    ticket_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    after: After = None,
    limit: Limit = 100,
) -> Page[EventRow]:
    """The event log (全过程留痕) in commit order; ``after`` is a sequence number."""
    page = queries.PageQuery(after, limit)
    filters = {"kind": kind, "window": window, "ticket_id": ticket_id}
    rows = queries.list_events(hall.center, filters, page)
    return Page[EventRow](
        items=[EventRow(**r) for r in rows], next_after=queries.next_after(rows, "seq", page)
    )


@router.get("/devices", response_model=list[DeviceRow])
def device_list(hall: HallDep, _who: Supervisor) -> list[DeviceRow]:
    """Every registered device: kind, window, last report, last seen."""
    return [DeviceRow(**r) for r in queries.list_devices(hall.center)]
