"""Roles and the authenticated caller of a request."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    """What a caller is; each API audience admits some of these."""

    KIOSK = "kiosk"
    DISPLAY = "display"
    EVALUATOR = "evaluator"
    KEYPAD = "keypad"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


DEVICE_ROLES = frozenset({Role.KIOSK, Role.DISPLAY, Role.EVALUATOR, Role.KEYPAD})
STAFF_ROLES = frozenset({Role.STAFF, Role.SUPERVISOR, Role.ADMIN})
WINDOW_DEVICES = frozenset({Role.EVALUATOR, Role.KEYPAD})
"""Device kinds that belong to exactly one window."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a valid token."""

    role: Role
    name: str
    """Device name, or staff number (工号)."""
    window: int | None
    """The device's window, or the window the staff session is bound to."""
    session_id: int | None = None
    expires_at: dt.datetime | None = None
    """When a staff session ends by itself; devices' tokens do not expire."""

    @property
    def is_device(self) -> bool:
        """A device rather than a person."""
        return self.role in DEVICE_ROLES

    @property
    def key(self) -> str:
        """Stable identity for idempotency keys and event actors: ``device:k1``, ``staff:1001``."""
        return f"{'device' if self.is_device else 'staff'}:{self.name}"
