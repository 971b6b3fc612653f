"""``Tx.prelock_window``: a caller's check reads the window once, and the action reuses it."""

from __future__ import annotations

from typing import Any

import pytest

from center.engine.center import Center
from center.engine.store import Tx


def test_the_first_lock_after_a_prelock_reads_nothing_and_the_next_reads_again(
    center: Center, monkeypatch: pytest.MonkeyPatch
) -> None:
    center.posts.login(1, "1001")
    reads: list[int] = []
    read = Tx._read_window

    def counting(tx: Tx, number: int) -> Any:
        reads.append(number)
        return read(tx, number)

    monkeypatch.setattr(Tx, "_read_window", counting)
    with center.store.write() as tx:
        checked = tx.prelock_window(1)
        assert reads == [1]
        assert checked is not None and checked.staff == "1001"
        assert tx.lock_window(1) is checked
        assert reads == [1]  # taken, not read
        again = tx.lock_window(1)
        assert reads == [1, 1]  # read afresh: the action may have changed it
        assert again is not None and again.number == 1


def test_an_action_after_a_prelock_sees_the_window_as_it_was_checked(center: Center) -> None:
    center.posts.login(1, "1001")
    center.tickets.issue("tax")
    with center.store.write() as tx:
        tx.prelock_window(1)
        called = center.calls.call_next(1)
    assert called is not None
    center.calls.finish(1)
    with center.store.write() as tx:
        tx.prelock_window(1)
        tx.prelock_window(1)  # a second check replaces the first
        assert center.calls.call_next(1) is None  # nobody waits: the window was free
