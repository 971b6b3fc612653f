"""What the hall screen shows, as pure data: events and snapshots in, an immutable state out.

``ScreenModel`` folds the center's events (``devices.client.stream.StreamEvent``) and its
read models (``/api/v1/status``, ``/api/v1/display/recent``) into a ``ScreenState``: the
latest calls with the time each flashes until, every window's state, waiting counts and
estimates per service, the notice line and whether the center is reachable.

Rules that make a reconnect safe:

* events are applied in seq order and at most once: a seq at or below the last one applied
  is ignored (a replay after a reconnect may repeat what was already seen);
* every window remembers the seq its state is known at; a snapshot taken when the stream had
  reached seq ``mark`` replaces a window only if no newer event touched it, and an event
  applies to a window only if it is newer than what the window shows;
* a call from the snapshot and the same call from an event are one entry (same number,
  window, kind and time);
* calls of an earlier hall day leave the screen with the first status read of a new day.

No Qt, no I/O, no clock: time is passed in (monotonic seconds) by the caller.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from config.schema import HallConfig
from devices.client.models import HallStatus, RecentCall
from devices.client.stream import StreamEvent

CALLED = "ticket.called"
RECALLED = "ticket.recalled"
ENDED = frozenset({"ticket.done", "ticket.no_show", "ticket.transferred"})
NAME_KEYS = ("masked_name", "name")
"""Event data keys that may carry the citizen's name (shown masked, only if enabled)."""


class WindowMode(enum.Enum):
    """A window as the screen shows it."""

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"
    """Nobody on duty (未在岗)."""
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: object) -> WindowMode:
        """From the center's status string; UNKNOWN for anything else."""
        try:
            return cls(str(value))
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class CallEntry:
    """One call on the screen."""

    number: str
    window: int
    at: dt.datetime | None
    """When the center made the call (hall time)."""
    recall: bool = False
    seq: int | None = None
    """The event's seq; None for a call read from the snapshot."""
    flash_until: float = 0.0
    """Monotonic seconds until which the call flashes (0: it never does)."""
    service: str | None = None
    name: str | None = None
    """The citizen's masked name, when the screen shows names."""

    @property
    def key(self) -> tuple[str, int, bool, dt.datetime | None]:
        """What makes a snapshot row and an event the same call."""
        return (self.number, self.window, self.recall, _utc(self.at))

    def flashing(self, now: float) -> bool:
        """Is the call still in its flashing period at ``now``?"""
        return now < self.flash_until


@dataclass(frozen=True, slots=True)
class WindowTile:
    """One window's tile."""

    number: int
    name: str
    mode: WindowMode = WindowMode.UNKNOWN
    current: str | None = None
    """The ticket served now."""
    pause_reason: str | None = None
    seq: int = 0
    """The seq this state is known at (0: never heard of)."""


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """Waiting count and estimate of one service."""

    code: str
    name: str
    waiting: int | None = None
    """None: not known (not read yet)."""
    open_windows: int = 0
    wait_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The center's read models, fetched after the stream had reached seq ``mark``."""

    mark: int | None
    status: HallStatus
    recent: Sequence[RecentCall] | None = None
    """The latest calls (only fetched when the stream (re)connects)."""


@dataclass(frozen=True, slots=True)
class Link:
    """Whether the screen hears the center, and what to say when it does not."""

    available: bool
    message: str = ""


LINK_DOWN = "中心连接中断，正在重连…"
LINK_UNAUTHORIZED = "显示屏未获授权，请联系管理员"
LINK_STARTING = "正在连接中心…"


@dataclass(frozen=True, slots=True)
class ScreenState:
    """Everything the hall screen shows, at one moment."""

    hall_name: str = ""
    calls: tuple[CallEntry, ...] = ()
    """Latest calls, newest first."""
    windows: tuple[WindowTile, ...] = ()
    """Every window, by number."""
    services: tuple[ServiceLine, ...] = ()
    notice: str = ""
    center_notice: str = ""
    """The center's own notice (e.g. tickets no longer issued today)."""
    center_available: bool = False
    link_message: str = LINK_STARTING
    last_seq: int | None = None
    status_at: dt.datetime | None = None
    """When the waiting figures were read (center time); None: never."""

    @property
    def newest(self) -> CallEntry | None:
        """The latest call, if any."""
        return self.calls[0] if self.calls else None

    def flashing(self, now: float) -> bool:
        """Does the newest call flash at ``now``?"""
        newest = self.newest
        return newest is not None and newest.flashing(now)

    def notice_line(self) -> str:
        """The scrolling line: the hall's notice and the center's, whichever exist."""
        return "　　".join(t for t in (self.center_notice, self.notice) if t)

    def window(self, number: int) -> WindowTile | None:
        """Window ``number``'s tile."""
        return next((w for w in self.windows if w.number == number), None)


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三 (as center.pii.mask_name); an already masked name is kept."""
    name = name.strip()
    if "*" in name:
        return name
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True, slots=True)
class ModelOptions:
    """How the model behaves."""

    keep: int = 10
    """Calls kept (the newest is shown big, the rest in the list)."""
    flash_s: float = 6.0
    """A fresh call flashes this long."""
    show_names: bool = False
    """Show the citizen's masked name with a call, when the center sends one."""


