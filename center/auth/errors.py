"""Refusals of the authentication layer (mapped to 401 and 429 by the API)."""

from __future__ import annotations

from center.errors import HallqError


class Unauthenticated(HallqError):
    """No credential, or one that is unknown, revoked or expired."""

    code = "unauthorized"


class TooManyAttempts(HallqError):
    """Wrong PINs in a row: the next try must wait, or the account is locked for a while."""

    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int, zh: str | None = None) -> None:
        super().__init__(message, zh=zh)
        self.retry_after = retry_after
