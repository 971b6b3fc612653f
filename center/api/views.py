"""Reply bodies, and their construction from the engine's results.

Citizens' names appear only masked (张*三); ID numbers and phones never appear.
"""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from pydantic import BaseModel

from center.engine.calling import CalledTicket
from center.engine.cases import CaseInfo
from center.engine.ratings import Rated
from center.engine.status import HallStatus
from center.engine.tickets import IssuedTicket

T = TypeVar("T")


class Out(BaseModel):
    """Base of reply bodies."""


class OkOut(Out):
    """The action was done."""

    ok: bool = True


class HealthOut(Out):
    """The service is up and its database answers."""

    status: str


class TicketOut(Out):
    """A ticket as the kiosk prints it."""

    id: int
    number: str
    service: str
    service_name: str
    lane: str
    priority_class: str | None
    ahead: int
    """People waiting before this ticket in its service."""
    wait_seconds: float | None
    """Estimated wait; null when no window serving the service is open."""
    issued_at: dt.datetime
    hall_day: dt.date
    rating_path: str | None = None
    """The ticket's status and rating page below the center's public address,
    ``/rate/#t=<token>``: what the ticket's QR code holds (see ``/api/v1/rate``)."""

    @classmethod
    def of(cls, t: IssuedTicket, rating_path: str | None = None) -> TicketOut:
        """From the engine's issued ticket."""
        return cls(
            id=t.id,
            number=t.display,
            service=t.service,
            service_name=t.service_name,
            lane=t.lane.value,
            priority_class=t.priority_class,
            ahead=t.ahead,
            wait_seconds=round(t.wait_seconds, 1) if t.wait_seconds is not None else None,
            issued_at=t.issued_at,
            hall_day=t.hall_day,
            rating_path=rating_path,
        )


class ServiceStatusOut(Out):
    """One service as a kiosk shows it."""

    code: str
    name: str
    waiting: int
    issued_today: int
    remaining_today: int
    open_windows: int
    wait_seconds: float | None


class WindowStateOut(Out):
    """One window as a hall screen shows it."""

    number: int
    name: str
    status: str
    staff: str | None
    covering_for: str | None
    current: str | None
    """The ticket being served."""
    pause_reason: str | None


class HallStatusOut(Out):
    """The hall at one moment."""

    at: dt.datetime
    hall_day: dt.date
    open_for_tickets: bool
    notice: str
    services: list[ServiceStatusOut]
    windows: list[WindowStateOut]

    @classmethod
    def of(cls, h: HallStatus) -> HallStatusOut:
        """From the engine's read model."""
        return cls(
            at=h.at,
            hall_day=h.hall_day,
            open_for_tickets=h.open_for_tickets,
            notice=h.notice,
            services=[
                ServiceStatusOut(
                    code=s.code,
                    name=s.name,
                    waiting=s.waiting,
                    issued_today=s.issued_today,
                    remaining_today=s.remaining_today,
                    open_windows=s.open_windows,
                    wait_seconds=round(s.wait_seconds, 1) if s.wait_seconds is not None else None,
                )
                for s in h.services
            ],
            windows=[
                WindowStateOut(
                    number=w.number,
                    name=w.name,
                    status=w.status.value,
                    staff=w.staff,
                    covering_for=w.covering_for,
                    current=w.current,
                    pause_reason=w.pause_reason,
                )
                for w in h.windows
            ],
        )


class LeaseOut(Out):
    """Numbers ``first``..``last`` a kiosk may issue offline until ``expires_at``."""

    id: int
    service: str
    prefix: str
    digits: int
    hall_day: dt.date
    first: int
    last: int
    expires_at: dt.datetime


class SyncedOut(Out):
    """An offline ticket as recorded."""

    id: int
    number: str
    service: str
    issued_at: dt.datetime
    already: bool
    """Synced by an earlier request already."""


class SyncOut(Out):
    """The recorded offline tickets, in the order sent."""

    tickets: list[SyncedOut]


class SessionOut(Out):
    """A staff session: send ``token`` as ``Authorization: Bearer <token>``."""

    token: str
    staff: str
    name: str
    role: str
    window: int | None
    expires_at: dt.datetime


class MeOut(Out):
    """The caller behind a token."""

    role: str
    name: str
    window: int | None


class CalledOut(Out):
    """A ticket called to a window."""

    ticket_id: int
    number: str
    service: str
    window: int
    staff: str | None
    lane: str
    waited_seconds: float
    recalls: int

    @classmethod
    def of(cls, c: CalledTicket) -> CalledOut:
        """From the engine's called ticket."""
        return cls(
            ticket_id=c.id,
            number=c.display,
            service=c.service,
            window=c.window,
            staff=c.staff,
            lane=c.lane.value,
            waited_seconds=round(c.waited_seconds, 1),
            recalls=c.recalls,
        )


class CallNextOut(Out):
    """The ticket called, or null when nobody waits for this window."""

    called: CalledOut | None


class NumberOut(Out):
    """The ticket an action was taken on."""

    number: str


class FinishOut(Out):
    """A finished visit; its rating invitation is open at the window."""

    ticket_id: int


class InviteOut(Out):
    """The rating invitation opened at the window."""

    evaluation_id: int


class CaseOut(Out):
    """A case after an action."""

    id: int
    case_no: str
    kind: str
    status: str
    due: dt.date | None
    due_provisional: bool
    documents_due: dt.date | None

    @classmethod
    def of(cls, c: CaseInfo) -> CaseOut:
        """From the engine's case info."""
        return cls(
            id=c.id,
            case_no=c.case_no,
            kind=c.kind,
            status=c.status.value,
            due=c.due,
            due_provisional=c.due_provisional,
            documents_due=c.documents_due,
        )


class RatedOut(Out):
    """A recorded rating."""

    evaluation_id: int
    ticket_id: int
    window: int
    level: int
    label: str
    bad: bool
    rectify_by: dt.date | None

    @classmethod
    def of(cls, r: Rated) -> RatedOut:
        """From the engine's rating."""
        return cls(
            evaluation_id=r.evaluation_id,
            ticket_id=r.ticket_id,
            window=r.window,
            level=int(r.level),
            label=r.level.label,
            bad=r.level.is_bad,
            rectify_by=r.rectify_by,
        )


class KeyOut(Out):
    """What a keypad key did."""

    window: int
    key: str
    called: CalledOut | None = None
    """For next, call and recall: the ticket called."""
    number: str | None = None
    """For skip: the ticket marked as a no-show."""


class DisplayCallOut(Out):
    """What one window's strip shows now."""

    window: int
    window_name: str
    status: str
    number: str | None
    """The ticket being served (null when none)."""
    called_at: dt.datetime | None
    pause_reason: str | None


class RecentCallOut(Out):
    """One call, for the hall board's history and the announcements."""

    number: str
    window: int
    window_name: str
    kind: str
    """``call``, ``call_number`` or ``recall``."""
    at: dt.datetime


class Page(Out, Generic[T]):
    """One page of a list: pass ``next_after`` as ``after`` for the next page."""

    items: list[T]
    next_after: int | None
