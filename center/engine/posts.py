"""Staff at their posts: log in and out at a window, pause and resume, A/B handover.

A window is open only while a staff member is logged in there. A/B posts (主办/协办): when A
steps away for longer, a B of that window takes over (``handover``); the window's history keeps
both, and the window shows whom B covers for. A short absence is a pause with a reason
(临时离岗), shown on the window's LED strip.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select, update

from center.db.tables import post_events, windows
from center.engine.context import Context
from center.engine.states import WindowStatus
from center.engine.store import Tx
from center.errors import Forbidden, InvalidState, NotFound
from config.schema import Staff, Window


class PostDesk:
    """Staff log-in, pauses and handovers at windows."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _window(self, number: int) -> Window:
        win = self.ctx.cfg.windows_by_number.get(number)
        if win is None:
            raise NotFound(f"unknown window {number}", zh=f"没有{number}号窗口")
        return win

    def _staff(self, number: str) -> Staff:
        staff = self.ctx.cfg.staff_by_number.get(number)
        if staff is None:
            raise NotFound(f"unknown staff number {number!r}", zh="工号不存在")
        return staff

    def _check_posted(self, win: Window, staff: Staff) -> None:
        if win.posts is None or staff.role != "staff":
            return
        if staff.number != win.posts.a and staff.number not in win.posts.b:
            raise Forbidden(
                f"staff {staff.number} holds no post at window {win.number}",
                zh="您不在本窗口的A/B岗名单中",
            )

    def _row(self, tx: Tx, number: int) -> Row[Any] | None:
        return tx.lock_window(number)

    def _record(self, tx: Tx, staff: str, window: int, kind: str, **extra: Any) -> None:
        now, _, _ = self.ctx.now()
        tx.conn.execute(
            insert(post_events).values(staff=staff, window=window, kind=kind, at=now, **extra)
        )

    def login(self, window: int, staff_number: str) -> None:
        """Open window ``window`` with ``staff_number`` on duty."""
        win, staff = self._window(window), self._staff(staff_number)
        self._check_posted(win, staff)
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            elsewhere = tx.conn.execute(
                select(windows.c.number).where(
                    windows.c.staff == staff.number,
                    windows.c.status != WindowStatus.CLOSED.value,
                    windows.c.number != window,
                )
            ).scalar()
            if elsewhere is not None:
                raise InvalidState(
                    f"staff {staff.number} is logged in at window {elsewhere}: log out there first",
                    zh=f"您已在{elsewhere}号窗口登录，请先在那里退出",
                )
            row = self._row(tx, window)
            if row is not None and row.status != WindowStatus.CLOSED.value:
                if row.staff == staff.number:
                    return
                raise InvalidState(
                    f"window {window} is open with staff {row.staff}: use handover",
                    zh="本窗口已有人员在岗，请使用换岗",
                )
            values = {
                "status": WindowStatus.OPEN.value,
                "staff": staff.number,
                "covering_for": None,
                "pause_reason": None,
                "status_since": now,
                "current_ticket_id": None,
                "priority_streak": 0,
            }
            if row is None:
                tx.conn.execute(insert(windows).values(number=window, **values))
            else:
                tx.conn.execute(update(windows).where(windows.c.number == window).values(values))
            self._record(tx, staff.number, window, "login")
            tx.emit(
                "window.opened",
                at=now,
                hall_day=day,
                actor=f"staff:{staff.number}",
                window=window,
                staff=staff.number,
            )

    def logout(self, window: int) -> None:
        """Close window ``window``; refused while it is serving a ticket."""
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            row = self._open_row(tx, window)
            if row.current_ticket_id is not None:
                raise InvalidState(
                    f"window {window} is serving a ticket: finish it before logging out",
                    zh="请先办结当前号",
                )
            tx.conn.execute(
                update(windows)
                .where(windows.c.number == window)
                .values(
                    status=WindowStatus.CLOSED.value,
                    staff=None,
                    covering_for=None,
                    pause_reason=None,
                    status_since=now,
                )
            )
            self._record(tx, row.staff, window, "logout")
            tx.emit(
                "window.closed",
                at=now,
                hall_day=day,
                actor=f"staff:{row.staff}",
                window=window,
                staff=row.staff,
            )

    def _open_row(self, tx: Tx, window: int) -> Row[Any]:
        self._window(window)
        row = self._row(tx, window)
        if row is None or row.status == WindowStatus.CLOSED.value:
            raise InvalidState(f"no one is logged in at window {window}", zh="本窗口未登录")
        return row

    def pause(self, window: int, reason: str) -> None:
        """Pause window ``window`` (临时离岗) with a reason shown to waiting citizens."""
        reason = reason.strip()
        if not reason or len(reason) > 200:
            raise InvalidState("a pause needs a reason of 1 to 200 characters", zh="请填写暂停原因")
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            row = self._open_row(tx, window)
            if row.status == WindowStatus.PAUSED.value:
                raise InvalidState(f"window {window} is already paused", zh="窗口已暂停")
            if row.current_ticket_id is not None:
                raise InvalidState(
                    f"window {window} is serving a ticket: finish it before pausing",
                    zh="请先办结当前号",
                )
            tx.conn.execute(
                update(windows)
                .where(windows.c.number == window)
                .values(status=WindowStatus.PAUSED.value, pause_reason=reason, status_since=now)
            )
            self._record(tx, row.staff, window, "pause", reason=reason)
            tx.emit(
                "window.paused",
                at=now,
                hall_day=day,
                actor=f"staff:{row.staff}",
                window=window,
                reason=reason,
            )

    def resume(self, window: int) -> None:
        """End a pause."""
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            row = self._open_row(tx, window)
            if row.status != WindowStatus.PAUSED.value:
                raise InvalidState(f"window {window} is not paused", zh="窗口未暂停")
            paused_for = (now - row.status_since).total_seconds() if row.status_since else 0.0
            tx.conn.execute(
                update(windows)
                .where(windows.c.number == window)
                .values(status=WindowStatus.OPEN.value, pause_reason=None, status_since=now)
            )
            self._record(tx, row.staff, window, "resume")
            tx.emit(
                "window.resumed",
                at=now,
                hall_day=day,
                actor=f"staff:{row.staff}",
                window=window,
                paused_seconds=round(paused_for, 1),
            )

    def handover(self, window: int, to_staff: str, reason: str = "") -> None:
        """A/B substitution: ``to_staff`` takes over window ``window`` from whoever is on duty.

        Handing over to the window's A post ends a substitution. The window keeps its state
        (open, or paused until the newcomer resumes)."""
        win, staff = self._window(window), self._staff(to_staff)
        self._check_posted(win, staff)
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            row = self._open_row(tx, window)
            if row.staff == staff.number:
                raise InvalidState(f"staff {staff.number} is already on duty at window {window}")
            if row.current_ticket_id is not None:
                raise InvalidState(
                    f"window {window} is serving a ticket: finish it before the handover",
                    zh="请先办结当前号",
                )
            a_post = win.posts.a if win.posts else None
            covering = None if staff.number == a_post else (row.covering_for or row.staff)
            tx.conn.execute(
                update(windows)
                .where(windows.c.number == window)
                .values(staff=staff.number, covering_for=covering, status_since=now)
            )
            self._record(
                tx, row.staff, window, "handover_out", reason=reason or None, covering_for=None
            )
            self._record(
                tx,
                staff.number,
                window,
                "handover_in",
                reason=reason or None,
                covering_for=covering,
            )
            tx.emit(
                "window.handover",
                at=now,
                hall_day=day,
                actor=f"staff:{staff.number}",
                window=window,
                from_staff=row.staff,
                to_staff=staff.number,
                covering_for=covering,
                reason=reason,
            )
