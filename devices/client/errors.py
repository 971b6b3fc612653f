"""What a call to the center can end in, besides a reply."""

from __future__ import annotations

from typing import Any


class CenterError(Exception):
    """Base of the client's errors."""


class CenterUnreachable(CenterError):
    """No reply after every retry: connection refused, timeout, or the center failing (5xx)."""


class CenterRefused(CenterError):
    """The center answered with a 4xx: retrying the same request will not help."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.code = str(body.get("error", "error"))
        self.message = str(body.get("message", f"HTTP {status}"))
        self.zh: str | None = body.get("zh")
        self.fields: list[dict[str, str]] = list(body.get("fields") or [])
        super().__init__(f"{status} {self.code}: {self.message}")


class NotAuthorized(CenterRefused):
    """401 or 403: the device's token is wrong, revoked, or not allowed to do this."""
