"""Ratings by QR code (扫码评价): the kiosk mints a rating link for the ticket it prints, the
citizen's phone opens ``/rate/#t=<token>`` and rates the visit once (一次一评).

``POST /api/v1/kiosk/tickets/{ticket_id}/rating-link`` is for kiosks. The two ``/api/v1/rate``
endpoints are public: the rating token in the body is the credential, and it grants one thing,
rating that one visit once. The token never travels in a URL the server sees (it is in the
fragment of the page's address) and is never logged (center.web.ratelink).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field, StringConstraints
from sqlalchemy import select

from center.api.deps import Hall, HallDep, require
from center.api.errors import ERROR_RESPONSES, ErrorOut
from center.api.schemas import Body
from center.api.views import Out
from center.auth.roles import Principal, Role
from center.db.tables import tickets
from center.engine.states import Channel
from center.errors import Forbidden, NotFound
from center.web.console import rated_visit
from center.web.ratelink import LINK_DAYS, BadLink, RatingLinks, link_key, page_path

kiosk_router = APIRouter(prefix="/api/v1/kiosk", tags=["kiosk"], responses=ERROR_RESPONSES)
public_router = APIRouter(
    prefix="/api/v1/rate",
    tags=["QR rating"],
    responses={
        status: {"model": ErrorOut, "description": description}
        for status, description in [
            (404, "The link is unknown, forged or expired, or the visit is not finished yet"),
            (409, "The visit has already been rated (一次一评)"),
            (413, "The request body is too large"),
            (422, "The request does not match the schema"),
        ]
    },
)
KioskCaller = Annotated[Principal, Depends(require(Role.KIOSK))]

_links_lock = threading.Lock()


async def links(request: Request) -> RatingLinks:
    """The app's rating-link keeper (built on first use from the hall's keys)."""
    state = request.app.state
    found: RatingLinks | None = getattr(state, "rating_links", None)
    if found is None:
        with _links_lock:
            found = getattr(state, "rating_links", None)
            if found is None:
                hall: Hall = state.hall
                found = RatingLinks(link_key(hall.center.ctx.pii))
                state.rating_links = found
    return found


Links = Annotated[RatingLinks, Depends(links)]
RatingToken = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{20,100}$"),
    Field(description="The token from the rating link's fragment (#t=…)"),
]


class RatingLinkOut(Out):
    """The rating link of a ticket, for its QR code."""

    token: str
    path: str
    """Below the center's public address: ``/rate/#t=<token>``."""
    valid_until: dt.date


class VisitIn(Body):
    """A rating token."""

    token: RatingToken

    def __repr__(self) -> str:
        return "VisitIn(<token>)"


class VisitOut(Out):
    """The visit a rating link is for (nothing personal)."""

    hall: str
    number: str
    service_name: str
    window_name: str | None
    hall_day: dt.date
    status: Literal["waiting", "called", "done", "no_show", "cancelled"]
    """Where the ticket is: waiting, called to a window (and served there), done, missed or
    cancelled."""
    ahead: int | None
    """People waiting before it in its service while it waits (null otherwise)."""
    window: int | None
    """The window it was called to or finished at (null while waiting)."""
    finished: bool
    """The visit was finished at a window: it can be rated."""
    rated: bool
    label: str | None
    """The rating given, once rated."""


class RateIn(Body):
    """A citizen's rating of a visit: 5 非常满意 … 1 非常不满意, with an optional comment."""

    token: RatingToken
    level: Annotated[int, Field(strict=True, ge=1, le=5)]
    comment: (
        Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]
        | None
    ) = None
    """Up to 500 characters; line breaks allowed."""

    def __repr__(self) -> str:
        return f"RateIn(<token>, level={self.level})"


class RateOut(Out):
    """The rating was recorded."""

    level: int
    label: str
    message: str


@kiosk_router.post("/tickets/{ticket_id}/rating-link", response_model=RatingLinkOut)
def rating_link(
    hall: HallDep,
    who: KioskCaller,
    request_links: Links,
    ticket_id: Annotated[int, Path(ge=1, le=2**53)],
) -> RatingLinkOut:
    """The rating link to print as a QR code on a ticket this kiosk issued today."""
    _, day, _ = hall.center.ctx.now()
    with hall.center.store.read() as conn:
        t = conn.execute(
            select(tickets.c.hall_day, tickets.c.source_ref).where(tickets.c.id == ticket_id)
        ).first()
    if t is None or t.hall_day != day:
        raise NotFound(f"no ticket {ticket_id} issued today", zh="未找到该号")
    if t.source_ref != who.name:
        raise Forbidden(
            f"ticket {ticket_id} was not issued by kiosk {who.name}", zh="该号不是本机所取"
        )
    token = request_links.mint(ticket_id, t.hall_day)
    return RatingLinkOut(
        token=token, path=page_path(token), valid_until=t.hall_day + dt.timedelta(days=LINK_DAYS)
    )


def _target(hall: Hall, request_links: RatingLinks, token: str) -> int:
    _, day, _ = hall.center.ctx.now()
    try:
        return request_links.open(token, day).ticket_id
    except BadLink as exc:
        raise NotFound(
            f"rating link refused: {exc}", zh="评价链接无效或已过期，请扫描办事凭条上的二维码"
        ) from None


@public_router.post("/visit", response_model=VisitOut)
def visit(body: VisitIn, hall: HallDep, request_links: Links) -> VisitOut:
    """Public: the ticket a rating link is for: its status (people ahead, the window it was
    called to, finished), and whether it was rated already. Nothing personal."""
    return VisitOut.model_validate(
        rated_visit(hall.center, _target(hall, request_links, body.token))
    )


@public_router.post("", response_model=RateOut)
def rate(body: RateIn, hall: HallDep, request_links: Links) -> RateOut:
    """Public: rate the visit of a rating link, once (a second rating is refused with 409)."""
    ticket_id = _target(hall, request_links, body.token)
    comment = body.comment.strip() if body.comment else None
    rated = hall.center.ratings.rate_ticket(
        ticket_id, body.level, channel=Channel.QR, comment=comment or None
    )
    message = "感谢您的评价！"
    if rated.level.is_bad:
        message += "我们会核实情况并及时整改，整改结果将向您反馈。"
    return RateOut(level=int(rated.level), label=rated.level.label, message=message)


router = APIRouter()
"""Both of this module's routers (included after their routes are defined)."""
router.include_router(kiosk_router)
router.include_router(public_router)