@dataclass
class _Counters:
    applied: int = 0
    ignored: int = 0
    """Events at or below the last seq (repeats of a replay)."""
    gaps: int = 0
    """Times the stream skipped seqs (normal: the screen subscribes to some kinds only)."""


class ScreenModel:
    """Folds events, snapshots and link changes into ``state``; each call returns "changed"."""

    def __init__(
        self,
        hall_name: str,
        windows: Mapping[int, str],
        services: Mapping[str, str],
        *,
        notice: str = "",
        options: ModelOptions | None = None,
        hall_day: Callable[[dt.datetime], dt.date] | None = None,
    ) -> None:
        self.options = options or ModelOptions()
        self.counters = _Counters()
        self.hall_day = hall_day
        """The hall day a time falls in: calls of an earlier day leave the screen."""
        self._state = ScreenState(
            hall_name=hall_name,
            windows=tuple(WindowTile(n, name) for n, name in sorted(windows.items())),
            services=tuple(ServiceLine(code, name) for code, name in services.items()),
            notice=notice,
        )

    @classmethod
    def from_config(
        cls, cfg: HallConfig, *, notice: str = "", options: ModelOptions | None = None
    ) -> ScreenModel:
        """The hall's name, windows, services and day boundary, from its config."""
        windows = {w.number: w.name for w in cfg.windows}
        services = {s.code: s.name for s in cfg.services}
        day = hall_day_of(cfg.hall.timezone, cfg.hall.day_boundary)
        return cls(cfg.hall.name, windows, services, notice=notice, options=options, hall_day=day)

    @property
    def state(self) -> ScreenState:
        """The current snapshot."""
        return self._state

    # --- events -------------------------------------------------------------------------

    def apply(self, event: StreamEvent, now: float) -> bool:
        """Fold one event in (received at monotonic ``now``); False if nothing changed."""
        state = self._state
        last = state.last_seq
        if last is not None and event.seq <= last:
            self.counters.ignored += 1
            return False
        if last is not None and event.seq > last + 1:
            self.counters.gaps += 1
        self.counters.applied += 1
        new = replace(state, last_seq=event.seq)
        if event.kind in (CALLED, RECALLED):
            new = self._called(new, event, now)
        elif event.window is not None:
            new = _window_event(new, event.window, event)
        self._state = new
        return True

    def _called(self, state: ScreenState, event: StreamEvent, now: float) -> ScreenState:
        data = event.data
        number = str(data.get("number") or "")
        window = event.window if event.window is not None else _int(data.get("window"))
        if not number or window is None:
            return state
        entry = CallEntry(
            number=number,
            window=window,
            at=event.at,
            recall=event.kind == RECALLED,
            seq=event.seq,
            flash_until=0.0 if event.stale else now + self.options.flash_s,
            service=_str(data.get("service")),
            name=self._name(data),
        )
        calls = _merge_calls(state.calls, [entry], self.options.keep)
        tile = _tile(state, window)
        if event.seq > tile.seq:
            tile = replace(tile, mode=WindowMode.OPEN, current=number, pause_reason=None,
                           seq=event.seq)  # fmt: skip
            state = _with_tile(state, tile)
        return replace(state, calls=calls)

    def _name(self, data: Mapping[str, object]) -> str | None:
        if not self.options.show_names:
            return None
        for key in NAME_KEYS:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return mask_name(value)
        return None

    # --- snapshots and link -------------------------------------------------------------

    def apply_snapshot(self, snap: Snapshot) -> bool:
        """Take the center's read models in (windows only where no newer event was seen)."""
        state = self._state
        mark = snap.mark if snap.mark is not None else (state.last_seq or 0)
        tiles = {w.number: w for w in state.windows}
        for w in snap.status.windows:
            old = tiles.get(w.number) or WindowTile(w.number, w.name)
            if old.seq > mark:
                continue
            tiles[w.number] = WindowTile(
                w.number,
                old.name or w.name,
                WindowMode.of(w.status),
                w.current,
                w.pause_reason,
                mark,
            )
        new = replace(
            state,
            windows=tuple(tiles[n] for n in sorted(tiles)),
            services=_services(state.services, snap.status),
            center_notice=snap.status.notice or "",
            status_at=snap.status.at,
        )
        if snap.recent is not None:
            rows = [
                CallEntry(r.number, r.window, r.at, recall=r.kind == "recall") for r in snap.recent
            ]
            new = replace(new, calls=_merge_calls(state.calls, rows, self.options.keep))
        if self.hall_day is not None:
            today = self.hall_day(snap.status.at)
            kept = tuple(c for c in new.calls if c.at is None or self.hall_day(c.at) == today)
            new = replace(new, calls=kept)
        if new == state:
            return False
        self._state = new
        return True

    def set_link(self, link: Link) -> bool:
        """The center became reachable or not."""
        state = self._state
        message = "" if link.available else (link.message or LINK_DOWN)
        if state.center_available == link.available and state.link_message == message:
            return False
        self._state = replace(state, center_available=link.available, link_message=message)
        return True

    def set_notice(self, text: str) -> bool:
        """The hall's own notice line."""
        if text == self._state.notice:
            return False
        self._state = replace(self._state, notice=text)
        return True


