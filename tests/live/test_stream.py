"""The event stream end to end through FastAPI's TestClient: subscribe, replay, live, resume."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from center.api import events as api
from center.clock import ManualClock
from center.engine.center import Center
from center.live.hub import EventHub
from config.schema import HallConfig
from tests.center.conftest import MONDAY_9, hall_dict
from tests.live.conftest import commit

TOKEN = "hqd_display-token"
STREAM = "/api/v1/events/stream"
FAST = api.StreamSettings(hello_timeout=0.3, heartbeat=0.1)


@contextmanager
def running(url: str, *, queue_size: int = 1000, poll_seconds: float = 0.2) -> Iterator[TestClient]:
    """A minimal app on a center: the events router (via ``attach``) and a fake authenticate."""
    center = Center.open(HallConfig.model_validate(hall_dict()), url, clock=ManualClock(MONDAY_9))
    app = FastAPI()
    app.state.center = center
    api.attach(
        app,
        center.store,
        lambda token: "display" if token == TOKEN else None,
        FAST,
        queue_size=queue_size,
        poll_seconds=poll_seconds,
    )
    try:
        with TestClient(app) as client:
            yield client
    finally:
        center.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with running(f"sqlite:///{tmp_path / 'hall.db'}") as c:
        yield c


def center_of(client: TestClient) -> Center:
    center: Center = client.app.state.center  # type: ignore[attr-defined]
    return center


@contextmanager
def subscribe(client: TestClient, **hello: Any) -> Iterator[WebSocketTestSession]:
    with client.websocket_connect(STREAM) as ws:
        ws.send_json({"token": TOKEN, **hello})
        yield ws


def receive_until(
    ws: WebSocketTestSession, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 5.0
) -> list[dict[str, Any]]:
    """Messages (heartbeats left out) until ``done(messages)``; heartbeats keep this bounded."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = ws.receive_json()
        if message["type"] != "heartbeat":
            got.append(message)
        if done(got):
            return got
    raise AssertionError(f"timed out; received {got}")


def until_live(messages: list[dict[str, Any]]) -> bool:
    return bool(messages) and messages[-1]["type"] == "live"


def event_seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [m["seq"] for m in messages if m["type"] == "event"]


def closed_with(ws: WebSocketTestSession) -> tuple[int, str]:
    with pytest.raises(WebSocketDisconnect) as info:
        for _ in range(100):
            ws.receive_json()
    return info.value.code, info.value.reason


def test_a_display_replays_then_sees_a_call_with_number_and_window(client: TestClient) -> None:
    center = center_of(client)
    center.posts.login(1, "1001")
    ticket = center.tickets.issue("tax")
    with subscribe(client, since=0) as ws:
        hello, *replayed = receive_until(ws, until_live)
        assert hello == {"type": "hello", "since": 0, "head": center.store.last_seq()}
        assert [m["kind"] for m in replayed[:-1]] == ["window.opened", "ticket.issued"]
        assert replayed[-1] == {"type": "live", "seq": replayed[-2]["seq"]}

        center.calls.call_next(1)
        (called,) = receive_until(ws, lambda m: len(m) == 1)
        assert called["kind"] == "ticket.called"
        assert called["window"] == 1 and called["ticket_id"] == ticket.id
        assert called["data"]["number"] == "A001" and called["data"]["service"] == "tax"
        assert called["seq"] == replayed[-2]["seq"] + 1
        assert called["at"] == "2026-11-23T01:00:00+00:00" and called["hall_day"] == "2026-11-23"


def test_reconnecting_with_the_last_seq_gets_exactly_what_was_missed(client: TestClient) -> None:
    center = center_of(client)
    center.posts.login(1, "1001")
    with subscribe(client, since=0) as ws:
        first = event_seqs(receive_until(ws, until_live))
    for _ in range(3):
        center.tickets.issue("tax")
    center.calls.call_next(1)
    with subscribe(client, since=first[-1]) as ws:
        hello, *again = receive_until(ws, until_live)
        assert hello["since"] == first[-1]
        missed = event_seqs(again)
        assert missed == list(range(first[-1] + 1, center.store.last_seq() + 1))
        assert [m["kind"] for m in again[:-1]] == ["ticket.issued"] * 3 + ["ticket.called"]
        center.calls.finish(1)
        done, invited = receive_until(ws, lambda m: len(m) == 2)
        assert (done["kind"], invited["kind"]) == ("ticket.done", "evaluation.invited")
        assert (done["seq"], invited["seq"]) == (missed[-1] + 1, missed[-1] + 2)
        assert invited["window"] == 1 and invited["data"]["number"] == "A001"


def test_filters_by_kind_and_window_and_heartbeats_carry_the_position(client: TestClient) -> None:
    center = center_of(client)
    for window, staff in ((1, "1001"), (2, "1003")):
        center.posts.login(window, staff)
    center.tickets.issue("tax")
    center.tickets.issue("tax")
    with subscribe(client, since=0, kinds=["ticket.called"], window=2) as ws:
        receive_until(ws, until_live)
        center.calls.call_next(1)
        center.calls.call_next(2)
        (called,) = receive_until(ws, lambda m: len(m) == 1)
        assert (called["kind"], called["window"], called["data"]["number"]) == (
            "ticket.called",
            2,
            "A002",
        )
        center.calls.finish(2)  # filtered out, but the position moves past it
        last = center.store.last_seq()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = ws.receive_json()
            assert message["type"] == "heartbeat"
            if message["seq"] == last:
                break
        else:
            raise AssertionError("no heartbeat reached the newest seq")


