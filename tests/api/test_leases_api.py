"""Number leases at the API: ranges skipped by online issuing, syncing refused outside them."""

from __future__ import annotations

from typing import Any

import pytest

from center.auth.roles import Role
from tests.api.conftest import Api

LEASES = "/api/v1/kiosk/leases"
SYNC = "/api/v1/kiosk/leases/sync"
AT = "2026-11-23T08:59:30+08:00"


@pytest.fixture
def kiosk(api: Api) -> dict[str, str]:
    return api.device("k-any", Role.KIOSK)


def lease(api: Api, headers: dict[str, str], count: int = 3) -> dict[str, Any]:
    r = api.http.post(LEASES, json={"service": "tax", "count": count}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def sync(api: Api, headers: dict[str, str], *numbers: int, at: str = AT) -> Any:
    body = {"tickets": [{"service": "tax", "number": n, "issued_at": at} for n in numbers]}
    return api.http.post(SYNC, json=body, headers=headers)


def test_online_numbering_skips_leased_ranges(api: Api, kiosk: dict[str, str]) -> None:
    api.center.tickets.issue("tax")
    got = lease(api, kiosk)
    assert (got["first"], got["last"], got["prefix"], got["digits"]) == (2, 4, "A", 3)
    assert got["expires_at"] == "2026-11-23T19:00:00Z"  # 03:00 the next morning in Shanghai
    assert api.center.tickets.issue("tax").display == "A005"
    assert lease(api, kiosk, 2)["first"] == 6


def test_synced_tickets_keep_their_take_time_in_the_queue(api: Api, kiosk: dict[str, str]) -> None:
    got = lease(api, kiosk)
    api.clock.advance(60)
    api.center.tickets.issue("tax")  # A004, taken after the offline ticket below
    r = sync(api, kiosk, got["first"])
    assert r.status_code == 200
    assert r.json()["tickets"][0] | {"id": 0} == {
        "id": 0,
        "number": "A001",
        "service": "tax",
        "issued_at": "2026-11-23T00:59:30Z",
        "already": False,
    }
    api.center.posts.login(1, "1001")
    called = api.center.calls.call_next(1)
    assert called is not None and called.display == "A001"


def test_a_repeated_sync_is_reported_not_recorded_again(api: Api, kiosk: dict[str, str]) -> None:
    got = lease(api, kiosk)
    sync(api, kiosk, got["first"])
    again = sync(api, kiosk, got["first"], got["first"] + 1).json()["tickets"]
    assert [(t["number"], t["already"]) for t in again] == [("A001", True), ("A002", False)]


def test_numbers_outside_the_kiosks_leases_are_refused(api: Api, kiosk: dict[str, str]) -> None:
    got = lease(api, kiosk)
    other = api.device("k-other", Role.KIOSK)
    r = sync(api, other, got["first"])
    assert r.status_code == 409 and r.json()["zh"] == "A001号不在本机的离线号段内"
    sync(api, kiosk, got["first"])
    r = sync(api, kiosk, got["first"], at="2026-11-23T09:00:00+08:00")  # same number, new time
    assert r.status_code == 409 and "already used" in r.json()["message"]


def test_tickets_of_an_ended_hall_day_are_refused(api: Api, kiosk: dict[str, str]) -> None:
    got = lease(api, kiosk)
    api.clock.advance(24 * 3600)
    r = sync(api, kiosk, got["first"])
    assert r.status_code == 409 and "has ended" in r.json()["message"]


def test_no_lease_for_services_that_need_an_id_card(api: Api, kiosk: dict[str, str]) -> None:
    r = api.http.post(LEASES, json={"service": "hukou"}, headers=kiosk)
    assert r.status_code == 409 and r.json()["zh"] == "此业务需刷身份证，不能离线取号"


def test_a_lease_stops_at_the_daily_maximum(api: Api, kiosk: dict[str, str]) -> None:
    r = api.http.post(LEASES, json={"service": "estate", "count": 4}, headers=kiosk)
    assert (r.json()["first"], r.json()["last"]) == (1, 4)
    r = api.http.post(LEASES, json={"service": "estate", "count": 4}, headers=kiosk)
    assert (r.json()["first"], r.json()["last"]) == (5, 5)  # daily_max is 5
    r = api.http.post(LEASES, json={"service": "estate", "count": 1}, headers=kiosk)
    assert r.status_code == 409 and r.json()["error"] == "limit_reached"
