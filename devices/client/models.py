"""Typed replies of the center, as the devices use them (parsed from the JSON)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Ticket:
    """A ticket to print."""

    number: str
    service: str
    service_name: str
    issued_at: dt.datetime
    ahead: int | None
    wait_seconds: float | None
    offline: bool = False
    """Issued from the kiosk's lease while the center was unreachable."""
    rating_path: str | None = None
    """The ticket's status and rating page below the center's address (``/rate/#t=<token>``);
    None when issued offline or by a center that does not send it."""

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Ticket:
        """From the center's ticket reply."""
        rating_path = d.get("rating_path")
        return cls(
            d["number"],
            d["service"],
            d["service_name"],
            dt.datetime.fromisoformat(d["issued_at"]),
            d["ahead"],
            d["wait_seconds"],
            rating_path=rating_path if isinstance(rating_path, str) else None,
        )


@dataclass(frozen=True, slots=True)
class Lease:
    """Numbers ``first``..``last`` the kiosk may issue offline until ``expires_at``."""

    id: int
    service: str
    prefix: str
    digits: int
    hall_day: dt.date
    first: int
    last: int
    expires_at: dt.datetime

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Lease:
        """From the center's lease reply."""
        return cls(
            d["id"],
            d["service"],
            d["prefix"],
            d["digits"],
            _day(d["hall_day"]),
            d["first"],
            d["last"],
            dt.datetime.fromisoformat(d["expires_at"]),
        )


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One service on the kiosk's start screen."""

    code: str
    name: str
    waiting: int
    remaining_today: int
    open_windows: int
    wait_seconds: float | None


@dataclass(frozen=True, slots=True)
class WindowState:
    """One window as a screen shows it."""

    number: int
    name: str
    status: str
    current: str | None
    pause_reason: str | None

    @classmethod
    def parse(cls, d: dict[str, Any]) -> WindowState:
        """From the center's window state."""
        return cls(d["number"], d["name"], d["status"], d["current"], d["pause_reason"])


@dataclass(frozen=True, slots=True)
class HallStatus:
    """The hall at one moment."""

    at: dt.datetime
    open_for_tickets: bool
    notice: str
    services: list[ServiceStatus]
    windows: list[WindowState]

    @classmethod
    def parse(cls, d: dict[str, Any]) -> HallStatus:
        """From the center's status reply."""
        return cls(
            dt.datetime.fromisoformat(d["at"]),
            d["open_for_tickets"],
            d["notice"],
            [
                ServiceStatus(
                    s["code"],
                    s["name"],
                    s["waiting"],
                    s["remaining_today"],
                    s["open_windows"],
                    s["wait_seconds"],
                )
                for s in d["services"]
            ],
            [WindowState.parse(w) for w in d["windows"]],
        )


@dataclass(frozen=True, slots=True)
class DisplayCall:
    """What one window's strip shows."""

    window: int
    window_name: str
    status: str
    number: str | None
    called_at: dt.datetime | None
    pause_reason: str | None

    @classmethod
    def parse(cls, d: dict[str, Any]) -> DisplayCall:
        """From the center's reply."""
        return cls(
            d["window"],
            d["window_name"],
            d["status"],
            d["number"],
            _time(d["called_at"]),
            d["pause_reason"],
        )


@dataclass(frozen=True, slots=True)
class RecentCall:
    """One call on the hall board's history."""

    number: str
    window: int
    window_name: str
    kind: str
    at: dt.datetime

    @classmethod
    def parse(cls, d: dict[str, Any]) -> RecentCall:
        """From the center's reply."""
        return cls(
            d["number"],
            d["window"],
            d["window_name"],
            d["kind"],
            dt.datetime.fromisoformat(d["at"]),
        )