def test_without_since_only_new_events_arrive(client: TestClient) -> None:
    center = center_of(client)
    center.tickets.issue("tax")
    with subscribe(client) as ws:
        hello, live = receive_until(ws, until_live)
        assert hello["since"] == center.store.last_seq() == live["seq"]
        issued = center.tickets.issue("estate")
        (event,) = receive_until(ws, lambda m: len(m) == 1)
        assert event["ticket_id"] == issued.id


@pytest.mark.parametrize(
    ("hello", "code"),
    [
        ({"token": "wrong"}, api.CLOSE_UNAUTHORIZED),
        ({}, api.CLOSE_UNAUTHORIZED),
        ({"token": TOKEN, "since": -1}, api.CLOSE_BAD_HELLO),
        ({"token": TOKEN, "since": "5"}, api.CLOSE_BAD_HELLO),
        ({"token": TOKEN, "kinds": [""]}, api.CLOSE_BAD_HELLO),
        ({"token": TOKEN, "window": [0]}, api.CLOSE_BAD_HELLO),
        ({"token": TOKEN, "window": True}, api.CLOSE_BAD_HELLO),
        (["not", "an", "object"], api.CLOSE_BAD_HELLO),
    ],
)
def test_bad_subscriptions_are_closed_with_a_code(
    client: TestClient, hello: Any, code: int
) -> None:
    with client.websocket_connect(STREAM) as ws:
        ws.send_json(hello)
        assert closed_with(ws)[0] == code


def test_a_silent_connection_is_closed_after_the_hello_timeout(client: TestClient) -> None:
    with client.websocket_connect(STREAM) as ws:
        assert closed_with(ws)[0] == api.CLOSE_HELLO_TIMEOUT


def test_the_token_may_come_in_an_authorization_header(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with client.websocket_connect(STREAM, headers=headers) as ws:
        ws.send_json({"since": 0})
        assert ws.receive_json()["type"] == "hello"


def test_a_subscriber_that_falls_behind_is_told_to_resync_and_loses_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    with running(url, queue_size=1, poll_seconds=30) as client:
        center = center_of(client)
        hub: EventHub = client.app.state.event_hub  # type: ignore[attr-defined]
        with subscribe(client) as ws:
            receive_until(ws, until_live)
            # Commits through another center: the hub does not hear of them by itself.
            writer = Center.open(center.ctx.cfg, url, clock=ManualClock(MONDAY_9))
            try:
                writer.tickets.issue("tax")
                writer.tickets.issue("tax")
                # The stream's sender cannot take the first event before the second is queued.
                with hub.lock:
                    hub._publish_locked(center.store.events_after(hub._head, 1))
                    hub._publish_locked(center.store.events_after(hub._head, 1))
            finally:
                writer.close()
            code, reason = closed_with(ws)
            assert code == api.CLOSE_RESYNC
            since = int(reason.rpartition("since=")[2])
        with subscribe(client, since=since) as ws:
            got = event_seqs(receive_until(ws, until_live))
            assert got == list(range(since + 1, center.store.last_seq() + 1)) and len(got) == 2


def test_the_log_can_be_read_in_pages_over_http(client: TestClient) -> None:
    center = center_of(client)
    for _ in range(3):
        center.tickets.issue("tax")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    page = client.get("/api/v1/events", params={"since": 0, "limit": 2}, headers=headers).json()
    assert [e["kind"] for e in page["events"]] == ["ticket.issued"] * 2
    assert page["more"] is True
    rest = client.get("/api/v1/events", params={"since": page["next"]}, headers=headers).json()
    assert len(rest["events"]) == 1 and rest["more"] is False
    assert rest["next"] == center.store.last_seq()
    assert client.get("/api/v1/events").status_code == 401
    bad = client.get("/api/v1/events", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert client.get("/api/v1/events?since=-1", headers=headers).status_code == 422
    # Past every database's integers (SQLite's is 64-bit): refused, not a server error.
    huge = client.get("/api/v1/events?since=9223372036854775808", headers=headers)
    assert huge.status_code == 422 and "since" in huge.text


def test_events_committed_before_the_hub_heard_of_them_are_not_sent_twice(tmp_path: Path) -> None:
    """GIVEN a commit made through another store (the hub hears of it only by polling)
    WHEN a client subscribes from before it and replays it from the log
    THEN the hub publishing it later does not send it again."""
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    with running(url, poll_seconds=30) as client:
        center = center_of(client)
        start = center.store.last_seq()
        other = Center.open(center.ctx.cfg, url, clock=ManualClock(MONDAY_9))
        try:
            other.tickets.issue("tax")
        finally:
            other.close()
        with subscribe(client, since=start) as ws:
            messages = receive_until(ws, until_live)
            commit(center.store, "test.after")  # published after the poll caught up
            messages += receive_until(ws, lambda m: len(m) == 1)
            assert event_seqs(messages) == [start + 1, start + 2]
