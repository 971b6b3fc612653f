"""Queue engine on a real database: issuing, calling order, window actions, refusals."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from center.clock import ManualClock
from center.db.tables import appointments, events, persons, tickets
from center.engine.center import Center
from center.engine.context import PersonInput
from center.engine.states import Lane, TicketState
from center.errors import Forbidden, InvalidState, LimitReached, NotFound, OutsideHours, Refused
from tests.center.conftest import SHANGHAI

ID1 = "11010519491231002X"
ID2 = "440524188001010014"


def states(c: Center) -> dict[str, str]:
    with c.store.read() as conn:
        return dict(conn.execute(select(tickets.c.display, tickets.c.state)).tuples().all())


def test_numbers_are_per_service_zero_padded_and_sequential(center: Center) -> None:
    shown = [center.tickets.issue("tax").display for _ in range(3)]
    shown.append(center.tickets.issue("estate").display)
    shown.append(center.tickets.issue("tax").display)
    assert shown == ["A001", "A002", "A003", "C001", "A004"]


def test_numbers_restart_on_the_next_hall_day_and_old_tickets_are_cancelled(
    center: Center, clock: ManualClock
) -> None:
    center.tickets.issue("tax")
    center.tickets.issue("tax")
    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI))
    assert center.close_past_days() == 2
    assert center.tickets.issue("tax").display == "A001"
    with center.store.read() as conn:
        rows = conn.execute(
            select(tickets.c.hall_day, tickets.c.state).order_by(tickets.c.id)
        ).all()
    assert [(str(d), s) for d, s in rows] == [
        ("2026-11-23", "cancelled"),
        ("2026-11-23", "cancelled"),
        ("2026-11-24", "waiting"),
    ]


def test_issue_reports_people_ahead_and_a_wait_estimate(center: Center) -> None:
    for _ in range(4):
        center.tickets.issue("tax")
    t = center.tickets.issue("tax")
    assert t.ahead == 4
    # tax is served by windows 1, 2 and 3, all open; 10 minutes each by default.
    assert t.wait_seconds == pytest.approx(4 * 600 / 3)


def test_no_estimate_when_no_window_is_open(make_center: Callable[..., Center]) -> None:
    c = make_center()
    t = c.tickets.issue("tax")
    assert t.ahead == 0 and t.wait_seconds is None


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (dt.datetime(2026, 11, 23, 12, 30, tzinfo=SHANGHAI), "lunch"),
        (dt.datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI), "sunday"),
        (dt.datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI), "national day"),
        (dt.datetime(2026, 11, 23, 18, 0, tzinfo=SHANGHAI), "after closing"),
    ],
)
def test_no_tickets_outside_business_hours(
    make_center: Callable[..., Center], when: dt.datetime, reason: str
) -> None:
    c = Center(make_center().ctx.cfg, make_center().store, ManualClock(when), None)
    with pytest.raises(OutsideHours) as err:
        c.tickets.issue("tax")
    assert err.value.zh, reason


def test_refusals_name_the_problem(center: Center) -> None:
    with pytest.raises(NotFound, match="unknown service 'nope'"):
        center.tickets.issue("nope")
    with pytest.raises(Refused, match="needs an ID card"):
        center.tickets.issue("hukou")
    with pytest.raises(NotFound, match="unknown priority class 'vip'"):
        center.tickets.issue("tax", priority_class="vip")


def test_daily_maximum(center: Center) -> None:
    for _ in range(5):
        center.tickets.issue("estate")
    with pytest.raises(LimitReached, match="all of today's numbers"):
        center.tickets.issue("estate")
    # The refused attempt wrote nothing: the counter did not move.
    assert len([d for d in states(center) if d.startswith("C")]) == 5


def test_per_person_daily_limit_counts_the_person_not_the_card_text(center: Center) -> None:
    center.tickets.issue("hukou", person=PersonInput(ID1, "张小三"))
    center.tickets.issue("hukou", person=PersonInput(ID1.lower()))
    with pytest.raises(LimitReached, match="per-person daily limit of 2"):
        center.tickets.issue("hukou", person=PersonInput(" " + ID1))
    center.tickets.issue("hukou", person=PersonInput(ID2))


def test_regular_tickets_are_first_come_first_served(center: Center, clock: ManualClock) -> None:
    issued = []
    for _ in range(5):
        issued.append(center.tickets.issue("tax").display)
        clock.advance(1)
    called = [center.calls.call_next(1) for _ in range(1)]
    center.calls.finish(1)
    called += [center.calls.call_next(1)]
    assert [c.display for c in called if c] == issued[:2]


def test_tickets_taken_in_the_same_millisecond_keep_issue_order(center: Center) -> None:
    issued = [center.tickets.issue("tax").display for _ in range(4)]
    order = []
    for _ in issued:
        t = center.calls.call_next(1)
        assert t is not None
        order.append(t.display)
        center.calls.finish(1)
    assert order == issued


def test_green_channel_head_start_and_ageing(center: Center, clock: ManualClock) -> None:
    old = center.tickets.issue(
        "tax"
    ).display  # waits 25 minutes: longer than the 20-minute head start
    clock.advance(25 * 60)
    elderly = center.tickets.issue("tax", priority_class="elderly").display
    clock.advance(60)
    recent = center.tickets.issue("tax").display
    clock.advance(60)
    got = []
    for _ in range(3):
        t = center.calls.call_next(1)
        assert t is not None
        got.append(t.display)
        center.calls.finish(1)
    assert got == [old, elderly, recent]


def test_priority_interleave_caps_priority_streak(center: Center, clock: ManualClock) -> None:
    regular = center.tickets.issue("tax").display
    clock.advance(1)
    prio = [center.tickets.issue("tax", priority_class="disabled").display for _ in range(5)]
    got = []
    for _ in range(6):
        t = center.calls.call_next(1)
        assert t is not None
        got.append(t.display)
        center.calls.finish(1)
    # At most 3 priority calls in a row while a regular ticket waits (3:1 by default).
    assert got == [*prio[:3], regular, *prio[3:]]


def test_precedence_empties_the_first_service_first(center: Center, clock: ManualClock) -> None:
    hukou = center.tickets.issue("hukou", person=PersonInput(ID1)).display
    clock.advance(60)
    tax = center.tickets.issue("tax").display
    first = center.calls.call_next(1)  # window 1 serves tax before hukou
    assert first is not None and first.display == tax
    second = center.calls.call_next(2)  # window 2 serves hukou first
    assert second is not None and second.display == hukou


def test_oldest_selection_ignores_precedence(center: Center, clock: ManualClock) -> None:
    tax = center.tickets.issue("tax").display
    clock.advance(60)
    center.tickets.issue("estate")
    t = center.calls.call_next(3)  # window 3: estate before tax by precedence, but "oldest"
    assert t is not None and t.display == tax


def test_appointments_go_first_once_their_slot_opens(center: Center, clock: ManualClock) -> None:
    start = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
    app = center.tickets.book("estate", start, start + dt.timedelta(minutes=30))
    walk_in = center.tickets.issue("estate").display
    checked = center.tickets.check_in(app.code)
    assert checked.lane is Lane.APPOINTMENT
    t = center.calls.call_next(3)  # 09:00: slot opens at 09:45 (15 min early), so walk-in first
    assert t is not None and t.display == walk_in
    center.calls.finish(3)
    center.tickets.issue("estate")
    clock.set(dt.datetime(2026, 11, 23, 9, 50, tzinfo=SHANGHAI))
    t = center.calls.call_next(3)
    assert t is not None and t.display == checked.display
    with pytest.raises(InvalidState, match="already checked in"):
        center.tickets.check_in(app.code)


def test_late_appointment_becomes_a_walk_in(center: Center, clock: ManualClock) -> None:
    start = dt.datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
    app = center.tickets.book("estate", start, start + dt.timedelta(minutes=30))
    assert center.tickets.check_in(app.code).lane is Lane.REGULAR


def test_check_in_by_id_number_finds_todays_appointment(center: Center) -> None:
    """GIVEN appointments booked for a person today and tomorrow WHEN they check in by ID
    number THEN today's becomes an appointment-lane ticket of theirs; a second time is 409."""
    start = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
    tomorrow = start + dt.timedelta(days=1)
    center.tickets.book("estate", tomorrow, tomorrow + dt.timedelta(minutes=30), PersonInput(ID1))
    app = center.tickets.book("estate", start, start + dt.timedelta(minutes=30), PersonInput(ID1))
    checked = center.tickets.check_in_person(PersonInput(ID1.lower()), source_ref="k1")
    assert checked.lane is Lane.APPOINTMENT and checked.service == "estate"
    with center.store.read() as conn:
        row = conn.execute(
            select(appointments.c.status, appointments.c.ticket_id, appointments.c.person_id).where(
                appointments.c.id == app.id
            )
        ).one()
        ticket_person = conn.execute(
            select(tickets.c.person_id).where(tickets.c.id == checked.id)
        ).scalar_one()
    assert row.status == "checked_in" and row.ticket_id == checked.id
    assert ticket_person == row.person_id is not None
    with pytest.raises(InvalidState, match="already checked in") as err:
        center.tickets.check_in_person(PersonInput(ID1))
    assert err.value.zh == "您今天的预约已签到"
    with pytest.raises(InvalidState, match="already checked in"):
        center.tickets.check_in(app.code)  # the QR code of the same appointment


