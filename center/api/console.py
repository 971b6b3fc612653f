"""Reads of the staff console (center/web/static/staff): the window at a glance, the preview of
a case's deadline and notices, and the notices of a case registered at the window.

For the staff, supervisor and admin roles, at the window their session is bound to (the
actions themselves are in ``center.api.staff``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from center.api.deps import HallDep, require
from center.api.errors import ERROR_RESPONSES
from center.api.schemas import Code
from center.api.views import Out
from center.auth.roles import Principal, Role
from center.db.tables import cases, notices
from center.errors import InvalidState, NotFound
from center.web.console import case_preview, console_state

router = APIRouter(prefix="/api/v1/staff", tags=["staff console"], responses=ERROR_RESPONSES)
StaffCaller = Annotated[Principal, Depends(require(Role.STAFF, Role.SUPERVISOR, Role.ADMIN))]


class ConsoleWindowOut(Out):
    """The window and who is on duty."""

    number: int
    name: str
    status: str
    since: dt.datetime | None
    pause_reason: str | None
    staff: str | None
    staff_name: str | None
    covering_for: str | None


class ConsoleServiceOut(Out):
    """A service the window serves."""

    code: str
    name: str
    prefix: str
    promised_days: int | None
    case_kinds: list[str]
    """Case kinds this service registers."""


class NamedServiceOut(Out):
    """A service to transfer to."""

    code: str
    name: str


class NamedWindowOut(Out):
    """A window to transfer to."""

    number: int
    name: str


class CaseKindOut(Out):
    """A case kind and the hall's name for it."""

    code: str
    name: str


class ConsoleEvaluationOut(Out):
    """A rating invitation and its outcome."""

    ticket_id: int
    number: str
    status: str
    level: int | None
    label: str | None
    bad: bool
    channel: str | None
    invited_at: dt.datetime
    expires_at: dt.datetime
    rated_at: dt.datetime | None


class ConsoleCaseOut(Out):
    """The case registered for the ticket being served."""

    case_no: str
    kind: str
    kind_name: str
    status: str
    due: dt.date | None
    due_provisional: bool


class ConsoleCurrentOut(Out):
    """The ticket being served."""

    ticket_id: int
    number: str
    service: str
    service_name: str
    lane: str
    priority_class: str | None
    priority_name: str | None
    called_at: dt.datetime | None
    serving_seconds: float | None
    waited_seconds: float | None
    recalls: int
    transfers: int
    person: str | None
    """Masked name (张*三), when known."""
    case: ConsoleCaseOut | None
    evaluation: ConsoleEvaluationOut | None


class QueueItemOut(Out):
    """A ticket the window may call."""

    number: str
    service: str
    service_name: str
    lane: str
    priority_class: str | None
    priority_name: str | None
    waited_seconds: float


class RecentVisitOut(Out):
    """A visit the window ended today."""

    number: str
    service_name: str
    outcome: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    handling_seconds: float | None
    level: int | None
    label: str | None


class FiguresOut(Out):
    """One window's or staff member's day."""

    served: int
    no_show: int
    transferred: int
    mean_wait_seconds: float | None
    mean_handling_seconds: float | None
    cases: int
    immediate_rate: float | None
    """即办件比率"""
    rated: int
    good_rate: float | None
    """好评率"""
    not_rated: int
    not_rated_rate: float | None
    """未评价率"""


class ConsoleFiguresOut(Out):
    """Today's figures of the window and of the staff member on duty."""

    window: FiguresOut
    staff: FiguresOut | None


class ConsoleOut(Out):
    """Everything the staff console shows for its window."""

    at: dt.datetime
    hall_day: dt.date
    window: ConsoleWindowOut
    services: list[ConsoleServiceOut]
    transfer_services: list[NamedServiceOut]
    transfer_windows: list[NamedWindowOut]
    case_kinds: list[CaseKindOut]
    current: ConsoleCurrentOut | None
    queue: list[QueueItemOut]
    """At most 50, roughly in calling order (direct and appointments first)."""
    queue_total: int
    recent: list[RecentVisitOut]
    last_rating: ConsoleEvaluationOut | None
    figures: ConsoleFiguresOut


class CasePreviewOut(Out):
    """What registering a case of this kind now would do."""

    kind: str
    kind_name: str
    behaviour: str
    """``immediate``, ``promised``, ``returned`` or ``awaiting``."""
    working_days: int | None
    due: dt.date | None
    """The deadline on working days (the acceptance day does not count)."""
    due_provisional: bool
    notices: list[str]
    needs_reason: bool
    needs_documents: bool


class NoticeOut(Out):
    """A notice issued for a case (受理通知书, 补正材料通知书, …)."""

    kind: str
    title: str
    issued_at: dt.datetime
    content: dict[str, Any]


def _window(who: Principal) -> int:
    if who.window is None:
        raise InvalidState(
            "this session is not bound to a window: log in at one", zh="请先在窗口登录"
        )
    return who.window


@router.get("/console", response_model=ConsoleOut)
def console(hall: HallDep, who: StaffCaller) -> ConsoleOut:
    """The session's window: who is on duty, the ticket served, the queue, today's visits,
    the last rating and the window's and staff member's figures for today."""
    return ConsoleOut.model_validate(console_state(hall.center, _window(who)))


@router.get("/case-preview", response_model=CasePreviewOut)
def preview_case(
    hall: HallDep,
    who: StaffCaller,
    kind: Annotated[Code, Query(description="Case kind code (promised, immediate, …)")],
    working_days: Annotated[int | None, Query(ge=0, le=365)] = None,
    pending_documents: Annotated[
        bool, Query(description="Accepted with documents to follow (容缺受理)")
    ] = False,
) -> CasePreviewOut:
    """The deadline and notices of a case registered now for the ticket being served."""
    p = case_preview(hall.center, _window(who), kind, working_days, pending_documents)
    return CasePreviewOut(
        kind=p.kind,
        kind_name=p.kind_name,
        behaviour=p.behaviour,
        working_days=p.working_days,
        due=p.due,
        due_provisional=p.due_provisional,
        notices=p.notices,
        needs_reason=p.needs_reason,
        needs_documents=p.needs_documents,
    )


@router.get("/cases/{case_no}/notices", response_model=list[NoticeOut])
def case_notices(
    hall: HallDep,
    who: StaffCaller,
    case_no: Annotated[str, Path(pattern=r"^[0-9]{8,24}$", description="The case number")],
) -> list[NoticeOut]:
    """The notices issued for a case registered at the session's window, oldest first."""
    window = _window(who)
    with hall.center.store.read() as conn:
        case = conn.execute(
            select(cases.c.id, cases.c.window).where(cases.c.case_no == case_no)
        ).first()
        if case is None or case.window != window:
            raise NotFound(f"no case {case_no} registered at window {window}", zh="未找到该办件")
        rows = conn.execute(
            select(notices).where(notices.c.case_id == case.id).order_by(notices.c.id)
        ).all()
    return [
        NoticeOut(
            kind=r.kind,
            title=str(r.content.get("title", r.kind)),
            issued_at=r.issued_at,
            content=r.content,
        )
        for r in rows
    ]
