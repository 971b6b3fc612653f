"""Retried reports with the same Idempotency-Key are recorded once and get the first reply."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from center.auth.roles import Role
from center.db.tables import events, tickets
from tests.api.conftest import Api

TICKETS = "/api/v1/kiosk/tickets"


def count(api: Api, table: object) -> int:
    with api.center.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_retried_ticket_request_issues_one_ticket(api: Api) -> None:
    kiosk = {**api.device("k-tax", Role.KIOSK), "Idempotency-Key": "kiosk-req-0001"}
    first = api.http.post(TICKETS, json={"service": "tax"}, headers=kiosk)
    again = api.http.post(TICKETS, json={"service": "tax"}, headers=kiosk)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count(api, tickets) == 1


def test_the_same_key_for_another_request_is_refused(api: Api) -> None:
    kiosk = {**api.device("k-any", Role.KIOSK), "Idempotency-Key": "kiosk-req-0001"}
    api.http.post(TICKETS, json={"service": "tax"}, headers=kiosk)
    r = api.http.post(TICKETS, json={"service": "estate"}, headers=kiosk)
    assert r.status_code == 422 and r.json()["error"] == "idempotency_key_reused"
    assert count(api, tickets) == 1


def test_keys_belong_to_one_caller(api: Api) -> None:
    key = {"Idempotency-Key": "same-key-0001"}
    api.http.post(TICKETS, json={"service": "tax"}, headers={**api.device("k1", Role.KIOSK), **key})
    api.http.post(TICKETS, json={"service": "tax"}, headers={**api.device("k2", Role.KIOSK), **key})
    assert count(api, tickets) == 2


def test_a_retried_rating_counts_once(api: Api) -> None:
    api.center.posts.login(1, "1001")
    api.center.tickets.issue("tax")
    api.center.calls.call_next(1)
    api.center.calls.finish(1)
    evaluator = {**api.device("eval-1", Role.EVALUATOR, 1), "Idempotency-Key": "rating-0001"}
    replies = [
        api.http.post("/api/v1/windows/1/rating", json={"level": 2}, headers=evaluator)
        for _ in range(3)
    ]
    assert {r.status_code for r in replies} == {200}
    assert replies[0].json()["bad"] is True
    with api.center.store.read() as conn:
        rated = conn.execute(
            select(func.count()).select_from(events).where(events.c.kind == "evaluation.rated")
        ).scalar_one()
    assert rated == 1


def test_a_retried_call_next_does_not_call_twice(api: Api) -> None:
    for _ in range(2):
        api.center.tickets.issue("tax")
    staff = {**api.login("1001", 1), "Idempotency-Key": "call-next-0001"}
    first = api.http.post("/api/v1/staff/call-next", headers=staff).json()
    again = api.http.post("/api/v1/staff/call-next", headers=staff).json()
    assert first == again and first["called"]["number"] == "A001"


def test_a_refused_request_stores_nothing_so_a_retry_can_succeed(api: Api) -> None:
    evaluator = {**api.device("eval-1", Role.EVALUATOR, 1), "Idempotency-Key": "rating-0002"}
    r = api.http.post("/api/v1/windows/1/rating", json={"level": 5}, headers=evaluator)
    assert r.status_code == 409  # no invitation open yet
    api.center.posts.login(1, "1001")
    api.center.tickets.issue("tax")
    api.center.calls.call_next(1)
    api.center.calls.finish(1)
    r = api.http.post("/api/v1/windows/1/rating", json={"level": 5}, headers=evaluator)
    assert r.status_code == 200


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_api(request: pytest.FixtureRequest, make_api: Callable[..., Api], tmp_path: Path) -> Api:
    if request.param == "sqlite":
        return make_api(url=f"sqlite:///{tmp_path / 'race.db'}")
    return make_api(url=request.getfixturevalue("pg_url"))


def test_racing_copies_of_one_request_record_it_once(any_db_api: Api) -> None:
    """GIVEN eight copies of one request sent at once (a device retrying eagerly), THEN one
    ticket is issued and every copy gets its reply."""
    api = any_db_api
    kiosk = {**api.device("k-tax", Role.KIOSK), "Idempotency-Key": "racing-0001"}
    start = threading.Barrier(8)
    replies: list[dict[str, object]] = []

    def send() -> None:
        start.wait()
        r = api.http.post(TICKETS, json={"service": "tax"}, headers=kiosk)
        replies.append({"status": r.status_code, **r.json()})

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(api, tickets) == 1
    assert {r["status"] for r in replies} == {201}
    assert {r["number"] for r in replies} == {"A001"}


def test_stored_fingerprints_cannot_be_matched_to_an_id_number(api: Api) -> None:
    """GIVEN a ticket request carrying an ID number and an idempotency key,
    WHEN the center stores the request's fingerprint for later retries,
    THEN it is keyed: the unkeyed digest of the very same request does not match it."""
    from starlette.requests import Request

    from center.api.idempotency import fingerprint
    from center.api.schemas import IssueTicketIn
    from center.db.auth_tables import idempotency_keys

    kiosk = {**api.device("k-id", Role.KIOSK), "Idempotency-Key": "kiosk-req-id-01"}
    body = {"service": "tax", "person": {"id_number": "11010519491231002X"}}
    assert api.http.post(TICKETS, json=body, headers=kiosk).status_code == 201
    with api.center.store.read() as conn:
        stored = conn.execute(select(idempotency_keys.c.fingerprint)).scalars().all()
    request = Request({"type": "http", "method": "POST", "path": TICKETS, "headers": []})
    model = IssueTicketIn.model_validate(body)
    key = api.hall.fingerprint_key
    assert key is not None
    assert stored == [fingerprint(request, model, key)]  # the same request, keyed: it matches
    assert stored != [fingerprint(request, model, None)]  # a bare digest an attacker could redo
