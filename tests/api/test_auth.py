"""Who may call what: 401 without a valid credential, 403 for the wrong role or window."""

from __future__ import annotations

from typing import Any

import pytest

from center.api.app import openapi_document
from center.auth.roles import Role
from tests.api.conftest import PIN, Api

# The rating page is public by design: its token (in the body) is the credential.
PUBLIC = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/staff/login"),
    ("POST", "/api/v1/rate"),
    ("POST", "/api/v1/rate/visit"),
}
PROTECTED = sorted(
    (method.upper(), path)
    for path, methods in openapi_document()["paths"].items()
    for method in methods
    if (method.upper(), path) not in PUBLIC
)

# Minimal valid request per endpoint, so that only the caller decides the outcome.
BODIES: dict[str, Any] = {
    "/api/v1/kiosk/tickets": {"service": "tax"},
    "/api/v1/kiosk/check-in": {"code": "abcdefgh12"},
    "/api/v1/kiosk/check-in/person": {"person": {"id_number": "11010519491231002X"}},
    "/api/v1/kiosk/leases": {"service": "tax", "count": 2},
    "/api/v1/kiosk/leases/sync": {
        "tickets": [{"service": "tax", "number": 1, "issued_at": "2026-11-23T09:00:00+08:00"}]
    },
    "/api/v1/staff/call-number": {"number": "A001"},
    "/api/v1/staff/requeue": {"number": "A001"},
    "/api/v1/staff/transfer": {"to_service": "hukou"},
    "/api/v1/staff/pause": {"reason": "开会"},
    "/api/v1/staff/cases": {"kind": "immediate"},
    "/api/v1/windows/{window}/rating": {"level": 5},
    "/api/v1/windows/{window}/keys": {"key": "next"},
    "/api/v1/devices/fault": {"code": "printer.paper_out"},
    "/api/v1/devices/recovery": {"code": "printer.paper_out"},
}
STAFF = {Role.STAFF, Role.SUPERVISOR, Role.ADMIN}
DEVICES = {Role.KIOSK, Role.DISPLAY, Role.EVALUATOR, Role.KEYPAD}
ALLOWED: list[tuple[str, set[Role]]] = [
    ("/api/v1/kiosk/", {Role.KIOSK}),
    ("/api/v1/staff/", STAFF),
    ("/api/v1/windows/{window}/rating", {Role.EVALUATOR}),
    ("/api/v1/windows/{window}/keys", {Role.KEYPAD}),
    ("/api/v1/devices/", DEVICES),
    ("/api/v1/display/", {Role.DISPLAY, Role.SUPERVISOR, Role.ADMIN}),
    ("/api/v1/supervisor/", {Role.SUPERVISOR, Role.ADMIN}),
    ("/api/v1/", set(Role)),
]


def call(api: Api, method: str, path: str, headers: dict[str, str]) -> int:
    url = path.replace("{window}", "1")
    if method == "GET":
        return api.http.get(url, headers=headers).status_code
    return api.http.post(url, json=BODIES.get(path), headers=headers).status_code


