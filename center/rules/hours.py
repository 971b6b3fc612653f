"""The hall day and business hours: may a ticket be taken now, and if not, why and when.

The hall day starts at ``Hall.day_boundary`` local time (03:00 by default), so work
after midnight still belongs to the evening's day. Session times are read on the
hall day: a session time earlier than the boundary falls on the next calendar date.
Nothing here reads the clock: callers pass an aware ``now``.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from center.rules.workdays import WorkCalendar
from config.schema import Hall, Hours

LOOKAHEAD_DAYS = 14
"""How far ahead ``OpenState.opens_at`` looks for the next ticketing session."""


class ClosedReason(enum.Enum):
    """Why tickets cannot be taken now."""

    HOLIDAY = "holiday"
    NOT_A_WORKING_DAY = "not_a_working_day"
    BEFORE_OPENING = "before_opening"
    LUNCH_BREAK = "lunch_break"
    """Between two sessions."""
    AFTER_CLOSING = "after_closing"
    LAST_TICKET_PASSED = "last_ticket_passed"
    """Within ``last_ticket_minutes`` of a session's end."""


@dataclass(frozen=True)
class OpenState:
    """Whether the ticket machines issue tickets now, with the text a citizen sees."""

    open: bool
    reason: ClosedReason | None
    message: str
    opens_at: dt.datetime | None
    """Next moment tickets can be taken (hall time zone), if within ``LOOKAHEAD_DAYS`` days."""


def _local(now: dt.datetime, hall: Hall) -> dt.datetime:
    """``now`` in the hall's time zone; naive datetimes are refused."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(hall.timezone))


def _boundary(hall: Hall) -> dt.time:
    return hall.day_boundary.replace(tzinfo=None)


def hall_day(now: dt.datetime, hall: Hall) -> dt.date:
    """The hall day ``now`` belongs to: before ``day_boundary`` it is still the previous day."""
    local = _local(now, hall)
    if local.time() < _boundary(hall):
        return local.date() - dt.timedelta(days=1)
    return local.date()


def hall_day_end(day: dt.date, hall: Hall) -> dt.datetime:
    """When hall day ``day`` ends: the day boundary on the next date, in the hall's zone."""
    return dt.datetime.combine(
        day + dt.timedelta(days=1), _boundary(hall), tzinfo=ZoneInfo(hall.timezone)
    )


def is_open_day(day: dt.date, hours: Hours, calendar: WorkCalendar) -> bool:
    """Is the hall open on ``day`` at all?

    ``closed_days`` then ``open_days`` of the hours decide first. With the ``cn``
    calendar a holiday closes the hall (a hall open on Saturdays stays shut on
    National Day), a make-up weekend workday opens it, and otherwise ``weekdays``
    decide (so a hall open Monday–Thursday stays shut on an official Friday).
    """
    if day in hours.closed_days:
        return False
    if day in hours.open_days:
        return True
    weekday = day.isoweekday()
    if hours.holiday_calendar == "none":
        return weekday in hours.weekdays
    if calendar.is_official_holiday(day):
        return False
    return weekday in hours.weekdays or (weekday >= 6 and calendar.is_workday(day))


@dataclass(frozen=True)
class _Slot:
    """One session on one hall day: tickets from ``start`` until ``last``; open until ``end``."""

    start: dt.datetime
    last: dt.datetime
    end: dt.datetime


def _at(day: dt.date, time: dt.time, hall: Hall, zone: ZoneInfo) -> dt.datetime:
    """``time`` on hall day ``day``: times before the day boundary fall on the next date."""
    date = day + dt.timedelta(days=1) if time < _boundary(hall) else day
    return dt.datetime.combine(date, time.replace(tzinfo=None), tzinfo=zone)


def _slots(day: dt.date, hall: Hall, hours: Hours) -> list[_Slot]:
    """The sessions of ``day`` in time order; sessions that end before they start are dropped."""
    zone = ZoneInfo(hall.timezone)
    cut = dt.timedelta(minutes=hours.last_ticket_minutes)
    slots = []
    for session in hours.sessions:
        start = _at(day, session.start, hall, zone)
        end = _at(day, session.end, hall, zone)
        if end > start:
            slots.append(_Slot(start=start, last=max(start, end - cut), end=end))
    return sorted(slots, key=lambda s: s.start)


def _next_opening(
    after: dt.datetime, day: dt.date, hall: Hall, hours: Hours, calendar: WorkCalendar
) -> dt.datetime | None:
    """First ticketing start later than ``after``, on ``day`` or the next LOOKAHEAD_DAYS days."""
    for offset in range(LOOKAHEAD_DAYS + 1):
        candidate = day + dt.timedelta(days=offset)
        if not is_open_day(candidate, hours, calendar):
            continue
        for slot in _slots(candidate, hall, hours):
            if slot.start > after and slot.last > slot.start:
                return slot.start
    return None


def _when(opens_at: dt.datetime | None, today: dt.date) -> str:
    """How the next opening is said: "13:30" today, "10月9日 09:00" on another day."""
    if opens_at is None:
        return ""
    if opens_at.date() == today:
        return f"{opens_at:%H:%M}开始取号"
    return f"下次取号时间：{opens_at.month}月{opens_at.day}日 {opens_at:%H:%M}"


def _closed(
    reason: ClosedReason, text: str, opens_at: dt.datetime | None, today: dt.date
) -> OpenState:
    when = _when(opens_at, today)
    return OpenState(False, reason, f"{text}，{when}" if when else text, opens_at)


def _closed_day_state(
    day: dt.date, hours: Hours, calendar: WorkCalendar
) -> tuple[ClosedReason, str]:
    """Why a closed day is closed, in the hall's words."""
    if day in hours.closed_days:
        return ClosedReason.HOLIDAY, "今日不对外办公，暂停取号"
    if hours.holiday_calendar == "cn" and calendar.is_official_holiday(day):
        return ClosedReason.HOLIDAY, "今日为法定节假日，暂停取号"
    return ClosedReason.NOT_A_WORKING_DAY, "今日为休息日，暂停取号"


def ticket_window_state(
    now: dt.datetime, hall: Hall, hours: Hours, calendar: WorkCalendar
) -> OpenState:
    """May a ticket be taken at ``now`` (aware), and if not, why and from when."""
    local = _local(now, hall)
    day = hall_day(now, hall)
    opens_at = _next_opening(local, day, hall, hours, calendar)
    if not is_open_day(day, hours, calendar):
        reason, text = _closed_day_state(day, hours, calendar)
        return _closed(reason, text, opens_at, local.date())
    slots = _slots(day, hall, hours)
    if not slots or local < slots[0].start:
        return _closed(ClosedReason.BEFORE_OPENING, "未到取号时间", opens_at, local.date())
    for slot in slots:
        if slot.start <= local < slot.last:
            return OpenState(True, None, "正常取号", None)
    for slot in slots:
        if slot.last <= local < slot.end:
            return _closed(
                ClosedReason.LAST_TICKET_PASSED,
                _last_ticket_text(slot, slots),
                opens_at,
                local.date(),
            )
    if local < slots[-1].end:
        return _closed(ClosedReason.LUNCH_BREAK, "午休时间", opens_at, local.date())
    return _closed(ClosedReason.AFTER_CLOSING, "今日办公时间已结束", opens_at, local.date())


def _last_ticket_text(slot: _Slot, slots: list[_Slot]) -> str:
    """After the last ticket of the day's final session, or of an earlier one."""
    if slot is slots[-1]:
        return "已过今日取号时间"
    return "本时段取号已截止"
