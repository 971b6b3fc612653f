"""Working days and deadlines on the official calendar.

Every expected date is a literal, worked out by hand from the State Council's
holiday notices (as shipped in chinese-calendar 1.11.0), never by the code under test.
"""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from center.rules.workdays import (
    MAX_WORKING_DAYS,
    Deadline,
    WorkCalendar,
    needs_recompute,
    official_years,
)
from config.schema import Hours

CN = WorkCalendar()


# --- the package facts the rest relies on -------------------------------------------------


def test_package_knows_2004_to_2026_and_not_2027() -> None:
    """hardware-notes: chinese-calendar 1.11.0 knows 2004–2026 only.

    If this fails after upgrading the package, the 2027 tests below need a later year.
    """
    years = official_years()
    assert set(range(2004, 2027)) <= years
    assert 2027 not in years
    assert 2003 not in years


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 2, 4),  # Sun, Spring Festival 2024
        date(2024, 2, 18),  # Sun, Spring Festival 2024
        date(2024, 4, 7),  # Sun, Qingming 2024
        date(2024, 4, 28),  # Sun, Labour Day 2024
        date(2024, 5, 11),  # Sat, Labour Day 2024
        date(2024, 9, 14),  # Sat, Mid-Autumn 2024
        date(2024, 9, 29),  # Sun, National Day 2024
        date(2024, 10, 12),  # Sat, National Day 2024
        date(2025, 1, 26),  # Sun, Spring Festival 2025
        date(2025, 2, 8),  # Sat, Spring Festival 2025
        date(2025, 4, 27),  # Sun, Labour Day 2025
        date(2025, 9, 28),  # Sun, National Day 2025
        date(2025, 10, 11),  # Sat, National Day 2025
        date(2026, 1, 4),  # Sun, New Year 2026
        date(2026, 2, 14),  # Sat, Spring Festival 2026
        date(2026, 2, 28),  # Sat, Spring Festival 2026
    ],
)
def test_make_up_weekend_days_are_working_days(day: date) -> None:
    assert day.isoweekday() in (6, 7)
    assert CN.is_workday(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 1, 1),  # New Year 2024, Mon
        date(2024, 2, 12),  # Spring Festival 2024, Mon
        date(2024, 2, 16),  # Spring Festival 2024, Fri
        date(2024, 4, 4),  # Qingming 2024, Thu
        date(2024, 5, 3),  # Labour Day 2024, Fri
        date(2024, 6, 10),  # Dragon Boat 2024, Mon
        date(2024, 9, 16),  # Mid-Autumn 2024, Mon
        date(2024, 10, 7),  # National Day 2024, Mon
        date(2025, 1, 28),  # Spring Festival 2025 (除夕), Tue
        date(2025, 2, 4),  # Spring Festival 2025, Tue
        date(2025, 4, 4),  # Qingming 2025, Fri
        date(2025, 5, 5),  # Labour Day 2025, Mon
        date(2025, 6, 2),  # Dragon Boat 2025, Mon
        date(2025, 10, 6),  # Mid-Autumn 2025, Mon
        date(2025, 10, 8),  # National Day 2025, Wed
        date(2026, 1, 2),  # New Year 2026, Fri
        date(2026, 2, 23),  # Spring Festival 2026, Mon
    ],
)
def test_weekday_holidays_are_not_working_days(day: date) -> None:
    assert day.isoweekday() <= 5
    assert not CN.is_workday(day)


def test_ordinary_days() -> None:
    assert CN.is_workday(date(2024, 2, 9))  # 除夕 2024 was officially a working Friday
    assert not CN.is_workday(date(2025, 10, 18))  # plain Saturday
    assert not CN.is_workday(date(2025, 10, 12))  # Sunday right after a make-up Saturday


# --- deadlines ---------------------------------------------------------------------------


