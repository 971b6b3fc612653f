"""What the hall's LED devices should show, as pure data: no I/O, no threads, no clock.

``HallView`` is an immutable snapshot (windows, latest calls, queue lengths); ``apply`` folds
one center event into it; ``strip_lines``, ``board_lines`` and ``waiting_notice`` turn it into
text. The controller renders after every change and writes only what differs.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from devices.client.stream import StreamEvent

CALL_KINDS = frozenset({"ticket.called", "ticket.recalled"})
ENDED_KINDS = frozenset({"ticket.done", "ticket.no_show", "ticket.transferred"})
IDLE_LINE_COVERING = "A岗外出 B岗代办"
CLOSED_LINE = "暂停服务"


class WindowStatus(enum.Enum):
    """A window as the center reports it."""

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: Any) -> WindowStatus:
        """From the center's status string; UNKNOWN for anything else."""
        try:
            return cls(str(value))
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class WindowView:
    """One window: who is there, whom it serves, why it is not serving."""

    number: int
    name: str = ""
    status: WindowStatus = WindowStatus.UNKNOWN
    current: str | None = None
    """The ticket number being served."""
    service: str | None = None
    """The service code of ``current``."""
    pause_reason: str | None = None
    staff: str | None = None
    covering_for: str | None = None
    """Staff number of the A post a B post stands in for."""


@dataclass(frozen=True)
class Call:
    """One call shown on the hall board."""

    number: str
    window: int


@dataclass(frozen=True)
class HallView:
    """Everything the LED devices show, at one moment."""

    windows: Mapping[int, WindowView] = field(default_factory=dict)
    recent: tuple[Call, ...] = ()
    """Latest calls, newest first, one entry per (number, window)."""
    waiting: tuple[tuple[str, int], ...] = ()
    """(service name, people waiting) per service."""
    keep: int = 10

    def window(self, number: int) -> WindowView:
        """The view of window ``number`` (an unknown window if never seen)."""
        return self.windows.get(number) or WindowView(number)

    def with_window(self, view: WindowView) -> HallView:
        """A copy with ``view`` replacing its window."""
        return replace(self, windows={**self.windows, view.number: view})

    def with_call(self, call: Call) -> HallView:
        """A copy with ``call`` on top of the latest calls (a repeat moves to the top)."""
        rest = tuple(c for c in self.recent if c != call)
        return replace(self, recent=((call, *rest))[: self.keep])


def apply(view: HallView, event: StreamEvent) -> HallView:
    """``view`` after ``event``; events that change nothing shown return ``view`` itself."""
    number = event.window
    if number is None:
        return view
    data = event.data
    w = view.window(number)
    kind = event.kind
    if kind in CALL_KINDS:
        ticket = str(data.get("number", ""))
        w = replace(w, status=WindowStatus.OPEN, current=ticket, service=data.get("service"),
                    pause_reason=None, staff=data.get("staff") or w.staff)  # fmt: skip
        return view.with_window(w).with_call(Call(ticket, number))
    if kind in ENDED_KINDS:
        if w.current is not None and w.current != data.get("number"):
            return view
        return view.with_window(replace(w, current=None, service=None))
    if kind == "window.opened":
        w = WindowView(number, w.name, WindowStatus.OPEN, staff=data.get("staff"))
    elif kind == "window.closed":
        w = WindowView(number, w.name, WindowStatus.CLOSED)
    elif kind == "window.paused":
        w = replace(w, status=WindowStatus.PAUSED, pause_reason=data.get("reason") or None)
    elif kind == "window.resumed":
        w = replace(w, status=WindowStatus.OPEN, pause_reason=None)
    elif kind == "window.handover":
        w = replace(w, staff=data.get("to_staff"), covering_for=data.get("covering_for"))
    else:
        return view
    return view.with_window(w)


def window_from_center(row: Mapping[str, Any], service: str | None) -> WindowView:
    """A window from the center's ``/api/v1/display/windows`` row."""
    return WindowView(
        number=int(row["number"]),
        name=str(row.get("name") or ""),
        status=WindowStatus.of(row.get("status")),
        current=row.get("current"),
        service=service,
        pause_reason=row.get("pause_reason"),
        staff=row.get("staff"),
        covering_for=row.get("covering_for"),
    )


# --- text -------------------------------------------------------------------------------------


def call_line(number: str, window: int) -> str:
    """ "A012 请到3号窗口"."""
    return f"{number} 请到{window}号窗口"


def strip_lines(w: WindowView, service_name: str | None, lines: int = 2) -> list[str]:
    """What window ``w``'s LED strip shows (``lines`` lines; one-line strips get one)."""
    if w.current is not None and w.status is not WindowStatus.CLOSED:
        shown = [call_line(w.current, w.number), service_name or ""]
    elif w.status is WindowStatus.PAUSED:
        shown = [f"{w.number}号窗口", f"暂停: {w.pause_reason}" if w.pause_reason else CLOSED_LINE]
    elif w.status is WindowStatus.OPEN:
        shown = [f"{w.number}号窗口", IDLE_LINE_COVERING if w.covering_for else w.name]
    else:
        shown = [f"{w.number}号窗口", CLOSED_LINE]
    if lines <= 1:
        return [" ".join(s for s in shown if s)]
    return shown[:lines]


def board_lines(recent: Iterable[Call], lines: int) -> list[str]:
    """The hall board: the latest ``lines`` calls, newest first."""
    return [call_line(c.number, c.window) for c in list(recent)[:lines]]


def waiting_notice(waiting: Iterable[tuple[str, int]]) -> str:
    """The board's scrolling line: people waiting per service."""
    parts = [f"{name} {count}人" for name, count in waiting if count > 0]
    return "等候人数: " + "  ".join(parts) if parts else "当前无人等候"