def test_check_in_by_id_number_without_an_appointment_today(center: Center) -> None:
    """A person with no booked appointment today, or never seen, is NotFound; the lookup
    registers no one."""
    center.tickets.issue("hukou", person=PersonInput(ID2))  # known person, no appointment
    with center.store.read() as conn:
        before = conn.execute(select(func.count()).select_from(persons)).scalar_one()
    for id_number in (ID2, ID1):
        with pytest.raises(NotFound, match="no appointment today") as err:
            center.tickets.check_in_person(PersonInput(id_number))
        assert err.value.zh is not None and "未找到您今天的预约" in err.value.zh
    with center.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(persons)).scalar_one() == before


def test_window_actions_refuse_impossible_states(center: Center) -> None:
    with pytest.raises(InvalidState, match="not serving any ticket"):
        center.calls.finish(1)
    center.tickets.issue("tax")
    center.tickets.issue("tax")
    t = center.calls.call_next(1)
    assert t is not None
    with pytest.raises(InvalidState, match=f"still serving {t.display}"):
        center.calls.call_next(1)
    with pytest.raises(InvalidState, match="finish it before pausing"):
        center.posts.pause(1, "取材料")
    center.calls.finish(1)
    center.posts.pause(1, "取材料")
    with pytest.raises(InvalidState, match="paused"):
        center.calls.call_next(1)
    center.posts.resume(1)
    assert center.calls.call_next(1) is not None
    with pytest.raises(NotFound, match="unknown window 9"):
        center.calls.call_next(9)


