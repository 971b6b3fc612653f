"""The stream's messages, the subscription request, the libpq URL, and wiring into an app."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from center.api import events as api
from center.engine.store import Event
from center.live.hub import EventFilter
from center.live.pg import conninfo, parse_payload
from center.live.wire import BadHello, encode, event_message, parse_hello
from tests.live.conftest import open_store


def test_an_event_message_has_the_documented_fields() -> None:
    at = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
    event = Event(
        7, at, dt.date(2026, 11, 23), "ticket.called", "staff:1001", 3, 2, {"number": "A001"}
    )
    assert json.loads(encode(event_message(event))) == {
        "type": "event",
        "seq": 7,
        "kind": "ticket.called",
        "at": "2026-11-23T01:00:00+00:00",
        "hall_day": "2026-11-23",
        "window": 2,
        "ticket_id": 3,
        "actor": "staff:1001",
        "data": {"number": "A001"},
    }
    assert encode({"name": "税务"}) == '{"name":"税务"}'


def test_a_subscription_request_is_parsed_and_checked() -> None:
    hello = parse_hello('{"token": "t", "since": 5, "kinds": "ticket.", "window": [1, 2], "x": 1}')
    assert hello.token == "t" and hello.since == 5
    assert hello.event_filter == EventFilter(("ticket.",), frozenset({1, 2}))
    assert parse_hello("{}").since is None
    for bad in (
        "[]",
        "nope",
        '{"token": 5}',
        '{"since": 1.5}',
        '{"since": -1}',
        '{"since": 9223372036854775808}',  # past every database's integers
        '{"kinds": [1]}',
        '{"window": "3"}',
    ):
        with pytest.raises(BadHello):
            parse_hello(bad)
    with pytest.raises(BadHello, match="at most"):
        parse_hello(json.dumps({"kinds": ["a"] * 33}))


def test_conninfo_keeps_the_socket_directory_and_credentials() -> None:
    url = make_url("postgresql+psycopg://hall:p%40ss@/hallq?host=/tmp/pg%20dir")
    info = conninfo(url)
    assert "host='/tmp/pg dir'" in info and "dbname=hallq" in info
    assert "user=hall" in info and "password=p@ss" in info
    assert parse_payload("42 a1b2c3") == (42, "a1b2c3")
    assert parse_payload("42") == (42, None)
    assert parse_payload("") == (None, None)


def test_attach_uses_the_halls_principal_and_stops_the_hub_with_the_app(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'hall.db'}")
    app = FastAPI()
    app.state.hall = SimpleNamespace(principal=lambda token: "board" if token == "ok" else None)
    api.attach(app, store, settings=api.StreamSettings(heartbeat=0.1))
    routes = len(app.router.routes)
    api.attach(app, store)  # a second attach replaces the hub, not the routes
    assert len(app.router.routes) == routes
    try:
        with TestClient(app) as client:
            hub = app.state.event_hub
            assert hub.subscribers == 0 and hub._thread is not None
            with client.websocket_connect(api.STREAM_PATH) as ws:
                ws.send_json({"token": "ok"})
                assert ws.receive_json()["type"] == "hello"
        assert hub._thread is None
    finally:
        store.engine.dispose()


def test_an_event_is_encoded_once_for_every_subscriber_and_exactly_as_alone() -> None:
    import datetime as dt

    from center.engine.store import Event
    from center.live.wire import EncodedEvents, encode, event_message

    at = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)

    def event(seq: int) -> Event:
        return Event(seq, at, at.date(), "ticket.called", "staff:1001", 7, 3, {"number": "A012"})

    cache = EncodedEvents(size=8)
    first = event(1)
    text = cache.text(first)
    assert text == encode(event_message(first))
    assert cache.text(first) is text  # the same object: encoded once
    twin = event(1)  # equal but another object (another process's read): encoded afresh
    assert cache.text(twin) == text and cache.text(twin) is not text
    for seq in range(2, 40):  # bounded: old entries go
        assert cache.text(event(seq)) == encode(event_message(event(seq)))
    assert len(cache._texts) <= 8
