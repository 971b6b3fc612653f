"""The center: one object that opens the database and offers every engine service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select, update

from center.clock import Clock, SystemClock
from center.db.connect import make_engine, upgrade
from center.db.tables import sessions, tickets, windows
from center.engine.calling import CallDesk
from center.engine.cases import CaseDesk
from center.engine.context import Context
from center.engine.posts import PostDesk
from center.engine.ratings import RatingDesk
from center.engine.states import SessionOutcome, TicketState
from center.engine.status import StatusReader
from center.engine.store import Store
from center.engine.tickets import TicketDesk
from center.pii import PersonalData
from config.schema import HallConfig


class Center:
    """A hall's engine over its database: tickets, calling, posts, ratings, cases, status."""

    def __init__(
        self, cfg: HallConfig, store: Store, clock: Clock, pii: PersonalData | None
    ) -> None:
        self.ctx = Context(cfg, store, clock, pii)
        self.store = store
        self.tickets = TicketDesk(self.ctx)
        self.calls = CallDesk(self.ctx)
        self.posts = PostDesk(self.ctx)
        self.ratings = RatingDesk(self.ctx)
        self.cases = CaseDesk(self.ctx)
        self.status = StatusReader(self.ctx)

    @classmethod
    def open(
        cls,
        cfg: HallConfig,
        url: str,
        *,
        clock: Clock | None = None,
        data_key: str | None = None,
        migrate: bool = True,
    ) -> Center:
        """Open (and by default migrate) the database at ``url`` for hall ``cfg``."""
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
        pii = PersonalData(data_key) if data_key else None
        return cls(cfg, Store(engine), clock or SystemClock(), pii)

    def close(self) -> None:
        """Release the database connections."""
        self.store.engine.dispose()

    def maintain(self) -> dict[str, int]:
        """The periodic work of a running center (every few seconds): expire rating
        invitations, close hall days that ended, recompute provisional deadlines."""
        return {
            "expired_invitations": self.ratings.expire_invitations(),
            "cancelled_tickets": self.close_past_days(),
            "deadlines_updated": self.cases.recompute_provisional(),
        }

    def close_past_days(self) -> int:
        """Cancel tickets left waiting or called on earlier hall days; returns how many."""
        now, day, _ = self.ctx.now()
        live = [TicketState.WAITING.value, TicketState.CALLED.value]
        with self.store.write() as tx:
            rows = tx.conn.execute(
                select(tickets.c.id, tickets.c.display, tickets.c.hall_day).where(
                    tickets.c.hall_day < day, tickets.c.state.in_(live)
                )
            ).all()
            if not rows:
                return 0
            ids = [r.id for r in rows]
            tx.conn.execute(
                update(tickets)
                .where(tickets.c.id.in_(ids))
                .values(state=TicketState.CANCELLED.value, ended_at=now)
            )
            tx.conn.execute(
                update(sessions)
                .where(sessions.c.ticket_id.in_(ids), sessions.c.ended_at.is_(None))
                .values(ended_at=now, outcome=SessionOutcome.CANCELLED.value)
            )
            tx.conn.execute(
                update(windows)
                .where(windows.c.current_ticket_id.in_(ids))
                .values(current_ticket_id=None)
            )
            for r in rows:
                tx.emit(
                    "ticket.cancelled",
                    at=now,
                    hall_day=day,
                    actor="system",
                    ticket_id=r.id,
                    number=r.display,
                    reason=f"hall day {r.hall_day.isoformat()} ended",
                )
        return len(rows)


def default_sqlite_url(root: Path) -> str:
    """The embedded database under ``root/var``."""
    return f"sqlite:///{(root / 'var' / 'hallq.db').resolve()}"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware UTC datetime (test and demo helper)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
