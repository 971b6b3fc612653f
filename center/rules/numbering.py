"""Ticket numbers: per-service prefix and a zero-padded daily counter (A001, A002, …)."""

from __future__ import annotations

import re

_DISPLAY = re.compile(r"^([A-Z]{1,2})(\d{2,4})$")


def format_number(prefix: str, number: int, digits: int) -> str:
    """``format_number("A", 12, 3) == "A012"``; refuses numbers that do not fit the width."""
    if number < 1 or number >= 10**digits:
        raise ValueError(f"number {number} does not fit {digits} digits")
    return f"{prefix}{number:0{digits}d}"


def parse_display(display: str) -> tuple[str, int]:
    """Split ``"A012"`` into ``("A", 12)``; raises ValueError for anything else."""
    m = _DISPLAY.match(display.strip().upper())
    if not m:
        raise ValueError(
            f"not a ticket number: {display!r} (expected a prefix and digits, like A012)"
        )
    return m.group(1), int(m.group(2))


def capacity(digits: int, daily_max: int | None) -> int:
    """How many numbers a service can issue in a day."""
    limit = 10**digits - 1
    return min(limit, daily_max) if daily_max else limit