def test_promised_case_over_national_day_2025() -> None:
    """承诺件 of 5 working days accepted Mon 2025-09-29.

    Day 1 is Tue 09-30; 10-01..10-08 are off (National Day merged with Mid-Autumn
    on 10-06); days 2–3 are Thu 10-09 and Fri 10-10; day 4 is Sat 10-11, a make-up
    workday; Sun 10-12 is off; day 5 is Mon 10-13.
    """
    assert CN.add_working_days(date(2025, 9, 29), 5) == Deadline(date(2025, 10, 13), False, ())


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Spring Festival 2024: 02-10..02-17 off, Sun 02-04 and Sun 02-18 worked
        (date(2024, 2, 2), 1, date(2024, 2, 4)),
        (date(2024, 2, 8), 2, date(2024, 2, 18)),
        (date(2024, 2, 8), 3, date(2024, 2, 19)),
        # Qingming 2024: 04-04..04-06 off, Sun 04-07 worked
        (date(2024, 4, 3), 1, date(2024, 4, 7)),
        (date(2024, 4, 3), 2, date(2024, 4, 8)),
        # Labour Day 2024: 05-01..05-05 off, Sun 04-28 and Sat 05-11 worked
        (date(2024, 4, 26), 1, date(2024, 4, 28)),
        (date(2024, 4, 26), 4, date(2024, 5, 6)),
        (date(2024, 4, 26), 9, date(2024, 5, 11)),
        # Dragon Boat 2024: Mon 06-10 off
        (date(2024, 6, 7), 1, date(2024, 6, 11)),
        # Mid-Autumn 2024: 09-15..09-17 off, Sat 09-14 worked
        (date(2024, 9, 13), 1, date(2024, 9, 14)),
        (date(2024, 9, 13), 2, date(2024, 9, 18)),
        # National Day 2024: 10-01..10-07 off, Sun 09-29 and Sat 10-12 worked
        (date(2024, 9, 27), 1, date(2024, 9, 29)),
        (date(2024, 9, 27), 3, date(2024, 10, 8)),
        (date(2024, 9, 27), 7, date(2024, 10, 12)),
        # Spring Festival 2025: 01-28..02-04 off, Sun 01-26 and Sat 02-08 worked
        (date(2025, 1, 24), 1, date(2025, 1, 26)),
        (date(2025, 1, 24), 3, date(2025, 2, 5)),
        (date(2025, 1, 24), 6, date(2025, 2, 8)),
        # Qingming 2025: 04-04..04-06 off
        (date(2025, 4, 3), 1, date(2025, 4, 7)),
        # Labour Day 2025: 05-01..05-05 off, Sun 04-27 worked
        (date(2025, 4, 25), 1, date(2025, 4, 27)),
        (date(2025, 4, 25), 5, date(2025, 5, 6)),
        # Dragon Boat 2025: 05-31..06-02 off
        (date(2025, 5, 30), 1, date(2025, 6, 3)),
        # National Day 2025: Sun 09-28 worked
        (date(2025, 9, 26), 1, date(2025, 9, 28)),
        # accepted on a holiday: the count starts after it
        (date(2025, 10, 1), 1, date(2025, 10, 9)),
        # New Year 2026: 01-01..01-03 off, Sun 01-04 worked
        (date(2025, 12, 31), 1, date(2026, 1, 4)),
        (date(2025, 12, 31), 2, date(2026, 1, 5)),
        # Spring Festival 2026: 02-15..02-23 off, Sat 02-14 and Sat 02-28 worked
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        (date(2026, 2, 13), 6, date(2026, 2, 28)),
    ],
)
def test_deadlines_around_holidays(start: date, days: int, due: date) -> None:
    deadline = CN.add_working_days(start, days)
    assert deadline == Deadline(due, False, ())
    assert CN.working_days_between(start, due) == days


@pytest.mark.parametrize("start", [date(2025, 10, 1), date(2025, 10, 9), date(2027, 5, 1)])
def test_zero_days_is_the_acceptance_day(start: date) -> None:
    """A same-day case (即办件) is due the day it is accepted, holiday or unknown year alike."""
    assert CN.add_working_days(start, 0) == Deadline(start, False, ())


def test_permit_running_into_unknown_2027_is_provisional() -> None:
    """54 working days from Fri 2026-11-20, counted by hand.

    2026 (known, no holidays left after 11-20): 11-23..12-31 give 29 working days
    (five full weeks = 25, then Mon–Thu 12-28..12-31 = 29). 2027 is unknown, so
    Monday–Friday: Fri 01-01 is day 30 (New Year is not known to be off), four full
    weeks 01-04..01-29 make day 50, and Mon 02-01..Thu 02-04 are days 51–54.
    """
    deadline = CN.add_working_days(date(2026, 11, 20), 54)
    assert deadline == Deadline(date(2027, 2, 4), True, (2027,))


def test_deadline_inside_unknown_years_never_raises() -> None:
    """Mon 2027-12-27 + 5 Monday–Friday days: 12-28..12-31 (4), Mon 2028-01-03 (5)."""
    deadline = CN.add_working_days(date(2027, 12, 27), 5)
    assert deadline == Deadline(date(2028, 1, 3), True, (2027, 2028))
    assert CN.add_working_days(date(2030, 6, 3), 365).provisional


