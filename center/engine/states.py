"""States and kinds stored in the database, as enums."""

from __future__ import annotations

import enum


class TicketState(enum.StrEnum):
    """Where a ticket is. Every ticket is in exactly one of these."""

    WAITING = "waiting"
    CALLED = "called"
    """Called to a window and being served there until finished, skipped or transferred."""
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Lane(enum.StrEnum):
    """Which queue of its service a waiting ticket stands in."""

    DIRECT = "direct"
    """Transferred to one named window: only that window calls it."""
    APPOINTMENT = "appointment"
    PRIORITY = "priority"
    REGULAR = "regular"


class WindowStatus(enum.StrEnum):
    """State of a window."""

    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class SessionOutcome(enum.StrEnum):
    """How a service session at a window ended."""

    DONE = "done"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"


class EvaluationStatus(enum.StrEnum):
    """An invitation to rate a visit."""

    INVITED = "invited"
    RATED = "rated"
    NOT_RATED = "not_rated"


class Rating(enum.IntEnum):
    """The national five levels (国办发〔2019〕51号); the last two are bad ratings (差评)."""

    VERY_SATISFIED = 5
    SATISFIED = 4
    BASICALLY_SATISFIED = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1

    @property
    def label(self) -> str:
        """The Chinese name shown to citizens."""
        return _RATING_LABELS[self]

    @property
    def is_bad(self) -> bool:
        """差评: dissatisfied or very dissatisfied."""
        return self <= Rating.DISSATISFIED


_RATING_LABELS = {
    Rating.VERY_SATISFIED: "非常满意",
    Rating.SATISFIED: "满意",
    Rating.BASICALLY_SATISFIED: "基本满意",
    Rating.DISSATISFIED: "不满意",
    Rating.VERY_DISSATISFIED: "非常不满意",
}


class Channel(enum.StrEnum):
    """Where a rating came from."""

    EVALUATOR = "evaluator"
    QR = "qr"
    SMS = "sms"
    PAPER = "paper"
    PHONE = "phone"
    ONLINE = "online"


class AppointmentStatus(enum.StrEnum):
    """A booked time slot."""

    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"


class CaseStatus(enum.StrEnum):
    """Where a case (办件) is; see docs/cases.md for the transitions."""

    REGISTERED = "registered"
    ACCEPTED = "accepted"
    AWAITING_DOCUMENTS = "awaiting_documents"
    """Accepted with documents to follow (容缺受理) or told to correct (补正): clock waits."""
    REFUSED = "refused"
    RETURNED = "returned"
    APPROVED = "approved"
    COMPLETED = "completed"
    ISSUED = "issued"


class NoticeKind(enum.StrEnum):
    """Documents issued to the applicant."""

    ACCEPTANCE = "acceptance"
    CORRECTION = "correction"
    REFUSAL = "refusal"
    RETURN = "return"
    RECEIPT = "receipt"
    COMPLETION = "completion"


NOTICE_TITLES = {
    NoticeKind.ACCEPTANCE: "受理通知书",
    NoticeKind.CORRECTION: "补正材料通知书",
    NoticeKind.REFUSAL: "不予受理通知书",
    NoticeKind.RETURN: "退回通知书",
    NoticeKind.RECEIPT: "收件凭证",
    NoticeKind.COMPLETION: "办结通知单",
}
