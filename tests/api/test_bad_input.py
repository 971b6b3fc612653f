"""Bad input: a 4xx whose message names the field and the problem; never a 500 or a partial write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from center.auth.roles import Role
from center.db.tables import tickets
from tests.api.conftest import Api

TICKETS = "/api/v1/kiosk/tickets"


@pytest.fixture
def kiosk(api: Api) -> dict[str, str]:
    return api.device("k-tax", Role.KIOSK)


def ticket_count(api: Api) -> int:
    with api.center.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(tickets)).scalar_one())


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"service": "tax", "colour": "red"}, "body.colour", "is not a known field"),
        ({"service": 7}, "body.service", "input should be a valid string"),
        ({}, "body.service", "is required"),
        ({"service": "tax\x00"}, "body.service", "has characters or a form that is not allowed"),
        (
            {"service": "tax", "person": {"id_number": "1101", "name": "张三"}},
            "body.person.id_number",
            "has characters or a form that is not allowed",
        ),
        ({"service": "tax", "priority_class": ["elderly"]}, "body.priority_class", "valid string"),
        ([{"service": "tax"}], "body", "valid dictionary"),
    ],
)
def test_each_problem_names_its_field(
    api: Api, kiosk: dict[str, str], body: Any, field: str, problem: str
) -> None:
    r = api.http.post(TICKETS, json=body, headers=kiosk)
    assert r.status_code == 422, r.text
    reply = r.json()
    assert reply["error"] == "invalid_request" and reply["zh"] == "提交的内容有误"
    assert any(f["field"] == field and problem in f["problem"] for f in reply["fields"]), reply
    assert field in reply["message"]
    assert ticket_count(api) == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/windows/1/rating", {"level": 6}, "body.level"),
        ("/api/v1/windows/1/rating", {"level": "5"}, "body.level"),
        ("/api/v1/windows/1/rating", {"level": 2**70}, "body.level"),
        ("/api/v1/windows/1000/rating", {"level": 5}, "path.window"),
    ],
)
def test_out_of_range_values_are_refused(
    api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    evaluator = api.device("eval-1", Role.EVALUATOR, 1)
    r = api.http.post(path, json=body, headers=evaluator)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == field, r.text


def test_malformed_json_says_where(api: Api, kiosk: dict[str, str]) -> None:
    r = api.http.post(
        TICKETS, content=b'{"service": tax}', headers={**kiosk, "content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["message"].startswith("body (at character 12): is not valid JSON")


def test_a_body_that_is_not_json_is_refused(api: Api, kiosk: dict[str, str]) -> None:
    r = api.http.post(
        TICKETS, content=b"service=tax", headers={**kiosk, "content-type": "text/plain"}
    )
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body"


def test_bad_utf8_is_a_400(api: Api, kiosk: dict[str, str]) -> None:
    r = api.http.post(
        TICKETS,
        content=b'{"service": "\xff"}',
        headers={**kiosk, "content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"


def test_oversized_bodies_are_refused_before_parsing(api: Api, kiosk: dict[str, str]) -> None:
    big = {"service": "tax", "pad": "x" * 70_000}
    r = api.http.post(TICKETS, json=big, headers=kiosk)
    assert r.status_code == 413 and r.json()["error"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"service": "tax", "pad": "'
        for _ in range(70):
            yield b"x" * 1000
        yield b'"}'

    r = api.http.post(
        TICKETS, content=chunks(), headers={**kiosk, "content-type": "application/json"}
    )
    assert r.status_code == 413
    assert ticket_count(api) == 0


def test_bad_query_parameters_name_the_parameter(api: Api) -> None:
    supervisor = api.login("8001")
    r = api.http.get("/api/v1/supervisor/tickets?limit=0&state=lost", headers=supervisor)
    assert r.status_code == 422
    assert {f["field"] for f in r.json()["fields"]} == {"query.limit", "query.state"}


def test_a_bad_idempotency_key_names_the_header(api: Api, kiosk: dict[str, str]) -> None:
    r = api.http.post(TICKETS, json={"service": "tax"}, headers={**kiosk, "Idempotency-Key": "x"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "header.Idempotency-Key"


def test_transfer_needs_exactly_one_target(api: Api) -> None:
    staff = api.login("1001", 1)
    r = api.http.post(
        "/api/v1/staff/transfer", json={"to_service": "tax", "to_window": 2}, headers=staff
    )
    assert r.status_code == 422
    assert "give exactly one of to_service or to_window" in r.json()["message"]


def test_an_offline_batch_with_one_bad_ticket_records_nothing(
    api: Api, kiosk: dict[str, str]
) -> None:
    lease = api.http.post(
        "/api/v1/kiosk/leases", json={"service": "tax", "count": 2}, headers=kiosk
    ).json()
    at = "2026-11-23T08:59:00+08:00"
    batch = [
        {"service": "tax", "number": lease["first"], "issued_at": at},
        {"service": "tax", "number": lease["last"] + 1, "issued_at": at},
    ]
    r = api.http.post("/api/v1/kiosk/leases/sync", json={"tickets": batch}, headers=kiosk)
    assert r.status_code == 409
    assert r.json()["message"] == "tickets[1]: A003 of 2026-11-23 is not in a lease of this kiosk"
    assert ticket_count(api) == 0


def test_unknown_paths_and_methods_answer_in_the_same_shape(api: Api) -> None:
    assert api.http.get("/api/v1/nothing").json()["error"] == "not_found"
    r = api.http.get("/api/v1/kiosk/tickets")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
