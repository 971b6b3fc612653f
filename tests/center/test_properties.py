"""Random sequences of window actions keep the engine's invariants.

GIVEN a hall with three windows serving overlapping services,
WHEN hypothesis drives random issue / call / recall / skip / requeue / transfer / pause /
finish actions from many windows with time moving on,
THEN after every step: no ticket is at two windows, every called ticket is the current
ticket of exactly the window it names, numbers are unique per service and day, and every
call respected the policy: first come first served within a lane, precedence between
services, green-channel order and the N:1 cap.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import delete, select

from center.clock import ManualClock
from center.db.tables import metadata, tickets, windows
from center.engine.center import Center
from center.engine.states import Lane, TicketState
from center.errors import HallqError
from center.pii import new_key
from config.schema import HallConfig
from tests.center.conftest import MONDAY_9, hall_dict

SERVICES = ["tax", "hukou", "estate"]
WINDOWS = [1, 2, 3]
CAP = 3  # priority_per_regular in the test hall


def _reset(c: Center) -> None:
    with c.store.write() as tx:
        for table in reversed(metadata.sorted_tables):
            if table.name != "alembic_version":
                tx.conn.execute(delete(table))


class EngineMachine(RuleBasedStateMachine):
    """Drives one Center; the database is emptied at the start of each example."""

    center: Center
    clock: ManualClock
    cfg: HallConfig

    @initialize(
        queue=st.lists(
            st.tuples(
                st.sampled_from(["tax", "tax", "estate"]),
                st.sampled_from([None, None, "elderly", "urgent"]),
            ),
            min_size=3,
            max_size=25,
        )
    )
    def start_with_queue(self, queue: list[tuple[str, str | None]]) -> None:
        self.start()
        for service, prio in queue:
            with contextlib.suppress(HallqError):  # daily maximum of estate reached
                self.center.tickets.issue(service, priority_class=prio)
            self.clock.advance(7)

    def start(self) -> None:
        self.clock = ManualClock(MONDAY_9)  # a fresh working morning for every example
        _reset(self.center)
        self.center = Center(self.cfg, self.center.store, self.clock, self.center.ctx.pii)
        for window, staff in ((1, "1001"), (2, "1003"), (3, "1005")):
            self.center.posts.login(window, staff)

    # --- actions ----------------------------------------------------------------------

    @rule(
        service=st.sampled_from(["tax", "estate"]),
        prio=st.sampled_from([None, None, "elderly", "urgent"]),
    )
    def issue(self, service: str, prio: str | None) -> None:
        with contextlib.suppress(HallqError):  # daily maximum of estate reached
            self.center.tickets.issue(service, priority_class=prio)

    @rule(seconds=st.integers(min_value=0, max_value=90))
    def wait(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule(window=st.sampled_from(WINDOWS))
    def call_next(self, window: int) -> None:
        before = self._snapshot()
        try:
            called = self.center.calls.call_next(window)
        except HallqError:
            return
        if called is not None:
            self._check_choice(window, called.id, before)

    @rule(window=st.sampled_from(WINDOWS))
    def finish_and_call_next(self, window: int) -> None:
        with contextlib.suppress(HallqError):
            self.center.calls.finish(window)
        self.call_next(window)

    @rule(window=st.sampled_from(WINDOWS), action=st.sampled_from(["finish", "skip", "recall"]))
    def act(self, window: int, action: str) -> None:
        with contextlib.suppress(HallqError):
            getattr(self.center.calls, action)(window)

    @rule(
        window=st.sampled_from(WINDOWS), to=st.sampled_from(["tax", "estate"]), front=st.booleans()
    )
    def transfer(self, window: int, to: str, front: bool) -> None:
        with contextlib.suppress(HallqError):
            self.center.calls.transfer(window, to_service=to, position="front" if front else "keep")

    @rule(window=st.sampled_from(WINDOWS), dest=st.sampled_from(WINDOWS))
    def transfer_to_window(self, window: int, dest: int) -> None:
        with contextlib.suppress(HallqError):
            self.center.calls.transfer(window, to_window=dest)

    @rule(window=st.sampled_from(WINDOWS))
    def pause_or_resume(self, window: int) -> None:
        try:
            self.center.posts.pause(window, "临时离岗")
        except HallqError:
            with contextlib.suppress(HallqError):
                self.center.posts.resume(window)

    @rule(data=st.data())
    def requeue_a_no_show(self, data: st.DataObject) -> None:
        with self.center.store.read() as conn:
            shows = (
                conn.execute(
                    select(tickets.c.display).where(tickets.c.state == TicketState.NO_SHOW.value)
                )
                .scalars()
                .all()
            )
        if shows:
            with contextlib.suppress(HallqError):
                self.center.calls.requeue(data.draw(st.sampled_from(sorted(shows))))

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def one_window_per_ticket_and_unique_numbers(self) -> None:
        if not hasattr(self, "center"):
            return
        with self.center.store.read() as conn:
            rows = conn.execute(select(tickets)).all()
            wins = conn.execute(select(windows)).all()
        current = [w.current_ticket_id for w in wins if w.current_ticket_id is not None]
        assert len(current) == len(set(current)), "a ticket is current at two windows"
        by_id = {t.id: t for t in rows}
        for w in wins:
            if w.current_ticket_id is not None:
                t = by_id[w.current_ticket_id]
                assert t.state == TicketState.CALLED.value and t.window == w.number
        called = {t.id for t in rows if t.state == TicketState.CALLED.value}
        assert called == set(current), "a called ticket belongs to no window"
        assert all(t.state in {s.value for s in TicketState} for t in rows)
        numbers = Counter((t.hall_day, t.original_service, t.number) for t in rows)
        assert max(numbers.values(), default=1) == 1, "a number was issued twice"
        for t in rows:
            if t.state == TicketState.WAITING.value:
                assert (t.lane == Lane.DIRECT.value) == (t.target_window is not None)

    # --- policy check of one call ------------------------------------------------------

    def _snapshot(self) -> dict[str, Any]:
        with self.center.store.read() as conn:
            waiting = conn.execute(
                select(tickets).where(tickets.c.state == TicketState.WAITING.value)
            ).all()
            streaks = dict(
                conn.execute(select(windows.c.number, windows.c.priority_streak)).tuples().all()
            )
        return {"waiting": waiting, "streaks": streaks}

    def _check_choice(self, window: int, ticket_id: int, before: dict[str, Any]) -> None:
        waiting = before["waiting"]
        chosen = next(t for t in waiting if t.id == ticket_id)
        order = (chosen.queue_key, chosen.id)
        if chosen.lane == Lane.DIRECT.value:
            assert chosen.target_window == window
            mine = [t for t in waiting if t.target_window == window]
            assert order == min((t.queue_key, t.id) for t in mine)
            return
        assert not any(t.target_window == window for t in waiting), (
            "a ticket sent to this window waits"
        )
        cfg = self.cfg.windows_by_number[window]
        same_lane = [t for t in waiting if t.service == chosen.service and t.lane == chosen.lane]
        assert order == min((t.queue_key, t.id) for t in same_lane), "not first come, first served"
        plain = [t for t in waiting if t.lane in (Lane.PRIORITY.value, Lane.REGULAR.value)]
        if cfg.selection == "precedence" and chosen.lane != Lane.APPOINTMENT.value:
            rank = cfg.services.index(chosen.service)
            assert not any(t.service in cfg.services[:rank] for t in plain), "precedence broken"
        streak = before["streaks"][window]
        pool = [t for t in plain if t.service == chosen.service]
        regular = [t for t in pool if t.lane == Lane.REGULAR.value]
        if chosen.lane == Lane.PRIORITY.value and regular:
            assert streak < CAP, "more than N priority calls in a row while regular tickets wait"
        if chosen.lane == Lane.REGULAR.value:
            earlier_prio = [
                t for t in pool if t.lane == Lane.PRIORITY.value and (t.queue_key, t.id) < order
            ]
            assert not earlier_prio or streak >= CAP, "a priority ticket was passed over"


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_random_action_sequences_keep_invariants(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'p.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    cfg = HallConfig.model_validate(hall_dict())
    clock = ManualClock(MONDAY_9)
    center = Center.open(cfg, url, clock=clock, data_key=new_key())
    machine = type(
        f"EngineMachine_{backend}", (EngineMachine,), {"center": center, "clock": clock, "cfg": cfg}
    )
    examples = 100 if backend == "sqlite" else 25
    run = settings(
        max_examples=examples,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )(machine).TestCase
    try:
        run().runTest()
    finally:
        center.close()


def test_machine_detects_a_broken_engine(tmp_path: Path) -> None:
    """The invariant checks can fail: an engine that calls the newest ticket is caught."""
    cfg = HallConfig.model_validate(hall_dict())
    clock = ManualClock(MONDAY_9)
    center = Center.open(cfg, f"sqlite:///{tmp_path / 'b.db'}", clock=clock, data_key=new_key())
    machine = EngineMachine.__new__(EngineMachine)
    machine.center, machine.clock, machine.cfg = center, clock, cfg
    machine.start()
    center.tickets.issue("tax")
    clock.advance(5)
    newest = center.tickets.issue("tax")
    before = machine._snapshot()
    with pytest.raises(AssertionError, match="first come, first served"):
        machine._check_choice(1, newest.id, before)
    center.close()
