"""Window actions on tickets: call next, call a number, recall, skip, requeue, transfer, finish.

Each action is one transaction that first locks the window's row, so one window never runs
two actions at once. Call-next reads only the head of each lane of each service the window
serves (an index seek each: the cost does not grow with the queue) and lets the pure policy in
``center.rules.priority`` choose. On PostgreSQL the heads are read ``FOR UPDATE SKIP LOCKED``,
so two windows calling at the same instant never take the same ticket; on SQLite the
``BEGIN IMMEDIATE`` transaction does the same by running one writer at a time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Row, TextualSelect, insert, select, text, update

from center.db.tables import calls, tickets
from center.engine import pgraw, sql
from center.engine.context import Context
from center.engine.states import (
    EvaluationStatus,
    Lane,
    SessionOutcome,
    TicketState,
    WindowStatus,
)
from center.engine.store import Tx
from center.errors import InvalidState, NotFound
from center.pii import mask_name
from center.rules.numbering import parse_display
from center.rules.priority import Candidate, choose, front_key, regular_key
from config.schema import Window

LANE_ORDER = (Lane.APPOINTMENT, Lane.PRIORITY, Lane.REGULAR)


@dataclass(frozen=True, slots=True)
class CalledTicket:
    """A ticket called to a window."""

    id: int
    display: str
    service: str
    window: int
    staff: str | None
    lane: Lane
    waited_seconds: float
    recalls: int = 0


def base_lane(row: Any) -> Lane:
    """The lane a ticket returns to when it re-enters a queue (appointment priority is used up)."""
    return Lane.PRIORITY if row.priority_class else Lane.REGULAR


_HEAD = (
    "SELECT * FROM tickets WHERE state = 'waiting' AND {cond} ORDER BY queue_key, id LIMIT 1{lock}"
)


def _heads_sql(cfg: Window, postgres: bool) -> str:
    """SQL returning the head of each lane of each service ``cfg`` serves, plus its direct lane.

    Each head is an index seek on the partial index of waiting tickets. On PostgreSQL the
    lanes are a VALUES list joined LATERAL, each head locked FOR UPDATE SKIP LOCKED, so two
    windows calling at once never read the same head; on SQLite (one writer at a time) it is
    a UNION ALL of one-row subqueries."""
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    direct = _HEAD.format(cond="target_window = :window", lock=lock)
    if postgres:
        pairs = ", ".join(
            f"(CAST(:s{i} AS varchar), '{lane.value}')"
            for i in range(len(cfg.services))
            for lane in LANE_ORDER
        )
        lanes = _HEAD.format(
            cond="hall_day = :day AND service = want.service AND lane = want.lane", lock=lock
        )
        return (
            f"SELECT h.* FROM (VALUES {pairs}) AS want(service, lane) "
            f"CROSS JOIN LATERAL ({lanes}) h UNION ALL SELECT * FROM ({direct}) d"
        )
    parts = [direct] + [
        _HEAD.format(cond=f"hall_day = :day AND service = :s{i} AND lane = '{lane.value}'", lock="")
        for i in range(len(cfg.services))
        for lane in LANE_ORDER
    ]
    return " UNION ALL ".join(f"SELECT * FROM ({p})" for p in parts)


def _heads_params(cfg: Window, day: dt.date) -> dict[str, Any]:
    params: dict[str, Any] = {"day": day, "window": cfg.number}
    params.update({f"s{i}": code for i, code in enumerate(cfg.services)})
    return params


def _not_serving(number: int) -> InvalidState:
    return InvalidState(f"window {number} is not serving any ticket", zh="当前没有正在办理的号")


class CallDesk:
    """The actions a window takes on tickets."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._heads_pg: dict[int, str] = {}
        self._heads_sqlite: dict[int, TextualSelect] = {}

    # --- shared steps -------------------------------------------------------------------

    def window(self, number: int) -> Window:
        """The configured window, or NotFound."""
        win = self.ctx.cfg.windows_by_number.get(number)
        if win is None:
            raise NotFound(f"unknown window {number}", zh=f"没有{number}号窗口")
        return win

    def _lock_window(self, tx: Tx, number: int) -> Row[Any]:
        self.window(number)
        return self._open(tx.lock_window(number), number)

    def _open(self, row: Row[Any] | None, number: int) -> Row[Any]:
        if row is None or row.status == WindowStatus.CLOSED.value:
            raise InvalidState(f"no one is logged in at window {number}", zh="本窗口未登录")
        return row

    def _ready_window(self, tx: Tx, number: int) -> Row[Any]:
        return self._ready(tx, self._lock_window(tx, number), number)

    def _ready(self, tx: Tx, row: Row[Any], number: int) -> Row[Any]:
        if row.status == WindowStatus.PAUSED.value:
            raise InvalidState(
                f"window {number} is paused ({row.pause_reason}): resume it first",
                zh="窗口暂停中，请先恢复服务",
            )
        if row.current_ticket_id is not None:
            shown = self._display(tx, row.current_ticket_id)
            raise InvalidState(
                f"window {number} is still serving {shown}: finish, skip or transfer it first",
                zh=f"{shown}号尚未办结",
            )
        return row

    def _serving(self, tx: Tx, number: int) -> tuple[Row[Any], Row[Any]]:
        win = self._lock_window(tx, number)
        if win.current_ticket_id is None:
            raise _not_serving(number)
        ticket = tx.conn.execute(sql.TICKET_BY_ID, {"tid": win.current_ticket_id}).one()
        return win, ticket

    def _display(self, tx: Tx, ticket_id: int) -> str:
        return str(tx.conn.execute(sql.TICKET_DISPLAY, {"tid": ticket_id}).scalar())

    def _actor(self, win: Row[Any]) -> str:
        return f"staff:{win.staff}" if win.staff else f"window:{win.number}"

    def _end_session(
        self, tx: Tx, ticket_id: int, now: dt.datetime, outcome: SessionOutcome
    ) -> None:
        tx.conn.execute(
            sql.END_SESSION, {"tid": ticket_id, "s_ended": now, "s_outcome": outcome.value}
        )

    def _release_window(self, tx: Tx, number: int) -> None:
        tx.conn.execute(sql.UPDATE_WINDOW, {"w_number": number, "current_ticket_id": None})

    # --- call next ----------------------------------------------------------------------

    def call_next(self, number: int) -> CalledTicket | None:
        """Call the next ticket for window ``number``; None when nobody waits for it."""
        now, day, now_ms = self.ctx.now()
        cfg = self.window(number)
        with self.ctx.store.write() as tx:
            if tx.postgres:  # the heads are read with the window's lock, in one round trip
                row, found = tx.lock_window_and_read(
                    number, self._heads_pg_sql(cfg), _heads_params(cfg, day)
                )
                win = self._ready(tx, self._open(row, number), number)
            else:
                win = self._ready_window(tx, number)
                found = self._heads_sqlite_rows(tx, cfg, day)
            heads = {r.id: r for r in found}
            candidates = [
                Candidate(r.id, r.service, Lane(r.lane), r.queue_key) for r in heads.values()
            ]
            choice = choose(
                candidates,
                services=cfg.services,
                selection=cfg.selection,
                streak=win.priority_streak,
                policy=self.ctx.policy,
                now_ms=now_ms,
            )
            if choice is None:
                return None
            return self._assign(
                tx, win, heads[choice.candidate.ticket_id], now, day, "call", choice.streak
            )

    def _heads_pg_sql(self, cfg: Window) -> str:
        """The head of every lane the window may call from, in one statement (PostgreSQL).

        The rows are whole tickets rows (aware datetimes and all), so the chosen one needs
        no second read."""
        query = self._heads_pg.get(cfg.number)
        if query is None:
            query = self._heads_pg[cfg.number] = _heads_sql(cfg, postgres=True)
        return query

    def _heads_sqlite_rows(self, tx: Tx, cfg: Window, day: dt.date) -> list[Any]:
        """The lane heads on SQLite: whole tickets rows, like ``_heads_pg_sql``'s."""
        stmt = self._heads_sqlite.get(cfg.number)
        if stmt is None:  # typed columns: SQLite's text timestamps come back as datetimes
            stmt = text(_heads_sql(cfg, postgres=False)).columns(*tickets.c)
            self._heads_sqlite[cfg.number] = stmt
        return list(tx.conn.execute(stmt, _heads_params(cfg, day)).all())

    def _assign(
        self,
        tx: Tx,
        win: Row[Any],
        t: Row[Any],
        now: dt.datetime,
        day: dt.date,
        kind: str,
        streak: int,
    ) -> CalledTicket:
        ticket_id = int(t.id)
        lane = Lane(t.lane)
        # A ticket called from the direct lane goes back to its own lane if it re-enters a queue.
        new_lane = base_lane(t).value if lane is Lane.DIRECT else t.lane
        if tx.postgres:
            pgraw.defer(  # sent with the events and the COMMIT
                tx,
                sql.CALL_WRITES_PG,
                {
                    "tid": ticket_id,
                    "w": win.number,
                    "staff": win.staff,
                    "now": now,
                    "lane": new_lane,
                    "streak": streak,
                    "kind": kind,
                    "day": t.hall_day,
                    "service": t.service,
                },
            )
        else:
            values = {
                "tid": ticket_id,
                "state": TicketState.CALLED.value,
                "window": win.number,
                "staff": win.staff,
                "called_at": now,
                "first_called_at": t.first_called_at or now,
                "target_window": None,
                "lane": new_lane,
            }
            tx.conn.execute(sql.UPDATE_TICKET, values)
            tx.conn.execute(
                sql.UPDATE_WINDOW,
                {"w_number": win.number, "current_ticket_id": ticket_id, "priority_streak": streak},
            )
            tx.conn.execute(
                sql.INSERT_CALL,
                {
                    "ticket_id": ticket_id,
                    "window": win.number,
                    "staff": win.staff,
                    "kind": kind,
                    "at": now,
                },
            )
            tx.conn.execute(
                sql.INSERT_SESSION,
                {
                    "ticket_id": ticket_id,
                    "hall_day": t.hall_day,
                    "service": t.service,
                    "window": win.number,
                    "staff": win.staff,
                    "started_at": now,
                },
            )
        waited = (now - t.issued_at).total_seconds()
        # An identified citizen's name, masked (张*三), for hall screens that show names.
        name = self.ctx.person_name(tx.conn, t.person_id)
        extra = {"masked_name": mask_name(name)} if name else {}
        tx.emit(
            "ticket.called",
            at=now,
            hall_day=day,
            actor=self._actor(win),
            ticket_id=ticket_id,
            window=win.number,
            number=t.display,
            service=t.service,
            lane=lane.value,
            staff=win.staff,
            how=kind,
            waited_seconds=round(waited, 1),
            **extra,
        )
        return CalledTicket(ticket_id, t.display, t.service, win.number, win.staff, lane, waited)

    # --- call a given number ------------------------------------------------------------

    def call_number(self, number: int, display: str) -> CalledTicket:
        """Call ticket ``display`` (e.g. "A012") to window ``number``: a waiting ticket, or a
        no-show back within the requeue time."""
        now, day, _ = self.ctx.now()
        cfg = self.window(number)
        prefix, n = self._parse(display)
        with self.ctx.store.write() as tx:
            win = self._ready_window(tx, number)
            t = self._ticket_by_number(tx, day, prefix, n, display)
            if t.service not in cfg.services and t.target_window != number:
                raise InvalidState(
                    f"window {number} does not serve {t.service} ({display})",
                    zh=f"本窗口不办理{display}号的业务",
                )
            if t.state == TicketState.NO_SHOW.value:
                self._check_requeue_allowed(t, now, display)
                # Calling a no-show back is its one second chance, as a requeue would be.
                tx.conn.execute(
                    sql.UPDATE_TICKET, {"tid": t.id, "requeues": t.requeues + 1, "ended_at": None}
                )
            elif t.state != TicketState.WAITING.value or (t.target_window not in (None, number)):
                raise InvalidState(
                    f"{display} is {t.state}, not waiting", zh=f"{display}号不在等候中"
                )
            return self._assign(tx, win, t, now, day, "call_number", win.priority_streak)

    def _parse(self, display: str) -> tuple[str, int]:
        try:
            return parse_display(display)
        except ValueError as exc:
            raise NotFound(str(exc), zh="号码格式有误") from exc

    def _ticket_by_number(
        self, tx: Tx, day: dt.date, prefix: str, n: int, display: str
    ) -> Row[Any]:
        codes = [s.code for s in self.ctx.cfg.services if s.prefix == prefix]
        row = None
        if codes:
            row = tx.conn.execute(
                select(tickets)
                .where(
                    tickets.c.hall_day == day,
                    tickets.c.original_service == codes[0],
                    tickets.c.number == n,
                )
                .with_for_update()
            ).first()
        if row is None:
            raise NotFound(f"no ticket {display} today", zh=f"今天没有{display}号")
        return row

    def _check_requeue_allowed(self, t: Row[Any], now: dt.datetime, display: str) -> None:
        limit = self.ctx.cfg.priority.no_show_requeue_minutes
        if t.requeues >= 1 or limit == 0:
            raise InvalidState(
                f"{display} was already put back once", zh=f"{display}号已过号重排过一次"
            )
        if t.ended_at is None or now - t.ended_at > dt.timedelta(minutes=limit):
            raise InvalidState(
                f"{display} missed its call more than {limit} minutes ago: take a new ticket",
                zh=f"{display}号过号超过{limit}分钟，请重新取号",
            )

    # --- actions on the ticket being served ---------------------------------------------

    def recall(self, number: int) -> CalledTicket:
        """Call the current ticket again (counted)."""
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            win, t = self._serving(tx, number)
            tx.conn.execute(
                update(tickets).where(tickets.c.id == t.id).values(recalls=t.recalls + 1)
            )
            tx.conn.execute(
                insert(calls).values(
                    ticket_id=t.id, window=number, staff=win.staff, kind="recall", at=now
                )
            )
            tx.emit(
                "ticket.recalled",
                at=now,
                hall_day=day,
                actor=self._actor(win),
                ticket_id=t.id,
                window=number,
                number=t.display,
                service=t.service,
                recalls=t.recalls + 1,
            )
        waited = (now - t.issued_at).total_seconds()
        return CalledTicket(
            t.id, t.display, t.service, number, win.staff, Lane(t.lane), waited, t.recalls + 1
        )

    def skip(self, number: int) -> str:
        """Mark the current ticket as a no-show (过号); returns its number."""
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            win, t = self._serving(tx, number)
            tx.conn.execute(
                update(tickets)
                .where(tickets.c.id == t.id)
                .values(state=TicketState.NO_SHOW.value, ended_at=now)
            )
            self._end_session(tx, t.id, now, SessionOutcome.NO_SHOW)
            self._release_window(tx, number)
            tx.emit(
                "ticket.no_show",
                at=now,
                hall_day=day,
                actor=self._actor(win),
                ticket_id=t.id,
                window=number,
                number=t.display,
                service=t.service,
            )
        return str(t.display)

    def requeue(self, display: str, *, actor: str = "system") -> None:
        """Put a no-show back in its queue, once, within the configured minutes."""
        now, day, now_ms = self.ctx.now()
        prefix, n = self._parse(display)
        with self.ctx.store.write() as tx:
            t = self._ticket_by_number(tx, day, prefix, n, display)
            if t.state != TicketState.NO_SHOW.value:
                raise InvalidState(
                    f"{display} is {t.state}, not a no-show", zh=f"{display}号不是过号状态"
                )
            self._check_requeue_allowed(t, now, display)
            keep = self.ctx.cfg.priority.requeue_position == "keep"
            tx.conn.execute(
                update(tickets)
                .where(tickets.c.id == t.id)
                .values(
                    state=TicketState.WAITING.value,
                    lane=base_lane(t).value,
                    queue_key=t.queue_key if keep else regular_key(now_ms),
                    requeues=t.requeues + 1,
                    window=None,
                    ended_at=None,
                )
            )
            tx.emit(
                "ticket.requeued",
                at=now,
                hall_day=day,
                actor=actor,
                ticket_id=t.id,
                number=t.display,
                service=t.service,
            )

    def transfer(
        self,
        number: int,
        *,
        to_service: str | None = None,
        to_window: int | None = None,
        position: Literal["keep", "front"] | None = None,
    ) -> None:
        """Send the current ticket to another service's queue or to one named window."""
        if (to_service is None) == (to_window is None):
            raise InvalidState("transfer needs exactly one of to_service or to_window")
        if to_service is not None and to_service not in self.ctx.cfg.services_by_code:
            raise NotFound(f"unknown service {to_service!r}", zh="没有这项业务")
        if to_window is not None:
            self.window(to_window)
            if to_window == number:
                raise InvalidState("a ticket cannot be transferred to the window it is at")
        position = position or self.ctx.cfg.priority.transfer_position
        now, day, now_ms = self.ctx.now()
        with self.ctx.store.write() as tx:
            win, t = self._serving(tx, number)
            values: dict[str, Any] = {
                "state": TicketState.WAITING.value,
                "transfers": t.transfers + 1,
                "window": None,
                "queue_key": t.queue_key if position == "keep" else front_key(now_ms),
            }
            if to_service is not None:
                values.update(service=to_service, lane=base_lane(t).value, target_window=None)
            else:
                values.update(lane=Lane.DIRECT.value, target_window=to_window)
            tx.conn.execute(update(tickets).where(tickets.c.id == t.id).values(values))
            self._end_session(tx, t.id, now, SessionOutcome.TRANSFERRED)
            self._release_window(tx, number)
            tx.emit(
                "ticket.transferred",
                at=now,
                hall_day=day,
                actor=self._actor(win),
                ticket_id=t.id,
                window=number,
                number=t.display,
                from_service=t.service,
                to_service=to_service or t.service,
                to_window=to_window,
                position=position,
            )

    def finish(self, number: int) -> int:
        """Finish serving the current ticket and invite its rating; returns the ticket id."""
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            eval_id: int | None = None
            if tx.postgres:  # the writes go with the window's lock, in one round trip
                self.window(number)
                timeout = dt.timedelta(seconds=self.ctx.cfg.evaluation.invite_timeout_seconds)
                params = {"now": now, "w": number, "expires": now + timeout}
                row, done = tx.lock_window_and_read(number, sql.FINISH_WRITES_PG, params)
                win = self._open(row, number)
                if win.current_ticket_id is None:
                    raise _not_serving(number)
                assert done  # the window's current ticket exists (foreign key)
                t = done[0]
                eval_id = t.eval_id
            else:
                win, t = self._serving(tx, number)
                tx.conn.execute(
                    sql.UPDATE_TICKET,
                    {"tid": t.id, "state": TicketState.DONE.value, "ended_at": now},
                )
                self._end_session(tx, t.id, now, SessionOutcome.DONE)
                self._release_window(tx, number)
            handled = (now - t.called_at).total_seconds() if t.called_at else 0.0
            tx.emit(
                "ticket.done",
                at=now,
                hall_day=day,
                actor=self._actor(win),
                ticket_id=t.id,
                window=number,
                number=t.display,
                service=t.service,
                handling_seconds=round(handled, 1),
            )
            if tx.postgres:
                if eval_id is not None:  # None: invited already, before finishing
                    self._invited(tx, win, t, now, day)
            else:
                self.invite(tx, win, t, now, day)
        return int(t.id)

    def invite(self, tx: Tx, win: Row[Any], t: Row[Any], now: dt.datetime, day: dt.date) -> int:
        """Open the rating invitation for ticket ``t`` at its window (once per ticket)."""
        timeout = dt.timedelta(seconds=self.ctx.cfg.evaluation.invite_timeout_seconds)
        insert_once = sql.INVITE_ONCE_PG if tx.postgres else sql.INVITE_ONCE_SQLITE
        eval_id = tx.conn.execute(
            insert_once,
            {
                "ticket_id": t.id,
                "hall_day": t.hall_day,
                "service": t.service,
                "window": win.number,
                "staff": win.staff,
                "status": EvaluationStatus.INVITED.value,
                "invited_at": now,
                "expires_at": now + timeout,
            },
        ).scalar()
        if eval_id is None:  # invited already (one invitation per ticket)
            return int(tx.conn.execute(sql.EVALUATION_OF_TICKET, {"tid": t.id}).scalar_one())
        self._invited(tx, win, t, now, day)
        return int(eval_id)

    def _invited(self, tx: Tx, win: Row[Any], t: Row[Any], now: dt.datetime, day: dt.date) -> None:
        timeout = dt.timedelta(seconds=self.ctx.cfg.evaluation.invite_timeout_seconds)
        tx.emit(
            "evaluation.invited",
            at=now,
            hall_day=day,
            actor=self._actor(win),
            ticket_id=t.id,
            window=win.number,
            number=t.display,
            staff=win.staff,
            expires_at=(now + timeout).isoformat(),
        )

    def invite_evaluation(self, number: int) -> int:
        """Invite the citizen at window ``number`` to rate this visit (before or at finishing)."""
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            win, t = self._serving(tx, number)
            return self.invite(tx, win, t, now, day)
