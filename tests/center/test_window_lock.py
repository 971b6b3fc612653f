"""``Tx.guard_window``: a caller's check of the window runs on the row the action locks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from center.engine.center import Center
from center.errors import Forbidden


def _snapshot(center: Center) -> tuple[Any, ...]:
    """Everything an action at window 1 may change: the window, the tickets, the log."""
    with center.store.read() as conn:
        return (
            tuple(conn.execute(text("SELECT * FROM windows WHERE number = 1")).one()),
            tuple(conn.execute(text('SELECT id, state, "window" FROM tickets ORDER BY id')).all()),
            conn.execute(text("SELECT count(*) FROM events")).scalar(),
            conn.execute(text("SELECT count(*) FROM calls")).scalar(),
            conn.execute(text("SELECT count(*) FROM evaluations")).scalar(),
        )


def _refuse(row: Any) -> None:
    raise Forbidden(f"window {row.number} refused by the guard", zh="拒绝")


def test_a_guard_runs_once_on_the_row_the_action_locks_before_it_goes_on(
    center: Center,
) -> None:
    center.posts.login(1, "1001")
    center.tickets.issue("tax")
    seen: list[Any] = []
    with center.store.write() as tx:
        tx.guard_window(1, seen.append)
        called = center.calls.call_next(1)
        assert called is not None
        assert [row.staff for row in seen] == ["1001"]
        assert [row.current_ticket_id for row in seen] == [None]  # the row before the call
        tx.lock_window(1)
        assert len(seen) == 1  # checked once


@pytest.mark.parametrize("action", ["call_next", "finish", "pause"])
def test_a_guard_that_refuses_rolls_the_whole_action_back(center: Center, action: str) -> None:
    center.posts.login(1, "1001")
    center.tickets.issue("tax")
    if action == "finish":
        center.calls.call_next(1)
    before = _snapshot(center)
    with pytest.raises(Forbidden), center.store.write() as tx:
        tx.guard_window(1, _refuse)
        if action == "pause":
            center.posts.pause(1, "break")
        else:
            getattr(center.calls, action)(1)
    assert _snapshot(center) == before


def test_a_guarded_window_the_action_never_locks_is_checked_before_the_commit(
    center: Center,
) -> None:
    with pytest.raises(Forbidden), center.store.write() as tx:
        tx.guard_window(1, _refuse)
        tx.emit("test.a", at=center.ctx.now()[0], hall_day=center.ctx.now()[1], actor="test")
    assert all(e.kind != "test.a" for e in center.store.events_after(0))