@pytest.fixture
def callers(api: Api) -> dict[Role, dict[str, str]]:
    return {
        Role.KIOSK: api.device("k-tax", Role.KIOSK),
        Role.DISPLAY: api.device("board", Role.DISPLAY),
        Role.EVALUATOR: api.device("eval-1", Role.EVALUATOR, 1),
        Role.KEYPAD: api.device("keys-1", Role.KEYPAD, 1),
        Role.STAFF: api.login("1001", 1),
        Role.SUPERVISOR: api.login("8001"),
        Role.ADMIN: api.login("9001", 2),
    }


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_endpoint_needs_a_valid_bearer_token(api: Api, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer hqd_forged"}, {"Authorization": "Basic eDp5"}):
        url = path.replace("{window}", "1")
        r = api.http.request(method, url, json=BODIES.get(path), headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert r.json()["error"] == "unauthorized"


def test_health_and_the_openapi_document_are_public(api: Api) -> None:
    assert api.http.get("/api/v1/health").json() == {"status": "ok"}
    assert api.http.get("/openapi.json").status_code == 200


def test_each_role_reaches_exactly_its_endpoints(
    api: Api, callers: dict[Role, dict[str, str]]
) -> None:
    wrong = []
    logout = ("POST", "/api/v1/staff/logout")  # last: it ends the sessions
    for method, path in [*(op for op in PROTECTED if op != logout), logout]:
        allowed = next(roles for prefix, roles in ALLOWED if path.startswith(prefix))
        for role, headers in callers.items():
            status = call(api, method, path, headers)
            if (status == 403) == (role in allowed) or status == 401:
                wrong.append(f"{role} {method} {path}: {status}")
    assert not wrong, "\n".join(wrong)


def test_a_kiosk_cannot_call_tickets(api: Api, callers: dict[Role, dict[str, str]]) -> None:
    r = api.http.post("/api/v1/staff/call-next", headers=callers[Role.KIOSK])
    assert r.status_code == 403
    assert r.json() == {
        "error": "forbidden",
        "message": "a kiosk may not do this (allowed: admin, staff, supervisor)",
        "zh": "无权进行此操作",
    }


def test_an_evaluator_rates_only_for_its_own_window(api: Api) -> None:
    api.center.posts.login(1, "1001")
    api.center.tickets.issue("tax")
    api.center.calls.call_next(1)
    api.center.calls.finish(1)
    other = api.device("eval-2", Role.EVALUATOR, 2)
    own = api.device("eval-1", Role.EVALUATOR, 1)
    r = api.http.post("/api/v1/windows/1/rating", json={"level": 1}, headers=other)
    assert r.status_code == 403, r.text
    assert "window 2, not window 1" in r.json()["message"]
    r = api.http.post("/api/v1/windows/1/rating", json={"level": 5}, headers=own)
    assert r.status_code == 200 and r.json()["label"] == "非常满意"


def test_a_keypad_acts_only_for_its_own_window(api: Api) -> None:
    keys = api.device("keys-2", Role.KEYPAD, 2)
    r = api.http.post("/api/v1/windows/1/keys", json={"key": "next"}, headers=keys)
    assert r.status_code == 403


def test_a_revoked_device_token_stops_working(api: Api) -> None:
    headers = api.device("k-tax", Role.KIOSK)
    assert api.http.get("/api/v1/me", headers=headers).status_code == 200
    api.hall.devices.revoke("k-tax")
    assert api.http.get("/api/v1/me", headers=headers).status_code == 401


def test_a_rotated_device_token_replaces_the_old_one(api: Api) -> None:
    old = api.device("k-tax", Role.KIOSK)
    new = api.hall.devices.add("k-tax", Role.KIOSK, rotate=True)
    assert api.http.get("/api/v1/me", headers=old).status_code == 401
    me = api.http.get("/api/v1/me", headers={"Authorization": f"Bearer {new}"}).json()
    assert me == {"role": "kiosk", "name": "k-tax", "window": None}


def test_sessions_expire_and_end_at_logout(api: Api) -> None:
    first = api.login("1001", 1)
    assert api.http.get("/api/v1/me", headers=first).json()["window"] == 1
    api.clock.advance(13 * 3600)
    assert api.http.get("/api/v1/me", headers=first).status_code == 401
    second = api.login("1001", 1)
    assert api.http.post("/api/v1/staff/logout", headers=second).status_code == 200
    assert api.http.get("/api/v1/me", headers=second).status_code == 401
    assert api.center.status.hall().windows[0].status == "closed"


def test_a_takeover_ends_the_previous_session_at_the_window(api: Api) -> None:
    a = api.login("1001", 1)
    r = api.http.post("/api/v1/staff/login", json={"staff": "1002", "pin": PIN, "window": 1})
    assert r.status_code == 409 and "handover" in r.json()["message"]
    b = api.login("1002", 1, takeover=True)
    assert api.http.post("/api/v1/staff/call-next", headers=a).status_code == 401
    assert api.http.post("/api/v1/staff/call-next", headers=b).status_code == 200
    window = api.center.status.hall().windows[0]
    assert (window.staff, window.covering_for) == ("1002", "1001")


def test_staff_log_in_only_at_windows_they_hold_a_post_at(api: Api) -> None:
    r = api.http.post("/api/v1/staff/login", json={"staff": "1001", "pin": PIN, "window": 3})
    assert r.status_code == 403 and r.json()["zh"] == "您不在本窗口的A/B岗名单中"


def test_the_staff_role_must_log_in_at_a_window(api: Api) -> None:
    r = api.http.post("/api/v1/staff/login", json={"staff": "1001", "pin": PIN})
    assert r.status_code == 422
    assert r.json()["fields"] == [{"field": "body.window", "problem": "is required"}]


def test_a_supervisor_without_a_window_cannot_call(api: Api) -> None:
    r = api.http.post("/api/v1/staff/call-next", headers=api.login("8001"))
    assert r.status_code == 409 and r.json()["zh"] == "请先在窗口登录"
