"""The principal cache: a token checked in the last few seconds costs no database read, and
what that allows is bounded (docs/api.md, "Authentication")."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from center.api.settings import ApiSettings
from center.auth.cache import PrincipalCache
from center.auth.devices import DeviceRegistry
from center.auth.roles import Principal, Role
from tests.api.conftest import Api


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _statements(api: Api) -> Callable[[], int]:
    """A counter of SQL statements the app's engine runs from now on."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(api.center.store.engine, "before_cursor_execute", count)
    return lambda: len(seen)


def test_the_cache_answers_within_its_time_then_forgets() -> None:
    tick = FakeMonotonic()
    cache = PrincipalCache(5.0, clock=tick, spread=0.0)
    who = Principal(Role.KIOSK, "k1", None)
    assert cache.get("hqd_abc") is None
    cache.put("hqd_abc", who)
    assert cache.get("hqd_abc") == who
    assert cache.get("hqd_abd") is None
    tick.now += 4.9
    assert cache.get("hqd_abc") == who
    tick.now += 0.2
    assert cache.get("hqd_abc") is None


def test_tokens_checked_together_do_not_expire_together() -> None:
    """GIVEN 1,000 tokens cached at the same moment (devices reconnecting after a restart)
    THEN none expires before half the cache time, all have by the full time, and in between
    they expire a few at a time rather than all at once."""
    import random

    tick = FakeMonotonic()
    cache = PrincipalCache(5.0, clock=tick, rng=random.Random(7).random)
    tokens = [f"hqd_{i}" for i in range(1000)]
    for i, token in enumerate(tokens):
        cache.put(token, Principal(Role.KIOSK, f"k{i}", None))

    def valid_after(seconds: float) -> int:
        tick.now = 1000.0 + seconds
        return sum(cache.get(t) is not None for t in tokens)

    assert valid_after(2.49) == 1000
    left = [valid_after(2.5 + 0.25 * step) for step in range(11)]
    assert left[-1] == 0
    assert all(a >= b for a, b in itertools.pairwise(left))
    assert max(a - b for a, b in itertools.pairwise(left)) < 200  # about 100 per step


def test_the_cache_keeps_no_token_and_stays_bounded() -> None:
    cache = PrincipalCache(5.0, max_entries=3, clock=FakeMonotonic())
    for i in range(10):
        cache.put(f"hqd_{i}", Principal(Role.KIOSK, f"k{i}", None))
    assert len(cache) <= 3
    assert not any(key.startswith("hqd_") for key in cache._entries)  # digests only
    assert cache.get("hqd_9") == Principal(Role.KIOSK, "k9", None)


def test_forget_drops_only_the_matching_principals() -> None:
    cache = PrincipalCache(5.0, clock=FakeMonotonic())
    cache.put("hqs_a", Principal(Role.STAFF, "1001", 1, 11))
    cache.put("hqs_b", Principal(Role.STAFF, "1002", 2, 12))
    cache.put("hqd_c", Principal(Role.KIOSK, "1001", None))
    assert cache.forget(lambda who: not who.is_device and who.name == "1001") == 1
    assert cache.get("hqs_a") is None
    assert cache.get("hqs_b") is not None and cache.get("hqd_c") is not None


def test_a_zero_time_turns_the_cache_off() -> None:
    cache = PrincipalCache(0.0, clock=FakeMonotonic())
    cache.put("hqd_abc", Principal(Role.KIOSK, "k1", None))
    assert cache.get("hqd_abc") is None


def test_a_cached_token_costs_no_statement(api: Api) -> None:
    headers = api.device("k-tax", Role.KIOSK)
    assert api.http.get("/api/v1/me", headers=headers).status_code == 200
    statements = _statements(api)
    for _ in range(3):
        assert api.http.get("/api/v1/me", headers=headers).status_code == 200
    assert statements() == 0


def test_a_revocation_in_another_process_takes_effect_within_the_cache_time(api: Api) -> None:
    """GIVEN a kiosk whose token this process has just checked WHEN another process (a
    registry over the same database, e.g. ``hallq device revoke``) revokes it THEN this
    process still admits it until the cache time is up, and refuses it from then on."""
    tick = FakeMonotonic()
    api.hall.principals = PrincipalCache(5.0, clock=tick)
    headers = api.device("k-tax", Role.KIOSK)
    assert api.http.get("/api/v1/me", headers=headers).status_code == 200
    elsewhere = DeviceRegistry(api.center.store, api.clock)
    elsewhere.revoke("k-tax")
    assert api.http.get("/api/v1/me", headers=headers).status_code == 200
    tick.now += 5.0
    assert api.http.get("/api/v1/me", headers=headers).status_code == 401


