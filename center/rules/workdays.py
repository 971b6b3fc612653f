"""Working days (工作日) on the State Council's calendar, for case deadlines.

The official schedule of holidays and make-up workdays (调休) comes from the
``chinese-calendar`` package, which only knows the years it was released with
(1.11.0: 2004–2026) and raises ``NotImplementedError`` beyond them. For a year it
does not know, a day counts as a working day when it is Monday to Friday, and
every deadline that counted such a day is *provisional*: it is recomputed (by
calling :meth:`WorkCalendar.add_working_days` again with the stored acceptance
date and number of days) once the package or the hall config learns the year,
which :func:`needs_recompute` tells. See ``docs/calendar.md``.

Nothing here reads the clock or does I/O: callers pass dates.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import chinese_calendar

if TYPE_CHECKING:
    from config.schema import Hours

MIN_YEAR = 2000
"""Earliest year a date passed in may have (the config accepts calendar years 2000–2100)."""
MAX_YEAR = 2100
"""Latest year a date passed in may have."""
MAX_WORKING_DAYS = 1000
"""Longest time limit accepted, about four years: more is a typing error, not a deadline."""

_FALLBACK_WEEKDAYS = frozenset({1, 2, 3, 4, 5})
_PROBE_YEARS = range(1990, MAX_YEAR + 1)


@dataclass(frozen=True)
class Deadline:
    """A due date counted in working days, and whether it may still move."""

    due: dt.date
    provisional: bool
    """True when a day counted lies in a year whose official schedule nobody knows yet."""
    unknown_years: tuple[int, ...] = ()
    """Those years, ascending."""


def _has_holiday_between(first: dt.date, last: dt.date) -> bool:
    """Does the package name a statutory holiday on some day of [first, last]?"""
    day = first
    while day <= last:
        if chinese_calendar.get_holiday_detail(day)[1] is not None:
            return True
        day += dt.timedelta(days=1)
    return False


def _package_knows(year: int) -> bool:
    """Does the installed package know the whole official schedule of ``year``?

    Not raising is not enough: the package accepts every year between its first and
    last one, so a year it only partly knows would pass. The schedule of a year is
    published at once, so finding both the Spring Festival (between 21 January and
    20 February) and National Day of the year means the package has the year.
    """
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return _has_holiday_between(dt.date(year, 1, 21), dt.date(year, 2, 20)) and (
        _has_holiday_between(dt.date(year, 10, 1), dt.date(year, 10, 7))
    )


@functools.cache
def official_years() -> frozenset[int]:
    """Years whose official schedule the installed ``chinese-calendar`` knows (probed once)."""
    return frozenset(year for year in _PROBE_YEARS if _package_knows(year))


@functools.lru_cache(maxsize=8192)
def _official_workday(day: dt.date) -> bool | None:
    """The package's answer for ``day``, or None when it does not know the year."""
    if day.year not in official_years():
        return None
    return bool(chinese_calendar.is_workday(day))


@functools.lru_cache(maxsize=8192)
def _official_holiday(day: dt.date) -> bool:
    """Is ``day`` a named statutory holiday in the package data (weekend days inside one too)?"""
    if day.year not in official_years():
        return False
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    return bool(on_holiday) and name is not None