def test_recall_skip_and_requeue_once(center: Center, clock: ManualClock) -> None:
    a1 = center.tickets.issue("tax").display
    center.tickets.issue("tax")
    center.calls.call_next(1)
    assert center.calls.recall(1).recalls == 1
    assert center.calls.recall(1).recalls == 2
    assert center.calls.skip(1) == a1
    assert states(center)[a1] == "no_show"
    center.calls.requeue(a1)
    t = center.calls.call_next(1)  # kept its place: ahead of A002
    assert t is not None and t.display == a1
    center.calls.skip(1)
    with pytest.raises(InvalidState, match="already put back once"):
        center.calls.requeue(a1)


def test_requeue_window_closes(center: Center, clock: ManualClock) -> None:
    a1 = center.tickets.issue("tax").display
    center.calls.call_next(1)
    center.calls.skip(1)
    clock.advance(31 * 60)
    with pytest.raises(InvalidState, match="more than 30 minutes ago"):
        center.calls.requeue(a1)


def test_call_a_number_including_a_returning_no_show(center: Center) -> None:
    a1 = center.tickets.issue("tax").display
    a2 = center.tickets.issue("tax").display
    t = center.calls.call_number(1, a2)
    assert t.display == a2
    center.calls.finish(1)
    center.calls.call_next(1)
    center.calls.skip(1)
    assert center.calls.call_number(1, a1.lower()).display == a1
    with pytest.raises(NotFound, match="no ticket A099"):
        center.calls.call_number(2, "A099")
    center.calls.finish(1)
    c1 = center.tickets.issue("estate").display
    with pytest.raises(InvalidState, match="does not serve estate"):
        center.calls.call_number(1, c1)


