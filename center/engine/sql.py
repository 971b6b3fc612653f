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

WINDOW_FOR_UPDATE = (
    select(windows).where(windows.c.number == bindparam("w_number")).with_for_update()
)
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