def test_hall_enters_2027_schedule_and_deadline_becomes_final() -> None:
    """Same permit; the hall closes 2027-01-01 and 2027-02-04 and declares 2027 known.

    Without 01-01 the 29 days of 2026 are followed by 01-04..01-29 (day 49),
    02-01..02-03 (days 50–52), 02-04 closed, Fri 02-05 (53), Mon 02-08 (54).
    """
    closed = [date(2027, 1, 1), date(2027, 2, 4)]
    final = WorkCalendar(closed_days=closed, known_years=[2027])
    assert final.add_working_days(date(2026, 11, 20), 54) == Deadline(date(2027, 2, 8), False, ())
    guessed = WorkCalendar(closed_days=closed)
    assert guessed.add_working_days(date(2026, 11, 20), 54) == Deadline(
        date(2027, 2, 8), True, (2027,)
    )


def test_make_up_day_entered_for_2027_brings_the_deadline_forward() -> None:
    """Sat 2027-01-09 worked: day 30 is 01-01, 01-04..01-08 → 35, 01-09 → 36,
    three weeks 01-11..01-29 → 51, Mon 02-01 → 52, Tue → 53, Wed 02-03 → 54."""
    calendar = WorkCalendar(open_days=[date(2027, 1, 9)], known_years=[2027])
    assert calendar.add_working_days(date(2026, 11, 20), 54) == Deadline(date(2027, 2, 3), False)


def test_needs_recompute() -> None:
    provisional = CN.add_working_days(date(2026, 11, 20), 54)
    assert not needs_recompute(provisional, CN)
    assert needs_recompute(provisional, WorkCalendar(known_years=[2027]))
    final = CN.add_working_days(date(2025, 9, 29), 5)
    assert not needs_recompute(final, WorkCalendar(known_years=[2025, 2027]))


def test_needs_recompute_when_one_of_two_unknown_years_is_learnt() -> None:
    deadline = CN.add_working_days(date(2027, 12, 27), 5)
    learnt_2027 = WorkCalendar(known_years=[2027])
    assert needs_recompute(deadline, learnt_2027)
    assert learnt_2027.add_working_days(date(2027, 12, 27), 5) == Deadline(
        date(2028, 1, 3), True, (2028,)
    )


# --- configuration and modes ------------------------------------------------------------


def test_closed_days_win_over_open_days_and_official_calendar() -> None:
    calendar = WorkCalendar(
        closed_days=[date(2025, 10, 9), date(2025, 10, 18)],
        open_days=[date(2025, 10, 18), date(2025, 10, 19), date(2025, 10, 1)],
    )
    assert not calendar.is_workday(date(2025, 10, 9))  # official workday, closed by config
    assert not calendar.is_workday(date(2025, 10, 18))  # both lists: closed wins
    assert calendar.is_workday(date(2025, 10, 19))  # Sunday opened by config
    assert calendar.is_workday(date(2025, 10, 1))  # National Day opened by config


def test_unofficial_calendar_uses_weekdays_and_is_never_provisional() -> None:
    """Mon–Sat hall ignoring holidays: from Mon 2025-09-29, 6 days are
    09-30, 10-01, 10-02, 10-03, 10-04 (Sat), 10-06 (Mon)."""
    calendar = WorkCalendar(official=False, weekdays=[1, 2, 3, 4, 5, 6])
    assert calendar.add_working_days(date(2025, 9, 29), 6) == Deadline(date(2025, 10, 6), False)
    assert not calendar.is_workday(date(2025, 10, 12))  # Sunday
    assert calendar.add_working_days(date(2026, 11, 20), 54).provisional is False
    assert calendar.is_known(date(2031, 1, 1))


def test_is_known() -> None:
    assert CN.is_known(date(2026, 12, 31))
    assert not CN.is_known(date(2027, 1, 1))
    assert WorkCalendar(known_years=[2027]).is_known(date(2027, 1, 1))
    assert not WorkCalendar(known_years=[2027]).is_known(date(2028, 1, 1))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 10, 4), True),  # Saturday inside National Day
        (date(2025, 10, 6), True),  # Mid-Autumn, Monday
        (date(2025, 10, 11), False),  # make-up Saturday
        (date(2025, 10, 18), False),  # plain Saturday
        (date(2025, 10, 9), False),  # plain Thursday
        (date(2027, 10, 1), False),  # unknown year: no holiday known
        (date(2027, 10, 2), False),  # unknown year: weekends are not holidays
    ],
)
def test_is_official_holiday(day: date, expected: bool) -> None:
    assert CN.is_official_holiday(day) is expected


