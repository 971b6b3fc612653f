"""Kiosk endpoints: tickets, appointment check-in (QR code or ID card), number leases.

Only kiosk devices may call these. A kiosk named in the hall config with a list of services
issues only those. Every POST accepts an ``Idempotency-Key``. A ticket's reply carries its
``rating_path`` (``/rate/#t=<token>``), the status and rating page its QR code points to.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from center.api.deps import HallDep, IdempotencyKey, on_hall, require
from center.api.errors import ERROR_RESPONSES
from center.api.idempotency import idempotent
from center.api.rating_links import Links
from center.api.schemas import (
    CheckInIn,
    CheckInPersonIn,
    IssueTicketIn,
    LeaseIn,
    PersonIn,
    SyncIn,
)
from center.api.views import LeaseOut, SyncedOut, SyncOut, TicketOut
from center.auth.roles import Principal, Role
from center.engine.context import PersonInput
from center.engine.leases import OfflineTicket
from center.engine.tickets import IssuedTicket
from center.errors import Forbidden
from center.web.ratelink import RatingLinks, page_path

router = APIRouter(prefix="/api/v1/kiosk", tags=["kiosk"], responses=ERROR_RESPONSES)
KioskCaller = Annotated[Principal, Depends(require(Role.KIOSK))]


def person_input(person: PersonIn | None) -> PersonInput | None:
    """The engine's form of a person given in a request body."""
    if person is None:
        return None
    return PersonInput(person.id_number, person.name, person.phone)


def ticket_out(issued: IssuedTicket, request_links: RatingLinks) -> TicketOut:
    """The reply for a ticket just issued, with the rating link its QR code holds."""
    return TicketOut.of(issued, page_path(request_links.mint(issued.id, issued.hall_day)))


def _check_offered(hall: HallDep, who: Principal, service: str) -> None:
    for kiosk in hall.center.ctx.cfg.devices.kiosks:
        if kiosk.name == who.name and kiosk.services and service not in kiosk.services:
            raise Forbidden(
                f"kiosk {who.name} does not offer service {service}", zh="本机不办理此业务"
            )


def _check_priority_class(hall: HallDep, priority_class: str | None) -> None:
    if priority_class is None:
        return
    spec = hall.center.ctx.cfg.priority.classes.get(priority_class)
    if spec is not None and not spec.kiosk:
        raise Forbidden(
            f"priority class {priority_class} is assigned by staff, not chosen at a kiosk",
            zh="此类优先请到服务台办理",
        )


@router.post("/tickets", response_model=TicketOut, status_code=201)
@on_hall
def issue_ticket(
    body: IssueTicketIn,
    request: Request,
    hall: HallDep,
    who: KioskCaller,
    request_links: Links,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Take a ticket: number, people ahead and estimated wait."""
    _check_offered(hall, who, body.service)
    _check_priority_class(hall, body.priority_class)

    def act() -> TicketOut:
        issued = hall.center.tickets.issue(
            body.service,
            source="kiosk",
            source_ref=who.name,
            priority_class=body.priority_class,
            person=person_input(body.person),
        )
        return ticket_out(issued, request_links)

    return idempotent(hall, who, idempotency_key, request, body, act, 201)


@router.post("/check-in", response_model=TicketOut, status_code=201)
@on_hall
def check_in(
    body: CheckInIn,
    request: Request,
    hall: HallDep,
    who: KioskCaller,
    request_links: Links,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Turn an appointment (its QR code) into a ticket."""

    def act() -> TicketOut:
        issued = hall.center.tickets.check_in(body.code, source_ref=who.name)
        return ticket_out(issued, request_links)

    return idempotent(hall, who, idempotency_key, request, body, act, 201)


@router.post("/check-in/person", response_model=TicketOut, status_code=201)
@on_hall
def check_in_person(
    body: CheckInPersonIn,
    request: Request,
    hall: HallDep,
    who: KioskCaller,
    request_links: Links,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Check in the citizen's booked appointment of today, found by the ID card's number.

    The ID number comes only in the body; the center looks it up by its keyed hash and
    registers no one. 404 when the citizen has no appointment today, 409 when it is
    already checked in. The reply is the same as for the QR code check-in.
    """
    person = PersonInput(body.person.id_number)

    def act() -> TicketOut:
        issued = hall.center.tickets.check_in_person(person, source_ref=who.name)
        return ticket_out(issued, request_links)

    return idempotent(hall, who, idempotency_key, request, body, act, 201)


@router.post("/leases", response_model=LeaseOut, status_code=201)
@on_hall
def take_lease(
    body: LeaseIn,
    request: Request,
    hall: HallDep,
    who: KioskCaller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Reserve numbers of a service that this kiosk may issue while the center is unreachable."""
    _check_offered(hall, who, body.service)

    def act() -> LeaseOut:
        lease = hall.leases.take(who.name, body.service, body.count)
        return LeaseOut(
            id=lease.id,
            service=lease.service,
            prefix=lease.prefix,
            digits=lease.digits,
            hall_day=lease.hall_day,
            first=lease.first,
            last=lease.last,
            expires_at=lease.expires_at,
        )

    return idempotent(hall, who, idempotency_key, request, body, act, 201)


@router.post("/leases/sync", response_model=SyncOut)
@on_hall
def sync_offline_tickets(
    body: SyncIn,
    request: Request,
    hall: HallDep,
    who: KioskCaller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record tickets issued offline from this kiosk's leases (all or none; retries are safe)."""
    items = [
        OfflineTicket(t.service, t.number, t.issued_at, t.priority_class) for t in body.tickets
    ]

    def act() -> SyncOut:
        done = hall.leases.sync(who.name, items)
        return SyncOut(
            tickets=[
                SyncedOut(
                    id=s.id,
                    number=s.display,
                    service=s.service,
                    issued_at=s.issued_at,
                    already=s.already,
                )
                for s in done
            ]
        )

    return idempotent(hall, who, idempotency_key, request, body, act)