def test_transfer_to_service_keeps_take_time(center: Center, clock: ManualClock) -> None:
    a1 = center.tickets.issue("tax").display
    clock.advance(60)
    c_wait = center.tickets.issue("estate").display
    center.calls.call_next(1)
    center.calls.transfer(1, to_service="estate")
    t = center.calls.call_next(3)
    assert t is not None and t.display == a1 and t.service == "estate"
    assert states(center)[c_wait] == "waiting"


def test_transfer_to_front(center: Center, clock: ManualClock) -> None:
    center.tickets.issue("estate")
    clock.advance(60)
    a1 = center.tickets.issue("tax").display
    center.calls.call_next(1)
    center.calls.transfer(1, to_service="estate", position="front")
    t = center.calls.call_next(3)
    assert t is not None and t.display == a1


def test_transfer_to_window_is_called_only_there_and_first(
    center: Center, clock: ManualClock
) -> None:
    center.tickets.issue("tax")
    clock.advance(1)
    center.tickets.issue("tax")
    t = center.calls.call_next(1)
    assert t is not None
    center.calls.transfer(1, to_window=3)
    other = center.calls.call_next(2)
    assert other is not None and other.display != t.display
    again = center.calls.call_next(3)
    assert again is not None and again.display == t.display
    with pytest.raises(NotFound, match="unknown service 'x'"):
        center.calls.transfer(3, to_service="x")
    with pytest.raises(InvalidState, match="exactly one"):
        center.calls.transfer(3)


def test_login_posts_and_handover(make_center: Callable[..., Center]) -> None:
    c = make_center()
    with pytest.raises(Forbidden, match="no post at window 1"):
        c.posts.login(1, "1003")
    c.posts.login(1, "1001")
    with pytest.raises(InvalidState, match="logged in at window 1"):
        c.posts.login(2, "1001")
    c.posts.handover(1, "1002", "A岗外出开会")
    w = c.status.hall().windows[0]
    assert (w.staff, w.covering_for) == ("1002", "1001")
    c.posts.handover(1, "1001")
    w = c.status.hall().windows[0]
    assert (w.staff, w.covering_for) == ("1001", None)
    with c.store.read() as conn:
        kinds = [r[0] for r in conn.execute(text("SELECT kind FROM post_events ORDER BY id"))]
    assert kinds == ["login", "handover_out", "handover_in", "handover_out", "handover_in"]


