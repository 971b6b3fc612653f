"""The client's retry rules, against a scripted transport (no network, no sleeping)."""

from __future__ import annotations

import json

import httpx
import pytest

from devices.client import (
    CenterClient,
    CenterRefused,
    CenterUnreachable,
    NotAuthorized,
    RetryPolicy,
)
from devices.client.client import Person

TOKEN = "hqd_test-token"


def scripted(*replies: int | Exception) -> tuple[CenterClient, list[httpx.Request], list[float]]:
    """A client whose transport answers with ``replies`` in turn (a status or an exception)."""
    seen: list[httpx.Request] = []
    waits: list[float] = []
    queue = list(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = queue.pop(0)
        if isinstance(reply, Exception):
            raise reply
        body = {"ok": True} if reply < 400 else {"error": "refused", "message": "no", "zh": "不"}
        return httpx.Response(reply, json=body)

    client = CenterClient(
        "http://center.test",
        TOKEN,
        retry=RetryPolicy(attempts=4, base_seconds=0.1, cap_seconds=0.3),
        transport=httpx.MockTransport(handler),
        sleep=waits.append,
    )
    return client, seen, waits


def connect_error() -> Exception:
    return httpx.ConnectError("connection refused")


def test_connection_errors_and_5xx_are_retried_with_one_idempotency_key() -> None:
    client, seen, waits = scripted(connect_error(), 503, 200)
    assert client.post("/api/v1/devices/fault", {"code": "x"}) == {"ok": True}
    assert len(seen) == 3
    assert len({r.headers["Idempotency-Key"] for r in seen}) == 1
    assert len(waits) == 2 and all(0 <= w <= 0.3 for w in waits)


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_4xx_is_never_retried(status: int) -> None:
    client, seen, waits = scripted(status, 200)
    with pytest.raises(CenterRefused) as refused:
        client.post("/api/v1/kiosk/tickets", {"service": "tax"})
    assert refused.value.status == status and refused.value.zh == "不"
    assert len(seen) == 1 and waits == []


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_not_retried(status: int) -> None:
    client, seen, _ = scripted(status)
    with pytest.raises(NotAuthorized):
        client.hall_status()
    assert len(seen) == 1


def test_gives_up_after_the_last_attempt() -> None:
    client, seen, waits = scripted(*[connect_error()] * 4)
    with pytest.raises(CenterUnreachable):
        client.post("/api/v1/devices/fault", {"code": "x"})
    assert len(seen) == 4 and len(waits) == 3


def test_the_token_travels_only_in_the_authorization_header() -> None:
    client, seen, _ = scripted(200)
    client.request("GET", "/api/v1/me")
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(seen[0].url)


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(attempts=10, base_seconds=1.0, cap_seconds=4.0)
    for n in range(8):
        assert all(0 <= policy.delay(n) <= min(4.0, 2.0**n) for _ in range(50))


def test_check_in_person_sends_only_the_id_number_in_the_body() -> None:
    """The ID number goes in the JSON body (never the URL); the name is not sent."""
    seen: list[httpx.Request] = []
    ticket = {
        "number": "C001", "service": "estate", "service_name": "不动产登记",
        "issued_at": "2026-11-23T09:30:00+08:00", "ahead": 0, "wait_seconds": None,
    }  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=ticket)

    client = CenterClient("http://center.test", TOKEN, transport=httpx.MockTransport(handler))
    got = client.check_in_person(Person("11010519491231002X", "张三"))
    assert got.number == "C001" and got.service == "estate"
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/api/v1/kiosk/check-in/person"
    assert "11010519491231002X" not in str(request.url)
    assert json.loads(request.content) == {"person": {"id_number": "11010519491231002X"}}
    assert request.headers["Idempotency-Key"]
