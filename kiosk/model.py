"""What the kiosk's screens show: immutable snapshots built by ``KioskService`` (no Qt).

Personal data never appears here unmasked, except inside ``Identity.person``, which is
only handed to the center and has a masked ``repr``.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any


class TileState(enum.Enum):
    """Whether a service can be taken now."""

    OPEN = "open"
    CLOSED = "closed"
    """Outside hours (or the hall stopped issuing)."""
    FULL = "full"
    """The day's numbers are all taken."""


@dataclass(frozen=True)
class ServiceTile:
    """One service button on the home screen."""

    code: str
    name: str
    window_class: str
    waiting: int | None
    wait_minutes: int | None
    state: TileState
    note: str
    """Chinese text under the name: why it is closed, "需身份证", "号源紧张"…"""
    id_required: bool = False
    appointments: bool = False

    @property
    def enabled(self) -> bool:
        """True if a ticket can be taken."""
        return self.state is TileState.OPEN

    @property
    def summary(self) -> str:
        """``等候 3 人 · 约 15 分钟`` (or what is known of it)."""
        if self.waiting is None:
            return "等候人数更新中"
        text = f"等候 {self.waiting} 人"
        if self.wait_minutes is not None and self.waiting:
            text += f" · 约 {self.wait_minutes} 分钟"
        return text


@dataclass(frozen=True)
class TileGroup:
    """Services of one window class (通办窗口, 主题窗口…)."""

    code: str
    name: str
    tiles: tuple[ServiceTile, ...]


@dataclass(frozen=True)
class HomeModel:
    """The home screen."""

    hall_name: str
    open_for_tickets: bool
    notice: str
    groups: tuple[TileGroup, ...]
    updated_at: dt.datetime | None
    stale: bool
    """The figures are the last ones known (the center did not answer the last refresh)."""

    def tile(self, code: str) -> ServiceTile | None:
        """The tile of service ``code``."""
        for group in self.groups:
            for tile in group.tiles:
                if tile.code == code:
                    return tile
        return None

    @property
    def tiles(self) -> list[ServiceTile]:
        """Every tile, group by group."""
        return [t for g in self.groups for t in g.tiles]


@dataclass(frozen=True)
class ServiceInfo:
    """The published facts of one service (八公开 / 十公开)."""

    code: str
    name: str
    department: str
    item_type: str
    sections: tuple[tuple[str, str], ...]
    """(title, text) in display order: 办理条件, 申请材料, 办理时限, 收费标准…"""
    id_required: bool
    green_classes: tuple[tuple[str, str], ...]
    """(code, name) of the green-channel classes a citizen may choose here."""


@dataclass(frozen=True)
class Identity:
    """A citizen identified at the kiosk. Only masked text is shown or logged."""

    source: str
    """``idcard`` or ``citizencard``."""
    masked_name: str
    """张*三, or "" when the card gave no name (nothing is printed then)."""
    masked_id: str
    """1101**********002X, or "" for a citizen card known only by its UID."""
    age: int | None
    person: Any = field(default=None, repr=False, compare=False)
    """``devices.client.client.Person`` for the center, or None (card without an ID number)."""

    def __repr__(self) -> str:
        return f"Identity({self.source}, {self.masked_name})"


@dataclass(frozen=True)
class IssuedTicket:
    """A ticket that was issued (exactly once), to print or to show."""

    number: str
    service: str
    service_name: str
    issued_at: dt.datetime
    """Hall local time."""
    ahead: int
    wait_minutes: int | None
    offline: bool
    qr_payload: str
    masked_name: str | None = None
    priority_name: str | None = None
    appointment: bool = False


@dataclass(frozen=True)
class PrintOutcome:
    """What happened to a ticket at the printer."""

    ticket: IssuedTicket
    printed: bool
    fault: str | None
    """Fault code reported to the center when not printed (``printer.paper_out``…)."""
    message: str
    """Chinese text for the screen."""
    lines: tuple[str, ...]
    """The ticket as text lines (shown on screen when it was not printed)."""
    bytes_written: int = 0
