"""End to end: the real center (HTTP API and WebSocket stream on 127.0.0.1), the simulated bus
over ptys, and the display controller between them, wired as ``hallq display`` wires them.

GIVEN staff logged in at window 3 and a ticket taken at the kiosk, WHEN staff call it through
the API, THEN window 3's strip and the hall board show it (and it is announced); WHEN the
visit is finished and the citizen presses a rating on the simulated evaluator, THEN the center
stores it against that ticket, window and staff member; a key pressed on window 3's keypad
calls the next ticket.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from center.api import events
from center.api.app import create_app
from center.auth.roles import Role
from center.clock import ManualClock
from center.engine.center import Center
from center.pii import new_key
from config.schema import HallConfig
from devices.bus import DeviceKind, Key, Rating
from display.cli import DisplaySetup, build_controller
from display.controller import DisplayController
from display.reports import DeviceTokens
from display.simbus import SimHall
from tests.api.conftest import PIN
from tests.center.conftest import MONDAY_9
from tests.client.conftest import free_port
from tests.display.conftest import display_hall, wait_for


@dataclass
class Hall:
    http: httpx.Client
    sim: SimHall
    controller: DisplayController
    voice_dir: Path
    kiosk: str

    def post(self, path: str, token: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = self.http.post(path, json=body, headers=headers)
        assert reply.status_code < 300, reply.text
        return reply.json()

    def get(self, path: str, token: str) -> Any:
        reply = self.http.get(path, headers={"Authorization": f"Bearer {token}"})
        assert reply.status_code == 200, reply.text
        return reply.json()

    def login(self, staff: str, window: int | None = None) -> str:
        body: dict[str, Any] = {"staff": staff, "pin": PIN}
        if window is not None:
            body["window"] = window
        return str(self.post("/api/v1/staff/login", "", body)["token"])

    def issue(self) -> str:
        """A tax ticket from the kiosk."""
        return str(self.post("/api/v1/kiosk/tickets", self.kiosk, {"service": "tax"})["number"])


def serve(center: Center) -> tuple[uvicorn.Server, threading.Thread, str, FastAPI]:
    """The center's app on a free port, with its live event stream."""
    app = create_app(center)
    if getattr(app.state, "event_hub", None) is None:  # not yet wired by create_app itself
        events.attach(app, center.store, poll_seconds=0.2)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started or not thread.is_alive(), timeout=10)
    assert server.started, "the center did not start"
    return server, thread, f"http://127.0.0.1:{port}", app


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    cfg: HallConfig = display_hall(baud=115200)
    center = Center.open(cfg, f"sqlite:///{tmp_path / 'center.db'}", clock=ManualClock(MONDAY_9),
                         data_key=new_key())  # fmt: skip
    server, thread, url, app = serve(center)
    registry = app.state.hall.devices
    kiosk = registry.add("k-tax", Role.KIOSK)
    tokens = DeviceTokens(
        registry.add("display-1", Role.DISPLAY),
        {3: registry.add("keypad-3", Role.KEYPAD, 3)},
        {3: registry.add("evaluator-3", Role.EVALUATOR, 3)},
    )
    sim_dir, voice_dir = tmp_path / "sim", tmp_path / "voice"
    setup = DisplaySetup(cfg, url, tokens, tmp_path / "display", sim_dir, voice_dir,
                         voice=shutil.which("espeak-ng") is not None)  # fmt: skip
    sim = SimHall(cfg, sim_dir)
    controller = build_controller(setup)
    with sim, httpx.Client(base_url=url, timeout=10) as http:
        controller.start()
        try:
            assert wait_for(lambda: controller.status().available, timeout=10)
            yield Hall(http, sim, controller, voice_dir, kiosk)
        finally:
            controller.stop()
            server.should_exit = True
            thread.join(timeout=10)
            center.close()


def test_a_call_shows_and_a_rating_is_stored_against_ticket_window_and_staff(hall: Hall) -> None:
    session = hall.login("1005", window=3)
    strip = hall.sim.device(DeviceKind.WINDOW_STRIP, 3)
    assert wait_for(lambda: strip.shown == ("3号窗口", "3号窗口"), timeout=5)
    assert wait_for(lambda: hall.sim.device(DeviceKind.EVALUATOR, 3).staff == ("员工5", "1005", 5))
    # a ticket from the kiosk, called by staff through the API
    ticket = hall.issue()
    called = hall.post("/api/v1/staff/call-next", session)["called"]
    assert called["number"] == ticket == "A001"
    assert wait_for(lambda: strip.shown == ("A001 请到3号窗口", "税务"), timeout=5)
    assert wait_for(lambda: hall.sim.device(DeviceKind.HALL_BOARD).shown == ("A001 请到3号窗口",))
    assert wait_for(lambda: hall.sim.device(DeviceKind.KEYPAD, 3).shown == "A001")
    assert hall.sim.device(DeviceKind.WINDOW_STRIP, 1).shown == ("1号窗口", "暂停服务")
    # finished: the evaluator prompts; the citizen's press is stored at the center
    ticket_id = hall.post("/api/v1/staff/finish", session)["ticket_id"]
    evaluator = hall.sim.device(DeviceKind.EVALUATOR, 3)
    assert wait_for(lambda: evaluator.prompting, timeout=5)
    assert hall.sim.rate(3, Rating.VERY_SATISFIED)
    supervisor = hall.login("8001")
    rows: list[dict[str, Any]] = []

    def rated() -> bool:
        rows[:] = hall.get("/api/v1/supervisor/evaluations?status=rated", supervisor)["items"]
        return bool(rows)

    assert wait_for(rated, timeout=10)
    (row,) = rows
    assert (row["ticket_id"], row["number"], row["window"], row["staff"], row["level"],
            row["channel"]) == (ticket_id, "A001", 3, "1005", 5, "evaluator")  # fmt: skip
    assert wait_for(lambda: not evaluator.prompting)
    if shutil.which("espeak-ng"):
        assert wait_for(lambda: any(hall.voice_dir.glob("*-A001-w3.wav")), timeout=10)


def test_a_keypad_press_calls_the_next_ticket(hall: Hall) -> None:
    hall.login("1005", window=3)
    first, second = hall.issue(), hall.issue()
    strip = hall.sim.device(DeviceKind.WINDOW_STRIP, 3)
    assert wait_for(lambda: hall.controller.view.window(3).staff == "1005", timeout=5)
    hall.sim.press(3, Key.CALL_NEXT)
    assert wait_for(lambda: strip.shown[:1] == (f"{first} 请到3号窗口",), timeout=5)
    start = time.monotonic()
    hall.sim.press(3, Key.CALL_NEXT)  # finishes the first visit, then calls the next
    assert wait_for(lambda: strip.shown[:1] == (f"{second} 请到3号窗口",), timeout=5)
    assert time.monotonic() - start < 2
    board = hall.sim.device(DeviceKind.HALL_BOARD)
    assert wait_for(lambda: board.shown[:2] == (f"{second} 请到3号窗口", f"{first} 请到3号窗口"))
    assert wait_for(lambda: hall.sim.device(DeviceKind.EVALUATOR, 3).prompting)
