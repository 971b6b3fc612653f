"""Typed errors of the queue engine and case database.

Each error says what was refused and why, in words a clerk or an API client can act on.
``code`` is stable and machine-readable (the API maps it to an HTTP status later);
messages never contain personal data.
"""

from __future__ import annotations


class HallqError(Exception):
    """Base of every refusal the center makes on purpose."""

    code = "error"

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh
        """What to show a citizen or clerk, in Chinese, when it differs from a generic notice."""


class NotFound(HallqError):
    """A service, window, staff member, ticket, case or appointment that does not exist."""

    code = "not_found"


class Refused(HallqError):
    """A request that is valid in form but not allowed now (hours, limits, policy)."""

    code = "refused"


class InvalidState(HallqError):
    """An action that does not fit the current state (finishing a ticket not being served)."""

    code = "invalid_state"


class OutsideHours(Refused):
    """Tickets are not issued now (holiday, lunch break, after closing)."""

    code = "outside_hours"


class LimitReached(Refused):
    """A daily maximum or a per-person daily limit is reached."""

    code = "limit_reached"


class Forbidden(HallqError):
    """The actor may not do this (a staff member not posted at the window)."""

    code = "forbidden"