def test_every_change_is_in_the_event_log_in_order(center: Center) -> None:
    before = center.store.last_seq()
    center.tickets.issue("tax")
    center.calls.call_next(1)
    center.calls.recall(1)
    center.calls.finish(1)
    got = center.store.events_after(before)
    assert [e.kind for e in got] == [
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.done",
        "evaluation.invited",
    ]
    seqs = [e.seq for e in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert got[1].window == 1 and got[1].data["number"] == "A001"


def test_a_refused_action_writes_nothing(center: Center) -> None:
    center.tickets.issue("tax")
    with center.store.read() as conn:
        n_events = conn.execute(select(func.count()).select_from(events)).scalar()
    with pytest.raises(InvalidState):
        center.calls.finish(2)
    with pytest.raises(LimitReached):
        for _ in range(10):
            center.tickets.issue("estate")
    with center.store.read() as conn:
        after = conn.execute(select(func.count()).select_from(events)).scalar()
        estate = conn.execute(
            select(func.count()).select_from(tickets).where(tickets.c.service == "estate")
        ).scalar()
    assert estate == 5 and after == n_events + 5


def test_status_shows_queues_and_windows(center: Center) -> None:
    center.tickets.issue("tax")
    center.tickets.issue("tax")
    center.calls.call_next(1)
    center.posts.pause(2, "系统故障")
    s = center.status.hall()
    tax = next(x for x in s.services if x.code == "tax")
    assert (tax.waiting, tax.issued_today, tax.open_windows) == (1, 2, 2)
    w1, w2 = s.windows[0], s.windows[1]
    assert w1.current == "A001" and w2.status.value == "paused" and w2.pause_reason == "系统故障"


def test_ticket_states_are_exclusive(center: Center) -> None:
    for _ in range(3):
        center.tickets.issue("tax")
    center.calls.call_next(1)
    center.calls.call_next(2)
    center.calls.skip(2)
    s = states(center)
    assert sorted(s.values()) == sorted(
        [TicketState.CALLED.value, TicketState.NO_SHOW.value, TicketState.WAITING.value]
    )


def test_estimate_follows_windows_opening_and_pausing(center: Center) -> None:
    first = center.tickets.issue("tax")
    assert first.wait_seconds == 0
    second = center.tickets.issue("tax")
    assert second.wait_seconds == pytest.approx(600 / 3)
    center.posts.pause(2, "取材料")
    center.posts.pause(3, "取材料")
    third = center.tickets.issue("tax")
    assert third.wait_seconds == pytest.approx(2 * 600 / 1)


def test_a_no_show_called_back_by_number_gets_one_second_chance(center: Center) -> None:
    a1 = center.tickets.issue("tax").display
    center.calls.call_next(1)
    center.calls.skip(1)
    assert center.calls.call_number(1, a1).display == a1
    center.calls.skip(1)
    with pytest.raises(InvalidState, match="already put back once"):
        center.calls.call_number(1, a1)


def test_maintenance_expires_invitations_and_closes_old_days(
    center: Center, clock: ManualClock
) -> None:
    center.tickets.issue("tax")
    center.calls.call_next(1)
    center.calls.finish(1)
    center.tickets.issue("tax")
    clock.set(dt.datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI))
    assert center.maintain() == {
        "expired_invitations": 1,
        "cancelled_tickets": 1,
        "deadlines_updated": 0,
    }
    assert center.maintain() == {
        "expired_invitations": 0,
        "cancelled_tickets": 0,
        "deadlines_updated": 0,
    }


def test_maintainer_runs_rounds_in_the_background(center: Center, clock: ManualClock) -> None:
    from center.maintenance import Maintainer

    center.tickets.issue("tax")
    center.calls.call_next(1)
    center.calls.finish(1)
    clock.advance(120)
    m = Maintainer(center, interval=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while m.rounds < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        m.stop()
    assert m.rounds >= 2
    assert center.store.events_after(0)[-1].kind == "evaluation.not_rated"


def test_a_call_carries_the_masked_name_of_an_identified_citizen(center: Center) -> None:
    center.tickets.issue("hukou", person=PersonInput(ID1, "张小三"))
    center.tickets.issue("tax")
    center.calls.call_next(2)  # hukou first at window 2
    center.calls.call_next(1)
    called = [e for e in center.store.events_after(0) if e.kind == "ticket.called"]
    assert called[0].data["masked_name"] == "张*三"
    assert "masked_name" not in called[1].data
    assert "张小三" not in str([e.data for e in center.store.events_after(0)])
