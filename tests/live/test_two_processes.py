"""Two center processes on one PostgreSQL database: a call made through one reaches a display
subscribed to the other, through LISTEN/NOTIFY (both poll only every 30 s)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from center.auth.devices import DeviceRegistry
from center.auth.roles import Role
from center.clock import ManualClock
from center.db.connect import make_engine, upgrade
from center.engine.store import Store
from tests.api.conftest import PIN, api_hall
from tests.center.conftest import MONDAY_9
from tests.live.server import spawn, stop

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"center exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"center on port {port} did not answer:\n{log.read_text()}")


@pytest.fixture
def centers(pg_url: str, tmp_path: Path) -> Iterator[tuple[int, int, dict[str, str]]]:
    """Two center processes on ``pg_url``; their ports and device tokens."""
    cfg = api_hall()
    engine = make_engine(pg_url, pool_size=2)
    upgrade(engine)
    registry = DeviceRegistry(Store(engine), ManualClock(MONDAY_9), frozenset({1, 2, 3}))
    tokens = {
        "display": registry.add("hall-board", Role.DISPLAY),
        "kiosk": registry.add("k-tax", Role.KIOSK),
    }
    engine.dispose()
    config = tmp_path / "hall.json"
    config.write_text(cfg.model_dump_json(), encoding="utf-8")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ports = []
        for i in (1, 2):
            log = tmp_path / f"center{i}.log"
            proc, port = spawn(config, pg_url, log=log, poll=30)
            procs.append(proc)
            ports.append(port)
        for proc, port, i in zip(procs, ports, (1, 2), strict=True):
            wait_healthy(port, proc, tmp_path / f"center{i}.log")
        yield ports[0], ports[1], tokens
    finally:
        for proc in procs:
            stop(proc)


def receive(ws: ClientConnection, timeout: float) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=timeout))
    assert isinstance(message, dict)
    return message


def test_a_call_through_one_process_reaches_a_display_on_the_other(
    centers: tuple[int, int, dict[str, str]],
) -> None:
    port1, port2, tokens = centers
    with connect(f"ws://127.0.0.1:{port2}/api/v1/events/stream", open_timeout=10) as ws:
        ws.send(json.dumps({"token": tokens["display"], "kinds": ["ticket.called"]}))
        assert receive(ws, 10)["type"] == "hello"
        assert receive(ws, 10)["type"] == "live"

        with httpx.Client(base_url=f"http://127.0.0.1:{port1}", timeout=10) as http:
            login = http.post(
                "/api/v1/staff/login", json={"staff": "1001", "pin": PIN, "window": 1}
            )
            assert login.status_code == 200, login.text
            staff = {"Authorization": f"Bearer {login.json()['token']}"}
            kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
            issued = http.post("/api/v1/kiosk/tickets", json={"service": "tax"}, headers=kiosk)
            assert issued.status_code == 201, issued.text
            called = http.post("/api/v1/staff/call-next", headers=staff)
            assert called.status_code == 200, called.text
            sent = time.monotonic()
        number = called.json()["called"]["number"]
        assert number == issued.json()["number"] == "A001"

        message = receive(ws, 5)
        while message["type"] == "heartbeat":
            message = receive(ws, 5)
        delay = time.monotonic() - sent
        assert message["type"] == "event" and message["kind"] == "ticket.called"
        assert (message["window"], message["data"]["number"]) == (1, number)
        assert delay < 2.0  # NOTIFY, not the 30-second poll

    # The other process's log agrees, and a late subscriber there replays the call.
    with connect(f"ws://127.0.0.1:{port1}/api/v1/events/stream", open_timeout=10) as ws:
        ws.send(json.dumps({"token": tokens["display"], "since": 0, "kinds": ["ticket."]}))
        kinds = []
        while (message := receive(ws, 10))["type"] != "live":
            if message["type"] == "event":
                kinds.append((message["kind"], message["data"]["number"]))
        assert kinds == [("ticket.issued", "A001"), ("ticket.called", "A001")]
