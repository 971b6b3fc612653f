"""``hallq config check FILE``: list every problem of a hall file, or summarise the hall.

Exit status 0 when the file is valid (summary on stdout), 1 when it is not (one problem
per line on stderr, ``FILE: KEY: MESSAGE``), 2 on a usage error.
Also runnable as ``python -m config.check FILE``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from config.loader import ConfigError, load
from config.schema import HallConfig

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ROLES = ("staff", "supervisor", "admin")
_DEVICE_KINDS = ("window_strip", "evaluator", "keypad", "hall_board")


def main(argv: list[str] | None = None) -> int:
    """Run the check; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="hallq config check",
        description="Validate a hall configuration file and summarise the hall.",
    )
    parser.add_argument("file", type=Path, help="the hall's TOML file")
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    try:
        hall = load(args.file)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    print("\n".join(summary(hall)))
    return 0


def summary(hall: HallConfig) -> list[str]:
    """A short readable description of a valid hall, one line per section."""
    classes = hall.window_classes
    services = Counter(s.window_class for s in hall.services)
    windows = Counter(w.window_class for w in hall.windows)
    roles: Counter[str] = Counter(s.role for s in hall.staff)
    tidal = sum(w.tidal for w in hall.windows)
    return [
        f"{hall.hall.name} (code {hall.hall.code}, time zone {hall.hall.timezone})",
        f"services: {len(hall.services)} ({_counts(services, classes)})",
        f"windows: {len(hall.windows)} ({_counts(windows, classes)}; tidal {tidal})",
        f"staff: {len(hall.staff)} ({_counts(roles, _ROLES)})",
        f"devices: {_devices(hall)}",
        f"hours: {_hours(hall)}",
    ]


def _counts(counter: Counter[str], order: Iterable[str]) -> str:
    """``通办窗口 general: 4, …`` in the given order; a dict order adds its values as labels."""
    labels = order if isinstance(order, dict) else {}
    parts = []
    for key in [*order, *sorted(set(counter) - set(order))]:
        if counter[key]:
            label = f"{labels[key]} {key}" if key in labels else key
            parts.append(f"{label}: {counter[key]}")
    return ", ".join(parts) or "none"


def _devices(hall: HallConfig) -> str:
    kiosks = hall.devices.kiosks
    buses = hall.devices.buses
    kinds: Counter[str] = Counter(d.kind for bus in buses for d in bus.devices)
    text = (
        f"{len(kiosks)} kiosk{'s' * (len(kiosks) != 1)}, {len(buses)} bus{'es' * (len(buses) != 1)}"
    )
    if kinds:
        text += f" with {sum(kinds.values())} devices ({_counts(kinds, _DEVICE_KINDS)})"
    return text


def _hours(hall: HallConfig) -> str:
    hours = hall.hours
    sessions = ", ".join(f"{s.start:%H:%M}–{s.end:%H:%M}" for s in hours.sessions)
    text = f"{_weekdays(hours.weekdays)} {sessions}; holidays: {hours.holiday_calendar}"
    if hours.last_ticket_minutes:
        text += f"; last ticket {hours.last_ticket_minutes} min before closing"
    return text


def _weekdays(days: Iterable[int]) -> str:
    ordered = sorted(set(days))
    if not ordered:
        return "no weekdays"
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        first, last = _DAY_NAMES[run[0] - 1], _DAY_NAMES[run[-1] - 1]
        parts.append(first if len(run) == 1 else f"{first}–{last}")
    return ", ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
