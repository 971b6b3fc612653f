"""Cross-reference checks of a hall that passed the schema.

The schema checks each value on its own; these checks relate sections to each other
(a window naming a service, a post naming a staff member, two devices sharing an
address). Every problem carries the exact key path of the value to fix; when a second
place is involved (the first of two duplicates) the message names it too.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any

from config.problems import Loc, Problem, Provenance
from config.schema import BusDevice, HallConfig

DEFAULT_FILE = "<config>"
"""File name used in problems when no provenance is given."""

_WINDOW_DEVICES = ("window_strip", "evaluator", "keypad")


class _Report:
    """Collects problems, each located in the file that wrote the key."""

    def __init__(self, provenance: Provenance) -> None:
        self.provenance = provenance
        self.problems: list[Problem] = []

    def add(self, loc: Loc, message: str) -> None:
        self.problems.append(self.provenance.problem(loc, message))

    def ref(self, loc: Loc, seen_from: Loc) -> str:
        return self.provenance.ref(loc, seen_from)

    def duplicates(self, pairs: Iterable[tuple[Hashable, Loc]], what: str) -> None:
        """Report every repeat of a value: ``duplicate window number 5 (first at windows[0])``."""
        for value, loc, first in _repeats(pairs):
            shown = f'"{value}"' if isinstance(value, str) else str(value)
            self.add(loc, f"duplicate {what} {shown} (first at {self.ref(first, loc)})")


def cross_check(
    cfg: HallConfig | Mapping[str, Any], provenance: Provenance | None = None
) -> list[Problem]:
    """All cross-reference problems of a hall that already passed the schema.

    ``cfg`` is a ``HallConfig`` or a mapping that validates as one (a pydantic
    ``ValidationError`` is raised otherwise). ``provenance`` tells which file wrote
    each key; without it every problem names the file ``<config>``.
    """
    hall = cfg if isinstance(cfg, HallConfig) else HallConfig.model_validate(cfg)
    report = _Report(provenance or Provenance(DEFAULT_FILE))
    for check in _CHECKS:
        check(hall, report)
    return report.problems


def _repeats(pairs: Iterable[tuple[Hashable, Loc]]) -> Iterator[tuple[Hashable, Loc, Loc]]:
    first: dict[Hashable, Loc] = {}
    for value, loc in pairs:
        if value in first:
            yield value, loc, first[value]
        else:
            first[value] = loc


def _allowed(names: Iterable[str]) -> str:
    return f"(allowed: {', '.join(names)})"


def _check_hall(hall: HallConfig, report: _Report) -> None:
    name = hall.hall.timezone
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        message = f'unknown time zone "{name}" (expected a name like "Asia/Shanghai")'
        report.add(("hall", "timezone"), message)


def _check_hours(hall: HallConfig, report: _Report) -> None:
    sessions = hall.hours.sessions
    for index, session in enumerate(sessions):
        loc: Loc = ("hours", "sessions", index)
        if session.end <= session.start:
            message = f"must be after start ({session.start:%H:%M}), got {session.end:%H:%M}"
            report.add((*loc, "end"), message)
        if index == 0:
            continue
        before = sessions[index - 1]
        if session.start < before.start:
            message = f"sessions must be in time order: starts before the previous session ({before.start:%H:%M})"
            report.add((*loc, "start"), message)
        elif session.start < before.end:
            message = f"overlaps the previous session, which ends at {before.end:%H:%M}"
            report.add((*loc, "start"), message)
    closed = {day: index for index, day in enumerate(hall.hours.closed_days)}
    for index, day in enumerate(hall.hours.open_days):
        if day in closed:
            loc = ("hours", "open_days", index)
            other = report.ref(("hours", "closed_days", closed[day]), loc)
            report.add(loc, f"{day.isoformat()} is also a closed day ({other})")


def _check_services(hall: HallConfig, report: _Report) -> None:
    services = list(enumerate(hall.services))
    report.duplicates(((s.code, ("services", i, "code")) for i, s in services), "service code")
    prefixes: dict[str, int] = {}
    for index, service in services:
        loc: Loc = ("services", index)
        first = prefixes.setdefault(service.prefix, index)
        if first != index:
            other = report.ref(("services", first, "prefix"), loc)
            message = f'ticket prefix "{service.prefix}" is already used by service "{hall.services[first].code}" ({other})'
            report.add((*loc, "prefix"), message)
        if service.window_class not in hall.window_classes:
            message = (
                f'unknown window class "{service.window_class}" {_allowed(hall.window_classes)}'
            )
            report.add((*loc, "window_class"), message)
        warning, limit = service.daily_warning, service.daily_max
        if warning is not None and limit is not None and warning > limit:
            report.add(
                (*loc, "daily_warning"), f"must not exceed daily_max ({limit}), got {warning}"
            )
        for kind_index, kind in enumerate(service.case_kinds):
            if kind not in hall.case_kinds:
                message = f'unknown case kind "{kind}" {_allowed(hall.case_kinds)}'
                report.add((*loc, "case_kinds", kind_index), message)
    served = {code for window in hall.windows for code in window.services}
    for index, service in services:
        if service.code not in served:
            message = f'no window serves "{service.code}": its tickets could never be called'
            report.add(("services", index), message)


def _check_windows(hall: HallConfig, report: _Report) -> None:
    windows = list(enumerate(hall.windows))
    report.duplicates(((w.number, ("windows", i, "number")) for i, w in windows), "window number")
    for index, window in windows:
        loc: Loc = ("windows", index)
        if window.window_class not in hall.window_classes:
            message = (
                f'unknown window class "{window.window_class}" {_allowed(hall.window_classes)}'
            )
            report.add((*loc, "window_class"), message)
        listed: dict[str, int] = {}
        for position, code in enumerate(window.services):
            here: Loc = (*loc, "services", position)
            if code not in hall.services_by_code:
                report.add(here, f'unknown service "{code}"')
            first = listed.setdefault(code, position)
            if first != position:
                other = report.ref((*loc, "services", first), here)
                report.add(here, f'service "{code}" is listed twice (first at {other})')


def _check_staff(hall: HallConfig, report: _Report) -> None:
    pairs = ((s.number, ("staff", i, "number")) for i, s in enumerate(hall.staff))
    report.duplicates(pairs, "staff number")
    primary: dict[str, int] = {}
    for index, window in enumerate(hall.windows):
        if window.posts is None:
            continue
        loc: Loc = ("windows", index, "posts")
        a = window.posts.a
        if a not in hall.staff_by_number:
            report.add((*loc, "a"), f'unknown staff number "{a}"')
        first = primary.setdefault(a, index)
        if first != index:
            other = hall.windows[first].number
            where = report.ref(("windows", first, "posts", "a"), loc)
            message = f'"{a}" is already the A post of window {other} ({where})'
            report.add((*loc, "a"), message)
        for position, b in enumerate(window.posts.b):
            if b not in hall.staff_by_number:
                report.add((*loc, "b", position), f'unknown staff number "{b}"')
            elif b == a:
                report.add((*loc, "b", position), f'"{b}" is already the A post of this window')


def _check_kiosks(hall: HallConfig, report: _Report) -> None:
    kiosks = list(enumerate(hall.devices.kiosks))
    pairs = ((k.name, ("devices", "kiosks", i, "name")) for i, k in kiosks)
    report.duplicates(pairs, "kiosk name")
    for index, kiosk in kiosks:
        for position, code in enumerate(kiosk.services):
            if code not in hall.services_by_code:
                report.add(
                    ("devices", "kiosks", index, "services", position), f'unknown service "{code}"'
                )


def _check_buses(hall: HallConfig, report: _Report) -> None:
    buses = list(enumerate(hall.devices.buses))
    report.duplicates(((b.name, ("devices", "buses", i, "name")) for i, b in buses), "bus name")
    report.duplicates(((b.port, ("devices", "buses", i, "port")) for i, b in buses), "bus port")
    for index, bus in buses:
        loc: Loc = ("devices", "buses", index, "devices")
        pairs = ((d.address, (*loc, i, "address")) for i, d in enumerate(bus.devices))
        report.duplicates(pairs, "address")
        _check_one_protocol(bus.devices, loc, report)
        for position, device in enumerate(bus.devices):
            if device.kind not in _WINDOW_DEVICES:
                continue
            if device.window is None:
                message = f'missing required key "window" (every {device.kind} belongs to a window)'
                report.add((*loc, position), message)
            elif device.window not in hall.windows_by_number:
                report.add((*loc, position, "window"), f"unknown window {device.window}")


def _check_one_protocol(devices: list[BusDevice], loc: Loc, report: _Report) -> None:
    """One protocol per bus: the field protocols cannot share a line (different framing,
    timing and polling), so a device speaking another one needs a bus of its own."""
    if not devices:
        return
    first = devices[0].protocol
    for position, device in enumerate(devices):
        if device.protocol != first:
            report.add(
                (*loc, position, "protocol"),
                f'"{device.protocol}" on a bus whose first device speaks "{first}": '
                "one protocol per bus, put this device on a bus of its own",
            )


_CHECKS: tuple[Callable[[HallConfig, _Report], None], ...] = (
    _check_hall,
    _check_hours,
    _check_services,
    _check_windows,
    _check_staff,
    _check_kiosks,
    _check_buses,
)
