"""Ratings (好差评): one rating per visit, from the window's evaluator or a follow-up channel.

Finishing a ticket opens an invitation at its window. The evaluator's rating answers the
window's open invitation; a second press finds none and is refused (repeated presses are
ignored). An invitation nobody answers expires as not rated (未评价) with a follow-up by QR
code or SMS recorded as pending; a later QR or SMS rating still counts, once. A bad rating
(差评) gets a rectification due date in working days and an event supervisors are alerted by.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select, update

from center.db.tables import evaluations, tickets
from center.engine.context import Context
from center.engine.states import Channel, EvaluationStatus, Rating
from center.engine.store import Tx
from center.errors import InvalidState, NotFound, Refused


@dataclass(frozen=True, slots=True)
class Rated:
    """A recorded rating."""

    evaluation_id: int
    ticket_id: int
    window: int
    staff: str | None
    level: Rating
    rectify_by: dt.date | None


class RatingDesk:
    """Records ratings and expires unanswered invitations."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def rate_at_window(
        self, window: int, level: int, *, channel: Channel = Channel.EVALUATOR
    ) -> Rated:
        """The rating given on window ``window``'s evaluator for its open invitation."""
        rating = _rating(level)
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            self._expire(tx, now, day)
            row = tx.conn.execute(
                select(evaluations)
                .where(
                    evaluations.c.window == window,
                    evaluations.c.status == EvaluationStatus.INVITED.value,
                )
                .order_by(evaluations.c.invited_at.desc())
                .limit(1)
                .with_for_update()
            ).first()
            if row is None:
                raise InvalidState(
                    f"no rating invitation is open at window {window}", zh="当前没有待评价的办件"
                )
            return self._record(tx, row, rating, channel, None, now, day)

    def rate_ticket(
        self,
        ticket_id: int,
        level: int,
        *,
        channel: Channel = Channel.QR,
        comment: str | None = None,
    ) -> Rated:
        """A rating for a finished visit from the QR page, SMS reply or paper form (一次一评)."""
        rating = _rating(level)
        if comment is not None and len(comment) > 500:
            raise Refused("a comment may have at most 500 characters", zh="评价内容不超过500字")
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            self._expire(tx, now, day)
            row = tx.conn.execute(
                select(evaluations).where(evaluations.c.ticket_id == ticket_id).with_for_update()
            ).first()
            if row is None:
                raise NotFound(
                    "this visit has not been finished, so it cannot be rated yet",
                    zh="该号尚未办结，暂不能评价",
                )
            if row.status == EvaluationStatus.RATED.value:
                raise Refused(
                    "this visit has already been rated (one rating per visit)",
                    zh="本次办事已评价，每次办事只评价一次",
                )
            return self._record(tx, row, rating, channel, comment, now, day)

    def _record(
        self,
        tx: Tx,
        r: Row[Any],
        rating: Rating,
        channel: Channel,
        comment: str | None,
        now: dt.datetime,
        day: dt.date,
    ) -> Rated:
        rectify_by = None
        if rating.is_bad:
            rectify_by = self.ctx.calendar.add_working_days(
                day, self.ctx.cfg.evaluation.rectify_days
            ).due
        followup_status = "answered" if r.followup else None
        tx.conn.execute(
            update(evaluations)
            .where(evaluations.c.id == r.id)
            .values(
                status=EvaluationStatus.RATED.value,
                level=int(rating),
                channel=channel.value,
                comment=comment,
                rated_at=now,
                followup_status=followup_status,
            )
        )
        display = tx.conn.execute(
            select(tickets.c.display).where(tickets.c.id == r.ticket_id)
        ).scalar()
        tx.emit(
            "evaluation.rated",
            at=now,
            hall_day=day,
            actor=f"{channel.value}:window{r.window}",
            ticket_id=r.ticket_id,
            window=r.window,
            number=display,
            staff=r.staff,
            level=int(rating),
            label=rating.label,
            channel=channel.value,
            bad=rating.is_bad,
            rectify_by=rectify_by.isoformat() if rectify_by else None,
        )
        return Rated(r.id, r.ticket_id, r.window, r.staff, rating, rectify_by)

    def expire_invitations(self) -> int:
        """Turn invitations past their time into 未评价 with a pending follow-up; returns how many."""
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            return self._expire(tx, now, day)

    def _expire(self, tx: Tx, now: dt.datetime, day: dt.date) -> int:
        rows = tx.conn.execute(
            select(evaluations.c.id, evaluations.c.ticket_id, evaluations.c.window).where(
                evaluations.c.status == EvaluationStatus.INVITED.value,
                evaluations.c.expires_at <= now,
            )
        ).all()
        if not rows:
            return 0
        followup = self.ctx.cfg.evaluation.followup
        tx.conn.execute(
            update(evaluations)
            .where(evaluations.c.id.in_([r.id for r in rows]))
            .values(
                status=EvaluationStatus.NOT_RATED.value,
                followup=None if followup == "none" else followup,
                followup_status=None if followup == "none" else "pending",
            )
        )
        for r in rows:
            tx.emit(
                "evaluation.not_rated",
                at=now,
                hall_day=day,
                actor="system",
                ticket_id=r.ticket_id,
                window=r.window,
                followup=followup,
            )
        return len(rows)


def _rating(level: int) -> Rating:
    try:
        return Rating(level)
    except ValueError as exc:
        raise Refused(
            f"rating level must be 1 (very dissatisfied) to 5 (very satisfied), got {level}",
            zh="评价等级有误",
        ) from exc
