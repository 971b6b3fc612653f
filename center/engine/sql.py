"""Statements built once and reused on the hot paths (issue, call, finish).

SQLAlchemy memoises a statement's cache key on the statement object, so reusing one object
skips both building the expression and generating its key on every execution: call-next,
issue and finish spend most of their time there otherwise. Updates take their SET columns
from the execution parameters (``{"tid": …, "state": …}``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from center.db.tables import calls, evaluations, number_counters, sessions, tickets, windows

TICKET_BY_ID = select(tickets).where(tickets.c.id == bindparam("tid"))
TICKET_DISPLAY = select(tickets.c.display).where(tickets.c.id == bindparam("tid"))
UPDATE_TICKET = update(tickets).where(tickets.c.id == bindparam("tid"))
UPDATE_WINDOW = update(windows).where(windows.c.number == bindparam("w_number"))
INSERT_TICKET = insert(tickets).returning(tickets.c.id)
INSERT_CALL = insert(calls)
INSERT_SESSION = insert(sessions)
END_SESSION = (
    update(sessions)
    .where(sessions.c.ticket_id == bindparam("tid"), sessions.c.ended_at.is_(None))
    .values(ended_at=bindparam("s_ended"), outcome=bindparam("s_outcome"))
)
EVALUATION_OF_TICKET = select(evaluations.c.id).where(evaluations.c.ticket_id == bindparam("tid"))
AHEAD = (
    select(func.count())
    .select_from(tickets)
    .where(
        tickets.c.state == "waiting",
        tickets.c.hall_day == bindparam("day"),
        tickets.c.service == bindparam("service"),
        tickets.c.lane != "direct",
        or_(
            tickets.c.queue_key < bindparam("key"),
            and_(tickets.c.queue_key == bindparam("key"), tickets.c.id < bindparam("tid")),
        ),
    )
)


def _next_number(dialect_insert: Any) -> Any:
    """Take the next number of a service's day: insert 1 or add 1, in one statement."""
    base = dialect_insert(number_counters).values(
        hall_day=bindparam("c_day"), service=bindparam("c_service"), last_number=1
    )
    return base.on_conflict_do_update(
        index_elements=[number_counters.c.hall_day, number_counters.c.service],
        set_={"last_number": number_counters.c.last_number + 1},
    ).returning(number_counters.c.last_number)


NEXT_NUMBER_PG = _next_number(postgresql.insert)
NEXT_NUMBER_SQLITE = _next_number(sqlite.insert)


def _invite_once(dialect_insert: Any) -> Any:
    """Open a ticket's rating invitation unless it has one: returns its id, or no row."""
    return (
        dialect_insert(evaluations)
        .on_conflict_do_nothing(index_elements=[evaluations.c.ticket_id])
        .returning(evaluations.c.id)
    )


INVITE_ONCE_PG = _invite_once(postgresql.insert)
INVITE_ONCE_SQLITE = _invite_once(sqlite.insert)


# PostgreSQL only: several writes in one round trip (data-modifying CTEs). On a shared
# 2-core machine each round trip costs more client time than the SQL itself; SQLite, in
# process, runs the same writes as separate statements.
CALL_WRITES_PG = """
    WITH t AS (
        UPDATE tickets SET state = 'called', "window" = :w, staff = :staff, called_at = :now,
            first_called_at = COALESCE(first_called_at, :now), target_window = NULL, lane = :lane
        WHERE id = :tid),
    w AS (UPDATE windows SET current_ticket_id = :tid, priority_streak = :streak WHERE number = :w),
    c AS (INSERT INTO calls (ticket_id, "window", staff, kind, at) VALUES (:tid, :w, :staff, :kind, :now))
    INSERT INTO sessions (ticket_id, hall_day, service, "window", staff, started_at)
    VALUES (:tid, :day, :service, :w, :staff, :now)
    """
# Finish the window's current ticket, read from the window's row (locked by the statement
# before it; the caller checks the same conditions and refuses, rolling back, if they fail).
# eval_id is NULL when the ticket was invited to rate already (before finishing).
FINISH_WRITES_PG = """
    WITH win AS (SELECT current_ticket_id AS tid, staff FROM windows
        WHERE number = :w AND status <> 'closed' AND current_ticket_id IS NOT NULL),
    t AS (UPDATE tickets SET state = 'done', ended_at = :now WHERE id = (SELECT tid FROM win)
        RETURNING id, hall_day, service, display, called_at),
    s AS (UPDATE sessions SET ended_at = :now, outcome = 'done'
        WHERE ticket_id = (SELECT tid FROM win) AND ended_at IS NULL),
    w AS (UPDATE windows SET current_ticket_id = NULL WHERE number = :w AND EXISTS (SELECT FROM win)),
    e AS (INSERT INTO evaluations (ticket_id, hall_day, service, "window", staff, status, invited_at, expires_at)
        SELECT t.id, t.hall_day, t.service, :w, (SELECT staff FROM win), 'invited', :now, :expires FROM t
        ON CONFLICT (ticket_id) DO NOTHING RETURNING id)
    SELECT t.id, t.hall_day, t.service, t.display, t.called_at, (SELECT id FROM e) AS eval_id FROM t
    """
# Take the service's next number, insert the ticket and count the people ahead, at once.
# The statement does not see its own insert, so "queue_key <= :key" counts exactly the
# waiting tickets ahead: equal keys were issued earlier. A number past the day's capacity
# is refused by the caller, which rolls the whole statement back.
ISSUE_PG = """
    WITH n AS (
        INSERT INTO number_counters (hall_day, service, last_number) VALUES (:day, :service, 1)
        ON CONFLICT (hall_day, service) DO UPDATE SET last_number = number_counters.last_number + 1
        RETURNING last_number),
    t AS (
        INSERT INTO tickets (hall_day, service, number, display, source, source_ref, lane,
            priority_class, queue_key, state, person_id, appointment_id, original_service, issued_at)
        SELECT :day, :service, n.last_number,
            :prefix || lpad(n.last_number::text, greatest(:digits, length(n.last_number::text)), '0'),
            :source, :source_ref, :lane, :priority_class, :key, 'waiting', :person_id,
            :appointment_id, :service, :now
        FROM n
        RETURNING id, number, display)
    SELECT t.id, t.number, t.display,
        (SELECT count(*) FROM tickets w WHERE w.state = 'waiting' AND w.hall_day = :day
            AND w.service = :service AND w.lane <> 'direct' AND w.queue_key <= :key) AS ahead
    FROM t
    """
