"""The event stream client against a small WebSocket server speaking the center's protocol."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from devices.client.stream import (
    Connected,
    EventStream,
    PositionFile,
    StreamEvent,
    StreamState,
    stream_url,
)
from tests.display.conftest import wait_for

TOKEN = "hqd_good"


class FakeCenter:
    """The center's side of ``/api/v1/events/stream``, with knobs to misbehave."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.hellos: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.drop = threading.Event()
        self.repeat_last = False
        self.server: Server | None = None
        self.port = 0

    def add(self, kind: str, window: int | None = 1, **data: Any) -> int:
        with self.cond:
            seq = len(self.events) + 1
            self.events.append({"type": "event", "seq": seq, "kind": kind,
                                "at": "2026-11-23T09:00:00+08:00", "hall_day": "2026-11-23",
                                "window": window, "ticket_id": None, "actor": "test",
                                "data": data})  # fmt: skip
            self.cond.notify_all()
        return seq

    def handler(self, ws: ServerConnection) -> None:
        hello = json.loads(ws.recv(timeout=5))
        self.hellos.append(hello)
        if hello.get("token") != TOKEN:
            ws.close(4401, "a valid token is required")
            return
        with self.cond:
            head = len(self.events)
        sent = hello["since"] if hello.get("since") is not None else head
        ws.send(json.dumps({"type": "hello", "since": sent, "head": head}))
        live = False
        try:
            while not self.drop.is_set():
                with self.cond:
                    batch = self.events[sent:]
                    if not batch and live:
                        self.cond.wait(0.05)
                        continue
                for message in batch:
                    ws.send(json.dumps(message))
                if batch and self.repeat_last:
                    ws.send(json.dumps(batch[-1]))
                sent += len(batch)
                if not live:
                    ws.send(json.dumps({"type": "live", "seq": sent}))
                    live = True
        except ConnectionClosed:
            return
        ws.close(1011, "dropped by the test")

    def __enter__(self) -> FakeCenter:
        self.server = serve(self.handler, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.drop.set()
        self.server.shutdown()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def center() -> Iterator[FakeCenter]:
    with FakeCenter() as fake:
        yield fake


class Collector:
    def __init__(self) -> None:
        self.events: list[StreamEvent] = []
        self.connects: list[Connected] = []

    def on_event(self, event: StreamEvent) -> None:
        self.events.append(event)

    def on_connect(self, info: Connected) -> None:
        self.connects.append(info)

    @property
    def seqs(self) -> list[int]:
        return [e.seq for e in self.events]


def stream(center: FakeCenter, tmp_path: Path, **kw: Any) -> EventStream:
    kw.setdefault("backoff_base_s", 0.01)
    kw.setdefault("backoff_cap_s", 0.05)
    return EventStream(center.url, kw.pop("token", TOKEN), position=tmp_path / "pos.json", **kw)


def test_urls() -> None:
    assert stream_url("http://h:8000") == "ws://h:8000/api/v1/events/stream"
    assert stream_url("https://h/hall/") == "wss://h/hall/api/v1/events/stream"
    assert stream_url("ws://h/api/v1/events/stream") == "ws://h/api/v1/events/stream"
    with pytest.raises(ValueError):
        stream_url("ftp://h")


def test_a_first_start_follows_from_now_and_saves_its_position(
    center: FakeCenter, tmp_path: Path
) -> None:
    center.add("ticket.issued")
    got, s = Collector(), stream(center, tmp_path, kinds=["ticket."])
    s.start(got.on_event, got.on_connect)
    try:
        assert wait_for(lambda: s.status.state is StreamState.LIVE)
        center.add("ticket.called", 3, number="A012")
        assert wait_for(lambda: got.seqs == [2])
    finally:
        s.stop()
    assert center.hellos[0] == {"token": TOKEN, "since": None, "kinds": ["ticket."]}
    event = got.events[0]
    assert (event.kind, event.window, event.data, event.replayed) == (
        "ticket.called", 3, {"number": "A012"}, False)  # fmt: skip
    assert event.at is not None and event.at.isoformat() == "2026-11-23T09:00:00+08:00"
    assert got.connects == [Connected(1, 1, None)]
    assert PositionFile(tmp_path / "pos.json").load()[0] == 2


def test_a_lost_connection_resumes_from_the_last_seq_without_loss_or_repeat(
    center: FakeCenter, tmp_path: Path
) -> None:
    got, s = Collector(), stream(center, tmp_path)
    s.start(got.on_event, got.on_connect)
    try:
        assert wait_for(lambda: s.status.state is StreamState.LIVE)
        center.add("ticket.called")
        assert wait_for(lambda: got.seqs == [1])
        center.drop.set()
        assert wait_for(lambda: s.status.state is not StreamState.LIVE)
        center.add("ticket.done")
        center.add("ticket.called")
        center.drop.clear()
        assert wait_for(lambda: got.seqs == [1, 2, 3])
        assert s.status.connects >= 2
    finally:
        s.stop()
    assert center.hellos[1]["since"] == 1
    assert [e.replayed for e in got.events] == [False, True, True]
    assert not any(e.stale for e in got.events)


def test_events_sent_twice_are_delivered_once(center: FakeCenter, tmp_path: Path) -> None:
    center.repeat_last = True
    got, s = Collector(), stream(center, tmp_path)
    s.start(got.on_event)
    try:
        assert wait_for(lambda: s.status.state is StreamState.LIVE)
        for _ in range(3):
            center.add("ticket.called")
        assert wait_for(lambda: got.seqs == [1, 2, 3])
        center.add("ticket.done")
        assert wait_for(lambda: got.seqs == [1, 2, 3, 4])
    finally:
        s.stop()


def test_a_restart_resumes_from_the_saved_position_and_marks_old_events_stale(
    center: FakeCenter, tmp_path: Path
) -> None:
    first, s = Collector(), stream(center, tmp_path)
    s.start(first.on_event)
    assert wait_for(lambda: s.status.state is StreamState.LIVE)
    center.add("ticket.called")
    assert wait_for(lambda: first.seqs == [1])
    s.stop()
    center.add("ticket.called")
    center.add("ticket.recalled")
    again, s = Collector(), stream(center, tmp_path, fresh_gap_s=0.0)
    s.start(again.on_event)
    try:
        assert wait_for(lambda: again.seqs == [2, 3])
    finally:
        s.stop()
    assert center.hellos[-1]["since"] == 1
    assert all(e.replayed and e.stale for e in again.events)


def test_a_refused_token_is_reported_and_retried_slowly(center: FakeCenter, tmp_path: Path) -> None:
    got, s = Collector(), stream(center, tmp_path, token="hqd_bad", unauthorized_retry_s=0.2)
    s.start(got.on_event)
    try:
        assert wait_for(lambda: s.status.unauthorized)
        assert wait_for(lambda: len(center.hellos) >= 2, timeout=3)
        assert not s.status.available
        assert "unauthorized" in s.status.last_error
    finally:
        s.stop()
    assert s.status.state is StreamState.STOPPED


def test_nobody_listening_means_retrying(tmp_path: Path) -> None:
    s = EventStream("http://127.0.0.1:9", TOKEN, backoff_base_s=0.01, backoff_cap_s=0.02)
    s.start(lambda e: None)
    try:
        assert wait_for(lambda: "cannot connect" in s.status.last_error)
        assert s.status.connects == 0
    finally:
        s.stop()


def test_a_handler_that_raises_does_not_stop_the_stream(center: FakeCenter, tmp_path: Path) -> None:
    seen: list[int] = []

    def handler(event: StreamEvent) -> None:
        seen.append(event.seq)
        raise RuntimeError("boom")

    s = stream(center, tmp_path)
    s.start(handler)
    try:
        assert wait_for(lambda: s.status.state is StreamState.LIVE)
        center.add("ticket.called")
        center.add("ticket.called")
        assert wait_for(lambda: seen == [1, 2])
    finally:
        s.stop()


def test_an_unreadable_position_file_starts_from_now(tmp_path: Path) -> None:
    path = tmp_path / "pos.json"
    path.write_text("{not json")
    assert PositionFile(path).load() == (None, None)
    PositionFile(path).save(7, 100.0)
    assert PositionFile(path).load() == (7, 100.0)
