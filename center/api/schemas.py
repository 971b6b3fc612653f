"""Request bodies: strict pydantic models (unknown fields, wrong types and out-of-range
values are 422s naming the field).

Every string is bounded and free of control characters (and so of NUL, which PostgreSQL
refuses, and of lone surrogates); every number is bounded; times must carry a zone and lie
in 2000–2100. Personal data (ID number, name, phone) arrives only in these bodies.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

PLAIN = r"^[^\x00-\x1f\x7f]*$"


def _text(max_length: int, min_length: int = 1) -> object:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=PLAIN)


ShortText = Annotated[str, _text(200)]
LongText = Annotated[str, _text(500)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,24}$")]
StaffNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2,16}$")]
Pin = Annotated[str, StringConstraints(pattern=r"^[!-~]{4,64}$")]
TicketNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{1,2}[0-9]{2,4}$")]
WindowNumber = Annotated[int, Field(strict=True, ge=1, le=999)]
DetailKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
DetailValue = (
    Annotated[str, _text(200, 0)]
    | Annotated[int, Field(strict=True, ge=-(2**53), le=2**53)]
    | Annotated[bool, Field(strict=True)]
)
ReportCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,40}$")]


def _in_range(when: dt.datetime) -> dt.datetime:
    # The year is checked before any arithmetic: converting year-9999 times can overflow.
    if not 2000 <= when.year <= 2100:
        raise ValueError("must lie between the years 2000 and 2100")
    return when.astimezone(dt.UTC)


Instant = Annotated[
    dt.datetime,
    Field(description="ISO 8601 with a zone offset, e.g. 2026-11-23T09:00:00+08:00"),
    AfterValidator(_in_range),
]


class Body(BaseModel):
    """Base of every request body: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonIn(Body):
    """A citizen's identity, read from the ID card or typed by staff. Stored encrypted."""

    id_number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9()-]{6,32}$")]
    name: Annotated[str, _text(50)] | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9+ -]{5,20}$")] | None = None

    def __repr__(self) -> str:
        return "PersonIn(<personal data>)"


# --- kiosks -----------------------------------------------------------------------------


class IssueTicketIn(Body):
    """Take a ticket for a service."""

    service: Code
    priority_class: Code | None = None
    """A green-channel class (``elderly``, …) chosen at the kiosk."""
    person: PersonIn | None = None
    """Required by services that need an ID card."""


class CheckInIn(Body):
    """Check in an appointment with the code from its QR code."""

    code: Annotated[
        str,
        StringConstraints(
            max_length=1024,
            pattern=r"^(?:[A-Za-z0-9_-]{8,40}|hallq1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$",
        ),
    ]
    """The signed code ``hallq1.<payload>.<signature>`` (a center with a data key accepts only
    these), or the plain code of a center without one."""


class CheckInPersonIn(Body):
    """Check in today's appointment of the citizen whose ID card was read at the kiosk."""

    person: PersonIn
    """Only ``id_number`` is used to find the appointment; nothing is stored."""


class LeaseIn(Body):
    """Reserve numbers to hand out while the center cannot be reached."""

    service: Code
    count: Annotated[int, Field(strict=True, ge=1, le=50)] = 5


class OfflineTicketIn(Body):
    """A ticket a kiosk issued from its lease, with the time it was taken there."""

    service: Code
    number: Annotated[int, Field(strict=True, ge=1, le=9999)]
    issued_at: Instant
    priority_class: Code | None = None


class SyncIn(Body):
    """Tickets issued offline, oldest first."""

    tickets: Annotated[list[OfflineTicketIn], Field(min_length=1, max_length=100)]


# --- staff ------------------------------------------------------------------------------


class LoginIn(Body):
    """Log in with staff number (工号) and PIN, at a window for window work."""

    staff: StaffNumber
    pin: Pin
    window: WindowNumber | None = None
    """Required for the staff role; supervisors and admins may log in without one."""
    takeover: Annotated[bool, Field(strict=True)] = False
    """Take over a window someone else is logged in at (A/B substitution)."""

    def __repr__(self) -> str:
        return f"LoginIn(staff={self.staff!r}, window={self.window!r})"


class CallNumberIn(Body):
    """Call one ticket by its number (a waiting ticket or a recent no-show)."""

    number: TicketNumber


class TransferIn(Body):
    """Send the current ticket to another service's queue or to one window."""

    to_service: Code | None = None
    to_window: WindowNumber | None = None
    position: Literal["keep", "front"] | None = None
    """Keep the ticket's take time, or put it at the front; the hall's default if omitted."""

    @model_validator(mode="after")
    def _exactly_one(self) -> TransferIn:
        if (self.to_service is None) == (self.to_window is None):
            raise ValueError("give exactly one of to_service or to_window")
        return self


class PauseIn(Body):
    """Pause the window (临时离岗); the reason is shown to waiting citizens."""

    reason: ShortText


class CaseIn(Body):
    """Register a case (办件) for the ticket being served."""

    kind: Code
    item: ShortText | None = None
    person: PersonIn | None = None
    working_days: Annotated[int, Field(strict=True, ge=0, le=365)] | None = None
    materials: Annotated[list[ShortText], Field(max_length=50)] = []
    pending_documents: Annotated[list[ShortText], Field(max_length=50)] = []
    documents_due_days: Annotated[int, Field(strict=True, ge=1, le=60)] = 5
    special_procedure: Annotated[str, _text(40)] | None = None
    reason: LongText | None = None


# --- evaluators, keypads, devices -------------------------------------------------------


class RatingIn(Body):
    """A rating pressed on a window's evaluator: 5 very satisfied … 1 very dissatisfied."""

    level: Annotated[int, Field(strict=True, ge=1, le=5)]


Key = Literal["next", "recall", "skip", "finish", "evaluate", "pause", "resume", "call"]


class KeyIn(Body):
    """A key pressed on a window's caller keypad."""

    key: Key
    number: TicketNumber | None = None
    """For ``call``: the ticket to call."""
    reason: ShortText | None = None
    """For ``pause``: shown on the window's strip (default 临时离岗)."""

    @model_validator(mode="after")
    def _number_for_call(self) -> KeyIn:
        if self.key == "call" and self.number is None:
            raise ValueError("the call key needs a number")
        return self


class DeviceReportIn(Body):
    """A fault or a recovery reported by a device."""

    code: ReportCode
    """What failed: ``printer.paper_out``, ``id_reader.offline``, …"""
    message: ShortText | None = None
    detail: Annotated[dict[DetailKey, DetailValue | None], Field(max_length=20)] = {}