def test_closed_days_count_as_holidays() -> None:
    calendar = WorkCalendar(closed_days=[date(2027, 10, 2)])
    assert calendar.is_official_holiday(date(2027, 10, 2))
    assert not WorkCalendar(open_days=[date(2025, 10, 4)]).is_official_holiday(date(2025, 10, 4))
    assert not WorkCalendar(official=False).is_official_holiday(date(2025, 10, 1))


def test_from_hours() -> None:
    hours = Hours(
        closed_days=[date(2027, 1, 1)],
        open_days=[date(2027, 1, 9)],
        calendar_years=[2027],
    )
    calendar = WorkCalendar.from_hours(hours)
    assert calendar.official
    assert not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_workday(date(2027, 1, 9))
    assert calendar.is_known(date(2027, 6, 1))
    plain = WorkCalendar.from_hours(Hours(holiday_calendar="none", weekdays=[1, 2, 3]))
    assert not plain.official
    assert plain.is_workday(date(2025, 10, 1))  # Wednesday, holiday ignored
    assert not plain.is_workday(date(2025, 10, 2))  # Thursday, not a hall weekday


def test_working_days_between_literals() -> None:
    assert CN.working_days_between(date(2025, 9, 29), date(2025, 10, 13)) == 5
    assert CN.working_days_between(date(2025, 10, 13), date(2025, 9, 29)) == -5
    assert CN.working_days_between(date(2025, 10, 1), date(2025, 10, 1)) == 0
    assert CN.working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == 0


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("days", [-1, -365, MAX_WORKING_DAYS + 1, 10**9])
def test_bad_day_counts_raise_value_error(days: int) -> None:
    with pytest.raises(ValueError):
        CN.add_working_days(date(2025, 1, 2), days)


@pytest.mark.parametrize("start", [date(1, 1, 1), date(1999, 12, 31), date(2101, 1, 1), date.max])
def test_absurd_dates_raise_value_error(start: date) -> None:
    with pytest.raises(ValueError):
        CN.add_working_days(start, 5)
    with pytest.raises(ValueError):
        CN.working_days_between(date(2025, 1, 2), start)


@pytest.mark.parametrize(
    ("start", "days"),
    [
        (dt.datetime(2025, 1, 2, 10, 0), 5),
        ("2025-01-02", 5),
        (date(2025, 1, 2), 5.0),
        (date(2025, 1, 2), True),
    ],
)
def test_wrong_types_raise_type_error(start: object, days: object) -> None:
    with pytest.raises(TypeError):
        CN.add_working_days(start, days)  # type: ignore[arg-type]


@pytest.mark.parametrize("weekdays", [[], [0, 1], [8]])
def test_bad_weekdays_raise_value_error(weekdays: list[int]) -> None:
    with pytest.raises(ValueError):
        WorkCalendar(official=False, weekdays=weekdays)


# --- properties --------------------------------------------------------------------------


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    days=st.integers(min_value=0, max_value=120),
)
def test_add_and_count_agree(start: date, days: int) -> None:
    due = CN.add_working_days(start, days).due
    assert CN.working_days_between(start, due) == days
    assert CN.working_days_between(due, start) == -days
    if days > 0:
        assert CN.is_workday(due)
        # the first such day: one day earlier, one working day fewer
        assert CN.working_days_between(start, due - dt.timedelta(days=1)) == days - 1
    else:
        assert due == start


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    days=st.integers(min_value=0, max_value=120),
)
def test_provisional_exactly_when_a_counted_day_is_in_an_unknown_year(
    start: date, days: int
) -> None:
    deadline = CN.add_working_days(start, days)
    counted_years = {
        (start + dt.timedelta(days=i)).year for i in range(1, (deadline.due - start).days + 1)
    }
    unknown = tuple(sorted(y for y in counted_years if y >= 2027))
    assert deadline.unknown_years == unknown
    assert deadline.provisional is bool(unknown)


@given(
    weekdays=st.sets(st.integers(min_value=1, max_value=7), min_size=1),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    days=st.integers(min_value=1, max_value=60),
)
def test_unofficial_calendar_property(weekdays: set[int], start: date, days: int) -> None:
    calendar = WorkCalendar(official=False, weekdays=weekdays)
    deadline = calendar.add_working_days(start, days)
    assert not deadline.provisional
    assert deadline.due.isoweekday() in weekdays
    assert calendar.working_days_between(start, deadline.due) == days