def _check_date(value: object, what: str) -> dt.date:
    """Refuse datetimes, other types and dates outside MIN_YEAR..MAX_YEAR."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{what} must be a datetime.date, not {type(value).__name__}")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"{what} {value} is outside the years {MIN_YEAR}–{MAX_YEAR}")
    return value


def _check_days(days: object) -> int:
    """Refuse non-integers, negative and absurd numbers of working days."""
    if not isinstance(days, int) or isinstance(days, bool):
        raise TypeError(f"days must be an int, not {type(days).__name__}")
    if not 0 <= days <= MAX_WORKING_DAYS:
        raise ValueError(f"days must be between 0 and {MAX_WORKING_DAYS}, got {days}")
    return days


def _weekday_set(weekdays: Iterable[int]) -> frozenset[int]:
    """ISO weekdays (1 = Monday … 7 = Sunday), checked."""
    result = frozenset(weekdays)
    if not result or not result <= frozenset(range(1, 8)):
        raise ValueError(f"weekdays must be a non-empty set of ISO weekdays 1–7, got {result}")
    return result


class WorkCalendar:
    """Which days are working days, for counting deadlines.

    Precedence for a day: ``closed_days`` (never a working day), then ``open_days``
    (always one), then the official calendar (``official=True``; Monday–Friday for a
    year the package does not know) or ``weekdays`` (``official=False``).
    ``known_years``: years whose schedule the hall entered by hand in closed/open
    days, so deadlines in them are final. Instances are immutable after construction
    apart from an internal cache, and safe to share between threads.
    """

    def __init__(
        self,
        *,
        official: bool = True,
        weekdays: Iterable[int] = (1, 2, 3, 4, 5),
        closed_days: Iterable[dt.date] = (),
        open_days: Iterable[dt.date] = (),
        known_years: Iterable[int] = (),
    ) -> None:
        self.official = official
        self.weekdays = _weekday_set(weekdays)
        self.closed_days = frozenset(closed_days)
        self.open_days = frozenset(open_days)
        self.known_years = frozenset(known_years)
        self._workday_cache: dict[dt.date, bool] = {}

    @classmethod
    def from_hours(cls, hours: Hours) -> WorkCalendar:
        """The calendar a hall's ``[hours]`` config describes."""
        return cls(
            official=hours.holiday_calendar == "cn",
            weekdays=hours.weekdays,
            closed_days=hours.closed_days,
            open_days=hours.open_days,
            known_years=hours.calendar_years,
        )

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(official={self.official}, weekdays={sorted(self.weekdays)}, "
            f"closed_days={len(self.closed_days)}, open_days={len(self.open_days)}, "
            f"known_years={sorted(self.known_years)})"
        )

    def is_workday(self, day: dt.date) -> bool:
        """Is ``day`` a working day (make-up weekend days included)?"""
        cached = self._workday_cache.get(day)
        if cached is None:
            cached = self._compute_workday(day)
            self._workday_cache[day] = cached
        return cached

    def _compute_workday(self, day: dt.date) -> bool:
        if day in self.closed_days:
            return False
        if day in self.open_days:
            return True
        if not self.official:
            return day.isoweekday() in self.weekdays
        official = _official_workday(day)
        if official is None:
            return day.isoweekday() in _FALLBACK_WEEKDAYS
        return official

    def is_known_year(self, year: int) -> bool:
        """Is the working-day schedule of ``year`` final (not a Monday–Friday guess)?"""
        return not self.official or year in self.known_years or year in official_years()

    def is_known(self, day: dt.date) -> bool:
        """Is the working-day schedule of ``day``'s year final?"""
        return self.is_known_year(day.year)

    def is_official_holiday(self, day: dt.date) -> bool:
        """Is ``day`` a holiday: a statutory one in the package data, or a configured closed day?

        Ordinary weekends are not holidays. In a year the package does not know,
        only ``closed_days`` are (a hall enters that year's holidays there); treating
        every weekend as a holiday would shut a Saturday-open hall on all Saturdays.
        """
        if day in self.closed_days:
            return True
        if day in self.open_days or not self.official:
            return False
        return _official_holiday(day)

    def add_working_days(self, start: dt.date, days: int) -> Deadline:
        """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0).

        The acceptance day never counts, whether or not it is a working day.
        """
        day = _check_date(start, "start")
        remaining = _check_days(days)
        unknown: set[int] = set()
        while remaining:
            day += dt.timedelta(days=1)
            if not self.is_known_year(day.year):
                unknown.add(day.year)
            if self.is_workday(day):
                remaining -= 1
        return Deadline(due=day, provisional=bool(unknown), unknown_years=tuple(sorted(unknown)))

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative (−days in (end, start]) when end < start."""
        _check_date(start, "start")
        _check_date(end, "end")
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count


def needs_recompute(deadline: Deadline, calendar: WorkCalendar) -> bool:
    """Has ``calendar`` learnt a year that made ``deadline`` provisional?

    True as soon as any of its unknown years is known: the due date may move even if
    a later year is still unknown. Recompute with ``calendar.add_working_days`` from
    the stored acceptance date and number of days.
    """
    return deadline.provisional and any(calendar.is_known_year(y) for y in deadline.unknown_years)