# --- helpers ------------------------------------------------------------------------------


def hall_day_of(timezone: str, boundary: dt.time) -> Callable[[dt.datetime], dt.date]:
    """``at`` → the hall day it belongs to (a day starts at ``boundary``, local time)."""
    zone = ZoneInfo(timezone)
    shift = dt.timedelta(hours=boundary.hour, minutes=boundary.minute, seconds=boundary.second)

    def hall_day(at: dt.datetime) -> dt.date:
        local = at.astimezone(zone) if at.tzinfo is not None else at.replace(tzinfo=zone)
        return (local - shift).date()

    return hall_day


def _window_event(state: ScreenState, window: int, event: StreamEvent) -> ScreenState:
    tile = _tile(state, window)
    if event.seq <= tile.seq:
        return state
    kind, data = event.kind, event.data
    if kind in ENDED:
        if tile.current is not None and tile.current != data.get("number"):
            return state
        tile = replace(tile, current=None)
    elif kind == "window.opened":
        tile = replace(tile, mode=WindowMode.OPEN, current=None, pause_reason=None)
    elif kind == "window.closed":
        tile = replace(tile, mode=WindowMode.CLOSED, current=None, pause_reason=None)
    elif kind == "window.paused":
        tile = replace(tile, mode=WindowMode.PAUSED, pause_reason=_str(data.get("reason")))
    elif kind == "window.resumed":
        tile = replace(tile, mode=WindowMode.OPEN, pause_reason=None)
    else:
        return state
    return _with_tile(state, replace(tile, seq=event.seq))


def _tile(state: ScreenState, number: int) -> WindowTile:
    return state.window(number) or WindowTile(number, f"{number}号窗口")


def _with_tile(state: ScreenState, tile: WindowTile) -> ScreenState:
    tiles = {w.number: w for w in state.windows}
    tiles[tile.number] = tile
    return replace(state, windows=tuple(tiles[n] for n in sorted(tiles)))


def _merge_calls(
    old: Iterable[CallEntry], new: Iterable[CallEntry], keep: int
) -> tuple[CallEntry, ...]:
    """Old and new calls, one entry per call (an event's wins), newest first."""
    merged: dict[tuple[object, ...], CallEntry] = {}
    for entry in (*old, *new):
        seen = merged.get(entry.key)
        if seen is None or (seen.seq is None and entry.seq is not None):
            merged[entry.key] = entry
    ordered = sorted(merged.values(), key=_newest_first)
    return tuple(ordered[:keep])


def _newest_first(entry: CallEntry) -> tuple[float, int]:
    at = _utc(entry.at)
    stamp = at.timestamp() if at is not None else float("-inf")
    return (-stamp, -(entry.seq or 0))


def _services(old: Sequence[ServiceLine], status: HallStatus) -> tuple[ServiceLine, ...]:
    names = {s.code: s.name for s in old}
    lines = {
        s.code: ServiceLine(
            s.code, names.get(s.code) or s.name, s.waiting, s.open_windows, s.wait_seconds
        )
        for s in status.services
    }
    ordered = [lines.pop(s.code, s) for s in old]
    return (*ordered, *lines.values())


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    if at is None:
        return None
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def wait_text(line: ServiceLine) -> str:
    """The estimate as a citizen reads it."""
    if line.waiting is None:
        return "—"
    if line.waiting == 0:
        return "无需等候"
    if line.open_windows == 0 or line.wait_seconds is None:
        return "暂无窗口"
    minutes = max(1, round(line.wait_seconds / 60))
    return f"约{minutes}分钟"


def window_text(tile: WindowTile) -> str:
    """A window tile's state line."""
    if tile.mode is WindowMode.PAUSED:
        return f"暂停：{tile.pause_reason}" if tile.pause_reason else "暂停服务"
    if tile.mode is WindowMode.CLOSED:
        return "未在岗"
    if tile.mode is WindowMode.OPEN:
        return f"办理中 {tile.current}" if tile.current else "在岗"
    return "—"


def call_text(entry: CallEntry) -> str:
    """ "请 A012 号到 3 号窗口办理"-style line (the big banner)."""
    who = f"（{entry.name}）" if entry.name else ""
    return f"请 {entry.number}{who} 到 {entry.window} 号窗口"