def test_without_the_cache_a_revocation_elsewhere_is_seen_at_once(make_api: Any) -> None:
    api = make_api(settings=ApiSettings(auth_cache_seconds=0))
    headers = api.device("k-tax", Role.KIOSK)
    assert api.http.get("/api/v1/me", headers=headers).status_code == 200
    DeviceRegistry(api.center.store, api.clock).revoke("k-tax")
    assert api.http.get("/api/v1/me", headers=headers).status_code == 401


def test_a_cached_staff_session_still_expires_on_the_halls_clock(api: Api) -> None:
    headers = api.login("1001", 1)
    assert api.http.get("/api/v1/me", headers=headers).status_code == 200
    api.clock.advance(12 * 3600 + 1)  # the session lasts 12 hours; the cache time has not passed
    assert api.http.get("/api/v1/me", headers=headers).status_code == 401


def test_a_staff_member_taken_over_elsewhere_cannot_act_even_while_cached(api: Api) -> None:
    """The cache may still admit the old session's token, but every window action checks the
    duty roster in its own transaction: the old holder is refused at once."""
    tick = FakeMonotonic()
    api.hall.principals = PrincipalCache(5.0, clock=tick)
    old = api.login("1001", 1)
    assert (
        api.http.post("/api/v1/staff/pause", json={"reason": "休息"}, headers=old).status_code
        == 200
    )
    assert api.http.post("/api/v1/staff/resume", headers=old).status_code == 200
    # Another process ends the session and hands the window over (as a takeover there does).
    from center.auth.staff import StaffAuth

    auth = StaffAuth(api.center.ctx.cfg, api.center.store, api.clock)
    with api.center.store.write() as tx:
        auth.end_sessions(tx, window=1)
    api.center.posts.handover(1, "1002", "takeover at log-in")
    r = api.http.post("/api/v1/staff/call-next", headers=old)
    assert r.status_code == 403, r.text
    assert "held by staff 1002" in r.json()["message"]


@pytest.mark.postgres
def test_on_postgresql_a_token_not_cached_is_looked_up_on_the_loop(
    make_api: Any, pg_url: str
) -> None:
    """GIVEN a center on PostgreSQL WHEN a request brings a token the cache does not hold
    THEN its lookup runs as a greenlet on the event loop, not on a worker thread (which then
    waits for the GIL the loop holds), and the request is answered."""
    from sqlalchemy.util.concurrency import in_greenlet

    api = make_api(url=pg_url)
    hall = api.app.state.hall
    seen: list[bool] = []
    lookup = hall.authenticate

    def recording(token: str) -> Principal:
        seen.append(in_greenlet())
        return lookup(token)

    hall.authenticate = recording
    kiosk = api.device("k-loop", Role.KIOSK)
    r = api.http.get("/api/v1/me", headers=kiosk)
    assert r.status_code == 200, r.text
    assert seen == [True]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_api(request: pytest.FixtureRequest, make_api: Any) -> Api:
    if request.param == "sqlite":
        return make_api()
    return make_api(url=request.getfixturevalue("pg_url"))


def test_a_staff_member_taken_over_is_refused_before_anything_else_is_checked(
    db_api: Api,
) -> None:
    """GIVEN a session whose window was handed to someone else (the token still cached)
    WHEN it calls, finishes, calls a number that does not exist or requeues a waiting ticket
    THEN every one is a 403 naming the new holder: the duty check comes before the action's
    own checks (for call-next and finish it runs on the row their first statement locks),
    and nothing is recorded."""
    api = db_api
    api.hall.principals = PrincipalCache(5.0, clock=FakeMonotonic())
    old = api.login("1001", 1)
    assert api.http.get("/api/v1/me", headers=old).status_code == 200  # cached now
    issued = api.center.tickets.issue("tax")
    from center.auth.staff import StaffAuth

    auth = StaffAuth(api.center.ctx.cfg, api.center.store, api.clock)
    with api.center.store.write() as tx:
        auth.end_sessions(tx, window=1)
    api.center.posts.handover(1, "1002", "takeover at log-in")
    seq = api.center.store.last_seq()
    for path, body in [
        ("call-next", None),
        ("finish", None),
        ("call-number", {"number": "A999"}),
        ("requeue", {"number": issued.display}),
    ]:
        r = api.http.post(f"/api/v1/staff/{path}", json=body, headers=old)
        assert r.status_code == 403, (path, r.text)
        assert "held by staff 1002" in r.json()["message"]
    assert api.center.store.last_seq() == seq
