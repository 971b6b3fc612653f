"""The hall day and whether tickets can be taken now."""

from __future__ import annotations

import datetime as dt
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from center.rules.hours import (
    ClosedReason,
    OpenState,
    hall_day,
    is_open_day,
    ticket_window_state,
)
from center.rules.workdays import WorkCalendar
from config.schema import Hall, Hours

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
HALL = Hall(code="HQ", name="测试政务服务中心")
HOURS = Hours()  # Mon–Fri, 09:00–12:00 and 13:30–17:30, cn calendar
CN = WorkCalendar.from_hours(HOURS)


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    """A moment, Beijing time."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


def state(now: dt.datetime, hours: Hours = HOURS) -> OpenState:
    return ticket_window_state(now, HALL, hours, WorkCalendar.from_hours(hours))


# --- hall day ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (at(2025, 10, 5, 2, 59), date(2025, 10, 4)),
        (at(2025, 10, 5, 3, 0), date(2025, 10, 5)),
        (at(2025, 10, 5, 0, 0), date(2025, 10, 4)),
        (at(2025, 10, 5, 23, 59), date(2025, 10, 5)),
        # 18:59 UTC is 02:59 in Shanghai on the next date
        (dt.datetime(2025, 10, 4, 18, 59, tzinfo=UTC), date(2025, 10, 4)),
        (dt.datetime(2025, 10, 4, 19, 0, tzinfo=UTC), date(2025, 10, 5)),
        # 16:30 UTC on the 4th is 00:30 on the 5th in Shanghai: still the 4th's hall day
        (dt.datetime(2025, 10, 4, 16, 30, tzinfo=UTC), date(2025, 10, 4)),
        # New Year's night across the year boundary
        (at(2026, 1, 1, 1, 0), date(2025, 12, 31)),
    ],
)
def test_hall_day(now: dt.datetime, day: date) -> None:
    assert hall_day(now, HALL) == day


def test_hall_day_in_another_zone_and_boundary() -> None:
    utc_hall = Hall(code="U", name="UTC hall", timezone="UTC", day_boundary=dt.time(0, 0))
    # 07:30 in Shanghai on the 5th is 23:30 UTC on the 4th
    assert hall_day(at(2025, 10, 5, 7, 30), utc_hall) == date(2025, 10, 4)
    assert hall_day(at(2025, 10, 5, 8, 0), utc_hall) == date(2025, 10, 5)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        hall_day(dt.datetime(2025, 10, 5, 10, 0), HALL)
    with pytest.raises(ValueError):
        ticket_window_state(dt.datetime(2025, 10, 9, 10, 0), HALL, HOURS, CN)


# --- open days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(2025, 10, 9), True),  # Thursday after National Day
        (date(2025, 10, 11), True),  # make-up Saturday
        (date(2025, 9, 28), True),  # make-up Sunday
        (date(2025, 10, 1), False),  # National Day
        (date(2025, 10, 18), False),  # plain Saturday
        (date(2026, 2, 16), False),  # Spring Festival 2026, Monday
        (date(2026, 2, 14), True),  # make-up Saturday before Spring Festival 2026
        (date(2027, 10, 1), True),  # unknown year, Friday: Monday–Friday fallback
        (date(2027, 10, 2), False),  # unknown year, Saturday
    ],
)
def test_is_open_day_default_hall(day: date, open_: bool) -> None:
    assert is_open_day(day, HOURS, CN) is open_


def test_saturday_hall_closes_on_national_day() -> None:
    hours = Hours(weekdays=[1, 2, 3, 4, 5, 6])
    calendar = WorkCalendar.from_hours(hours)
    assert not is_open_day(date(2025, 10, 4), hours, calendar)  # Saturday in National Day
    assert is_open_day(date(2025, 10, 18), hours, calendar)  # plain Saturday
    assert is_open_day(date(2027, 10, 2), hours, calendar)  # Saturday, unknown year
    assert not is_open_day(date(2025, 10, 19), hours, calendar)  # Sunday


def test_open_and_closed_days_of_the_hours() -> None:
    hours = Hours(
        closed_days=[date(2025, 10, 9), date(2027, 10, 1)],
        open_days=[date(2025, 10, 18), date(2025, 10, 2)],
    )
    calendar = WorkCalendar.from_hours(hours)
    assert not is_open_day(date(2025, 10, 9), hours, calendar)
    assert not is_open_day(date(2027, 10, 1), hours, calendar)
    assert is_open_day(date(2025, 10, 18), hours, calendar)
    assert is_open_day(date(2025, 10, 2), hours, calendar)


def test_hall_without_official_calendar() -> None:
    hours = Hours(holiday_calendar="none", weekdays=[1, 2, 3, 4, 5, 6, 7])
    calendar = WorkCalendar.from_hours(hours)
    assert is_open_day(date(2025, 10, 1), hours, calendar)
    assert is_open_day(date(2025, 10, 5), hours, calendar)


def test_monday_to_thursday_hall_stays_shut_on_official_friday() -> None:
    hours = Hours(weekdays=[1, 2, 3, 4])
    calendar = WorkCalendar.from_hours(hours)
    assert not is_open_day(date(2025, 10, 10), hours, calendar)
    assert is_open_day(date(2025, 10, 11), hours, calendar)  # make-up Saturday still opens
    assert state(at(2025, 10, 10, 10), hours).reason is ClosedReason.NOT_A_WORKING_DAY


# --- ticket window state -----------------------------------------------------------------


def test_open_in_the_morning_and_afternoon() -> None:
    for now in (at(2025, 10, 9, 9, 0), at(2025, 10, 9, 11, 59), at(2025, 10, 9, 13, 30)):
        result = state(now)
        assert result.open
        assert result.reason is None
        assert result.opens_at is None


def test_open_when_now_is_given_in_utc() -> None:
    assert state(dt.datetime(2025, 10, 9, 2, 0, tzinfo=UTC)).open  # 10:00 Beijing
    assert not state(dt.datetime(2025, 10, 9, 0, 30, tzinfo=UTC)).open  # 08:30 Beijing


def test_make_up_saturday_is_open() -> None:
    assert state(at(2025, 10, 11, 10, 0)).open
    assert state(at(2026, 2, 28, 14, 0)).open


def test_before_opening() -> None:
    result = state(at(2025, 10, 9, 8, 30))
    assert result == OpenState(
        False, ClosedReason.BEFORE_OPENING, "未到取号时间，09:00开始取号", at(2025, 10, 9, 9, 0)
    )


def test_lunch_break() -> None:
    result = state(at(2025, 10, 9, 12, 0))
    assert result == OpenState(
        False, ClosedReason.LUNCH_BREAK, "午休时间，13:30开始取号", at(2025, 10, 9, 13, 30)
    )
    assert state(at(2025, 10, 9, 13, 29)).reason is ClosedReason.LUNCH_BREAK


def test_after_closing_opens_on_make_up_saturday() -> None:
    result = state(at(2025, 10, 10, 17, 30))
    assert result.reason is ClosedReason.AFTER_CLOSING
    assert result.opens_at == at(2025, 10, 11, 9, 0)
    assert result.message == "今日办公时间已结束，下次取号时间：10月11日 09:00"


def test_after_closing_before_the_holiday_opens_after_it() -> None:
    result = state(at(2025, 9, 30, 18, 0))
    assert result.reason is ClosedReason.AFTER_CLOSING
    assert result.opens_at == at(2025, 10, 9, 9, 0)


def test_after_midnight_belongs_to_the_previous_hall_day() -> None:
    """GIVEN 01:00 on Thu 2025-10-09 WHEN the hall day is still Wed 10-08 (a holiday)
    THEN tickets are refused for the holiday and open at 09:00 the same morning."""
    result = state(at(2025, 10, 9, 1, 0))
    assert result == OpenState(
        False, ClosedReason.HOLIDAY, "今日为法定节假日，暂停取号，09:00开始取号", at(2025, 10, 9, 9)
    )


def test_holiday_opens_on_next_working_morning() -> None:
    result = state(at(2025, 10, 1, 10, 0))
    assert result == OpenState(
        False,
        ClosedReason.HOLIDAY,
        "今日为法定节假日，暂停取号，下次取号时间：10月9日 09:00",
        at(2025, 10, 9, 9, 0),
    )
    spring = state(at(2026, 2, 16, 10, 0))
    assert spring.reason is ClosedReason.HOLIDAY
    assert spring.opens_at == at(2026, 2, 24, 9, 0)


def test_weekend_is_not_a_working_day() -> None:
    result = state(at(2025, 10, 18, 10, 0))
    assert result.reason is ClosedReason.NOT_A_WORKING_DAY
    assert result.message.startswith("今日为休息日")
    assert result.opens_at == at(2025, 10, 20, 9, 0)


def test_last_ticket_minutes() -> None:
    hours = Hours(last_ticket_minutes=30)
    assert state(at(2025, 10, 9, 16, 59), hours).open
    afternoon = state(at(2025, 10, 9, 17, 0), hours)
    assert afternoon.reason is ClosedReason.LAST_TICKET_PASSED
    assert afternoon.message == "已过今日取号时间，下次取号时间：10月10日 09:00"
    assert afternoon.opens_at == at(2025, 10, 10, 9, 0)
    morning = state(at(2025, 10, 9, 11, 45), hours)
    assert morning == OpenState(
        False,
        ClosedReason.LAST_TICKET_PASSED,
        "本时段取号已截止，13:30开始取号",
        at(2025, 10, 9, 13, 30),
    )
    assert state(at(2025, 10, 9, 12, 0), hours).reason is ClosedReason.LUNCH_BREAK
    assert state(at(2025, 10, 9, 17, 30), hours).reason is ClosedReason.AFTER_CLOSING


def test_closed_day_of_the_hours() -> None:
    hours = Hours(closed_days=[date(2025, 10, 9)])
    result = state(at(2025, 10, 9, 10, 0), hours)
    assert result.reason is ClosedReason.HOLIDAY
    assert result.message == "今日不对外办公，暂停取号，下次取号时间：10月10日 09:00"


def test_open_day_of_the_hours() -> None:
    hours = Hours(open_days=[date(2025, 10, 18)])
    assert state(at(2025, 10, 18, 10, 0), hours).open
    assert state(at(2025, 10, 17, 18, 0), hours).opens_at == at(2025, 10, 18, 9, 0)


def test_no_opening_within_two_weeks() -> None:
    closed = [date(2025, 10, 9) + dt.timedelta(days=i) for i in range(20)]
    result = state(at(2025, 10, 9, 10, 0), Hours(closed_days=closed))
    assert result == OpenState(False, ClosedReason.HOLIDAY, "今日不对外办公，暂停取号", None)


def test_unknown_year_falls_back_to_monday_to_friday() -> None:
    assert state(at(2027, 10, 1, 10, 0)).open
    assert state(at(2027, 10, 2, 10, 0)).reason is ClosedReason.NOT_A_WORKING_DAY


def test_config_entered_holiday_in_unknown_year() -> None:
    hours = Hours(closed_days=[date(2027, 10, 1)], calendar_years=[2027])
    result = state(at(2027, 10, 1, 10, 0), hours)
    assert result.reason is ClosedReason.HOLIDAY
    assert result.opens_at == at(2027, 10, 4, 9, 0)
