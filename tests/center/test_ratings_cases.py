"""Ratings (one per visit, timeouts, follow-up), cases and deadlines, personal data at rest."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest
from sqlalchemy import select, text

from center.clock import ManualClock
from center.db.tables import cases, evaluations, notices, persons
from center.engine.center import Center
from center.engine.context import PersonInput
from center.engine.states import CaseStatus, Channel
from center.errors import InvalidState, NotFound, Refused
from tests.center.conftest import SHANGHAI

ID1 = "11010519491231002X"


def serve(c: Center, service: str = "tax", window: int = 1) -> None:
    c.tickets.issue(service)
    assert c.calls.call_next(window) is not None


def test_finish_invites_and_the_evaluator_rates_once(center: Center) -> None:
    serve(center)
    ticket_id = center.calls.finish(1)
    rated = center.ratings.rate_at_window(1, 5)
    assert (rated.ticket_id, rated.window, rated.staff, rated.level.label) == (
        ticket_id,
        1,
        "1001",
        "非常满意",
    )
    with pytest.raises(InvalidState, match="no rating invitation is open at window 1"):
        center.ratings.rate_at_window(1, 1)  # a repeated press is not a second rating
    with pytest.raises(Refused, match="already been rated"):
        center.ratings.rate_ticket(ticket_id, 1)


def test_an_evaluator_rates_only_its_own_window(center: Center) -> None:
    serve(center)
    center.calls.finish(1)
    with pytest.raises(InvalidState, match="window 2"):
        center.ratings.rate_at_window(2, 4)


def test_unanswered_invitation_times_out_as_not_rated_with_followup(
    center: Center, clock: ManualClock
) -> None:
    serve(center)
    ticket_id = center.calls.finish(1)
    clock.advance(61)
    assert center.ratings.expire_invitations() == 1
    with center.store.read() as conn:
        row = conn.execute(select(evaluations).where(evaluations.c.ticket_id == ticket_id)).one()
    assert (row.status, row.followup, row.followup_status) == ("not_rated", "qr", "pending")
    with pytest.raises(InvalidState):
        center.ratings.rate_at_window(1, 5)
    late = center.ratings.rate_ticket(ticket_id, 4, channel=Channel.QR, comment="服务很好")
    assert late.level == 4
    with center.store.read() as conn:
        row = conn.execute(select(evaluations).where(evaluations.c.ticket_id == ticket_id)).one()
    assert (row.status, row.channel, row.followup_status) == ("rated", "qr", "answered")


def test_bad_rating_gets_a_rectification_date_and_an_event(center: Center) -> None:
    serve(center)
    center.calls.finish(1)
    rated = center.ratings.rate_at_window(1, 2)
    # Monday 2026-11-23 + 5 working days = Monday 2026-11-30.
    assert rated.rectify_by == dt.date(2026, 11, 30)
    last = center.store.events_after(0)[-1]
    assert (
        last.kind == "evaluation.rated"
        and last.data["bad"] is True
        and last.data["label"] == "不满意"
    )


def test_rating_levels_outside_the_five_are_refused(center: Center) -> None:
    serve(center)
    center.calls.finish(1)
    with pytest.raises(Refused, match="1 \\(very dissatisfied\\) to 5"):
        center.ratings.rate_at_window(1, 6)
    assert center.ratings.rate_at_window(1, 1).level.is_bad


def test_qr_rating_before_finish_is_refused(center: Center) -> None:
    with pytest.raises(NotFound, match="not been finished"):
        center.ratings.rate_ticket(999, 5)


def test_invite_before_finishing_does_not_duplicate(center: Center) -> None:
    serve(center)
    first = center.calls.invite_evaluation(1)
    center.calls.finish(1)
    with center.store.read() as conn:
        ids = conn.execute(select(evaluations.c.id)).scalars().all()
    assert ids == [first]


def test_promised_case_skips_national_day(
    make_center: Callable[..., Center], clock: ManualClock
) -> None:
    clock_at = ManualClock(dt.datetime(2025, 9, 29, 10, 0, tzinfo=SHANGHAI))
    base = make_center()
    c = Center(base.ctx.cfg, base.store, clock_at, base.ctx.pii)
    c.posts.login(1, "1001")
    serve(c)
    info = c.cases.register(1, kind="promised", materials=["申请表", "营业执照"])
    assert (info.status, info.due, info.due_provisional) == (
        CaseStatus.ACCEPTED,
        dt.date(2025, 10, 13),
        False,
    )
    with c.store.read() as conn:
        notice = conn.execute(select(notices)).one()
    assert notice.kind == "acceptance" and notice.content["title"] == "受理通知书"
    assert notice.content["due"] == "2025-10-13" and notice.content["materials"] == [
        "申请表",
        "营业执照",
    ]


def test_immediate_case_is_due_today(center: Center) -> None:
    serve(center)
    info = center.cases.register(1, kind="immediate")
    assert info.due == dt.date(2026, 11, 23)
    done = center.cases.complete(info.case_no, "准予登记", "staff:1001")
    assert done.status is CaseStatus.COMPLETED


def test_deadline_into_an_unknown_year_is_provisional_until_the_hall_enters_it(
    make_center: Callable[..., Center], clock: ManualClock
) -> None:
    c = make_center()
    c.posts.login(1, "1001")
    serve(c)
    info = c.cases.register(1, kind="promised", working_days=54)
    # 2026-11-23 + 54 working days, Monday–Friday in 2027 (the package does not know 2027).
    assert (info.due, info.due_provisional) == (dt.date(2027, 2, 5), True)
    hours = {"closed_days": [dt.date(2027, 1, 1), dt.date(2027, 2, 1)], "calendar_years": [2027]}
    c2 = make_center(hours=hours)
    assert c2.cases.recompute_provisional() == 1
    with c2.store.read() as conn:
        row = conn.execute(select(cases.c.due, cases.c.due_provisional)).one()
    assert (row.due, row.due_provisional) == (dt.date(2027, 2, 9), False)
    assert c2.store.events_after(0)[-1].kind == "case.deadline_updated"


def test_accepted_with_documents_to_follow(center: Center, clock: ManualClock) -> None:
    serve(center)
    info = center.cases.register(
        1, kind="promised", pending_documents=["房屋租赁合同"], documents_due_days=3
    )
    assert info.status is CaseStatus.ACCEPTED and info.documents_due == dt.date(2026, 11, 26)
    with pytest.raises(InvalidState, match="still waits for documents: 房屋租赁合同"):
        center.cases.complete(info.case_no, "准予许可", "staff:1001")
    center.cases.documents_received(info.case_no, "staff:1001")
    assert (
        center.cases.complete(info.case_no, "准予许可", "staff:1001").status is CaseStatus.COMPLETED
    )
    assert center.cases.issue_result(info.case_no, "staff:1001").status is CaseStatus.ISSUED


def test_awaiting_documents_clock_starts_when_complete(center: Center, clock: ManualClock) -> None:
    serve(center)
    info = center.cases.register(
        1, kind="awaiting_documents", pending_documents=["身份证复印件", "申请表"]
    )
    assert info.status is CaseStatus.AWAITING_DOCUMENTS and info.due is None
    clock.set(dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI))
    got = center.cases.documents_received(info.case_no, "staff:1001")
    # Clock starts Wednesday 2026-11-25: + 5 working days = Wednesday 2026-12-02.
    assert (got.status, got.due) == (CaseStatus.ACCEPTED, dt.date(2026, 12, 2))
    with center.store.read() as conn:
        kinds = conn.execute(select(notices.c.kind).order_by(notices.c.id)).scalars().all()
    assert kinds == ["correction", "acceptance"]


def test_returned_and_refused_cases_need_reasons(center: Center) -> None:
    serve(center)
    with pytest.raises(Refused, match="reason"):
        center.cases.register(1, kind="returned")
    ret = center.cases.register(1, kind="returned", reason="主要材料缺失")
    assert ret.status is CaseStatus.RETURNED
    with pytest.raises(InvalidState, match="cannot approve"):
        center.cases.approve(ret.case_no, "staff:1001")
    waiting = center.cases.register(1, kind="awaiting_documents", pending_documents=["x"])
    with pytest.raises(Refused, match="legal basis"):
        center.cases.refuse(waiting.case_no, "不符合条件", "", "staff:1001")
    refused = center.cases.refuse(
        waiting.case_no, "不符合条件", "《行政许可法》第三十二条", "staff:1001"
    )
    assert refused.status is CaseStatus.REFUSED


def test_case_kinds_are_checked(center: Center) -> None:
    with pytest.raises(InvalidState, match="not serving any ticket"):
        center.cases.register(1, kind="immediate")
    serve(center)
    with pytest.raises(NotFound, match="unknown case kind 'fast'"):
        center.cases.register(1, kind="fast")


def test_overdue_cases_are_found(center: Center, clock: ManualClock) -> None:
    serve(center)
    info = center.cases.register(1, kind="promised", working_days=1)
    assert center.cases.overdue() == []
    assert [c.case_no for c in center.cases.overdue(dt.date(2026, 11, 25))] == [info.case_no]


def test_personal_data_is_encrypted_at_rest_and_kept_out_of_logs(
    center: Center, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    center.tickets.issue("hukou", person=PersonInput(ID1, "张小三", "13812345678"))
    with center.store.read() as conn:
        raw = conn.execute(select(persons)).one()
        dump = " ".join(str(v) for v in raw) + " ".join(
            str(r) for r in conn.execute(text("SELECT * FROM events")).all()
        )
    assert ID1 not in dump and "张小三" not in dump and "13812345678" not in dump
    assert ID1.encode() not in raw.id_number_enc and "张小三".encode() not in (raw.name_enc or b"")
    pii = center.ctx.pii
    assert pii is not None
    assert pii.decrypt(raw.id_number_enc, "id_number") == ID1
    assert pii.decrypt(raw.name_enc, "name") == "张小三"
    with pytest.raises(Exception):  # noqa: B017 - bound to its column: decrypting as another fails
        pii.decrypt(raw.name_enc, "id_number")
    assert ID1 not in caplog.text and "张小三" not in caplog.text
    assert "张小三" not in repr(PersonInput(ID1, "张小三"))
