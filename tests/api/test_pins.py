"""Wrong PINs: a growing delay from the third, a lock at the fifth; shared through the database."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from tests.api.conftest import PIN, Api

LOGIN = "/api/v1/staff/login"


def attempt(api: Api, pin: str, staff: str = "1001") -> tuple[int, dict[str, str], str]:
    r = api.http.post(LOGIN, json={"staff": staff, "pin": pin, "window": 1})
    return r.status_code, dict(r.headers), r.json().get("error", "")


def test_wrong_pins_are_slowed_then_locked(api: Api) -> None:
    for _ in range(3):
        assert attempt(api, "0000")[0] == 401
    status, headers, error = attempt(api, PIN)  # even the right PIN must wait now
    assert (status, error, headers["retry-after"]) == (429, "too_many_attempts", "2")
    api.clock.advance(2)
    assert attempt(api, "0000")[0] == 401  # 4th failure
    status, headers, _ = attempt(api, "0000")
    assert (status, headers["retry-after"]) == (429, "4")  # the delay doubles
    api.clock.advance(4)
    assert attempt(api, "0000")[0] == 401  # 5th failure: locked
    status, headers, _ = attempt(api, PIN)
    assert (status, headers["retry-after"]) == (429, "900")
    api.clock.advance(15 * 60)
    assert attempt(api, PIN)[0] == 200


def test_a_right_pin_clears_the_count(api: Api) -> None:
    for _ in range(2):
        assert attempt(api, "0000")[0] == 401
    assert attempt(api, PIN)[0] == 200
    for _ in range(2):
        assert attempt(api, "0000")[0] == 401
    assert attempt(api, PIN)[0] == 200


def test_every_center_process_sees_the_same_count(api: Api, make_api: Callable[..., Api]) -> None:
    other = make_api()  # a second process on the same database
    for _ in range(3):
        assert attempt(api, "0000")[0] == 401
    assert attempt(other, PIN)[0] == 429


def test_unknown_staff_and_wrong_pin_look_the_same(api: Api) -> None:
    a = api.http.post(LOGIN, json={"staff": "4242", "pin": PIN, "window": 1})
    b = api.http.post(LOGIN, json={"staff": "1001", "pin": "0000", "window": 1})
    assert a.status_code == b.status_code == 401
    assert (
        a.json()
        == b.json()
        == {
            "error": "unauthorized",
            "message": "wrong staff number or PIN",
            "zh": "工号或密码错误",
        }
    )


def test_pins_and_tokens_never_reach_the_log(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(5):
        assert attempt(api, "9753")[0] == 401
        api.clock.advance(10)
    api.clock.advance(15 * 60)
    r = api.http.post(LOGIN, json={"staff": "1001", "pin": PIN, "window": 1})
    token = r.json()["token"]
    api.http.post("/api/v1/staff/call-next", headers={"Authorization": f"Bearer {token}"})
    r = api.http.post(LOGIN, json={"staff": "1001", "pin": "\x01" + PIN, "window": 1})
    assert r.status_code == 422 and PIN not in r.text
    assert "locked" in caplog.text  # something is logged, but not these:
    for secret in ("9753", PIN, token):
        assert secret not in caplog.text
