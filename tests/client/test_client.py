"""The client's retry rules, against a scripted transport (no network, no sleeping)."""

from __future__ import annotations

import httpx
import pytest

from devices.client import (
    CenterClient,
    CenterRefused,
    CenterUnreachable,
    NotAuthorized,
    RetryPolicy,
)

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
