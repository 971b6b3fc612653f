"""Hall screen fixtures: event factories, a fake clock, fake stream and center, a real center.

Nothing here imports Qt, so the model's tests run where PySide6 is not installed.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from center.auth.devices import DeviceRegistry
from center.auth.roles import Role
from center.clock import ManualClock
from center.db.connect import make_engine, upgrade
from center.engine.store import Store
from config.schema import HallConfig
from devices.client.models import HallStatus, RecentCall, ServiceStatus, WindowState
from devices.client.stream import Connected, StreamEvent, StreamState, StreamStatus
from tests.api.conftest import PIN, api_hall
from tests.center.conftest import MONDAY_9
from tests.live.server import ROOT
from tests.live.server import stop as stop_process

EventCallback = Callable[[StreamEvent], None]
ConnectCallback = Callable[[Connected], None]


def ev(
    seq: int,
    kind: str,
    window: int | None = None,
    *,
    minute: int = 0,
    stale: bool = False,
    **data: Any,
) -> StreamEvent:
    """An event as the stream delivers it, ``minute`` minutes after Monday 09:00."""
    at = MONDAY_9 + dt.timedelta(minutes=minute)
    return StreamEvent(seq, kind, at, window, None, data, replayed=stale, stale=stale)


def called(seq: int, number: str, window: int, *, minute: int = 0, **extra: Any) -> StreamEvent:
    """A ``ticket.called`` event."""
    return ev(seq, "ticket.called", window, minute=minute, number=number, service="tax", **extra)


@dataclass
class FakeClock:
    """Monotonic seconds that move only when told."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hall() -> HallConfig:
    """Three windows (1, 2, 3) and services tax (A), hukou (B), estate (C)."""
    return api_hall()


def hall_status(
    windows: list[WindowState] | None = None,
    waiting: dict[str, int] | None = None,
    notice: str = "",
) -> HallStatus:
    """What ``GET /api/v1/status`` says."""
    waiting = waiting or {}
    services = [
        ServiceStatus(code, name, waiting.get(code, 0), 100, 1, 600.0 * waiting.get(code, 0))
        for code, name in (("tax", "税务"), ("hukou", "户籍"), ("estate", "不动产登记"))
    ]
    windows = windows or [WindowState(n, f"{n}号窗口", "closed", None, None) for n in (1, 2, 3)]
    return HallStatus(MONDAY_9, True, notice, services, windows)


@dataclass
class FakeReader:
    """The center's read models as a test sets them; ``failing`` makes every read raise."""

    status: HallStatus = field(default_factory=hall_status)
    recent: list[RecentCall] = field(default_factory=list)
    failing: bool = False
    reads: int = 0
    recent_reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hall_status(self) -> HallStatus:
        with self.lock:
            self.reads += 1
            if self.failing:
                raise httpx.ConnectError("center down")
            return self.status

    def recent_calls(self, limit: int = 10) -> list[RecentCall]:
        with self.lock:
            self.recent_reads += 1
            if self.failing:
                raise httpx.ConnectError("center down")
            return self.recent[:limit]

    def heartbeat(self) -> None:
        pass


class FakeSource:
    """An event source driven by the test; it delivers from a thread of its own, like the
    real stream, so Qt must carry every event to the GUI thread."""

    def __init__(self) -> None:
        self.on_event: EventCallback | None = None
        self.on_connect: ConnectCallback | None = None
        self._status = StreamStatus(StreamState.CONNECTING, None, 0)
        self.stopped = False

    def start(self, on_event: EventCallback, on_connect: ConnectCallback | None = None) -> None:
        self.on_event, self.on_connect = on_event, on_connect

    def stop(self) -> None:
        self.stopped = True

    @property
    def status(self) -> StreamStatus:
        return self._status

    def _in_thread(self, work: Callable[[], None]) -> None:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(5)

    def connect(self, head: int | None) -> None:
        """Subscribe (as after a reconnect): status replaying, then ``on_connect``."""
        self._status = replace(
            self._status,
            state=StreamState.REPLAYING,
            connects=self._status.connects + 1,
            last_error="",
            last_seq=head if head is not None else self._status.last_seq,
        )
        assert self.on_connect is not None
        callback = self.on_connect
        self._in_thread(lambda: callback(Connected(head, head, None)))

    def drop(self, error: str = "closed (1001): center shutting down") -> None:
        """The connection is lost."""
        self._status = replace(self._status, state=StreamState.RETRYING, last_error=error)

    def emit(self, *events: StreamEvent) -> None:
        """Deliver ``events`` from another thread, in order."""
        assert self.on_event is not None, "feed not started"
        callback = self.on_event

        def deliver() -> None:
            for event in events:
                callback(event)
                self._status = replace(self._status, last_seq=event.seq)

        self._in_thread(deliver)


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader()


# --- a real center in a process of its own ------------------------------------------------


class CenterProcess:
    """``tests.live.server`` (the real app plus the event stream) on a fixed loopback port:
    stop it and start it again on the same database and port, like a restarted center."""

    def __init__(self, tmp: Path, cfg: HallConfig) -> None:
        self.tmp = tmp
        self.config = tmp / "hall.json"
        self.config.write_text(cfg.model_dump_json(), encoding="utf-8")
        self.db_url = f"sqlite:///{tmp / 'center.db'}"
        self.log = tmp / "center.log"
        self.epoch: float | None = None
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        engine = make_engine(self.db_url)
        try:
            upgrade(engine)
            devices = DeviceRegistry(Store(engine), ManualClock(MONDAY_9))
            self.display_token = devices.add("hall-screen", Role.DISPLAY)
            self.kiosk_token = devices.add("k-tax", Role.KIOSK)
        finally:
            engine.dispose()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        """Serve on ``self.port`` (a free one the first time); returns once it answers."""
        import time

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.port))
            sock.listen(128)
            self.port = sock.getsockname()[1]
            if self.epoch is None:
                self.epoch = time.time()
            command = [
                sys.executable, "-m", "tests.live.server", "--config", str(self.config),
                "--database", self.db_url, "--fd", str(sock.fileno()), "--clock", "running",
                "--epoch", str(self.epoch), "--poll", "0.5",
            ]  # fmt: skip
            with self.log.open("ab") as out:
                self.proc = subprocess.Popen(
                    command,
                    cwd=ROOT,
                    pass_fds=[sock.fileno()],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        finally:
            sock.close()
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the center exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            pause.wait(0.05)
        raise RuntimeError("the center did not answer in time")

    def stop(self) -> None:
        """End the process (SIGTERM, then SIGKILL)."""
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    # what staff and kiosks do, over HTTP

    def login(self, staff: str, window: int) -> dict[str, str]:
        r = httpx.post(
            f"{self.url}/api/v1/staff/login",
            json={"staff": staff, "pin": PIN, "window": window},
            timeout=10,
        )
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def issue(self, service: str = "tax") -> str:
        r = httpx.post(
            f"{self.url}/api/v1/kiosk/tickets",
            json={"service": service},
            headers={"Authorization": f"Bearer {self.kiosk_token}"},
            timeout=10,
        )
        r.raise_for_status()
        return str(r.json()["number"])

    def staff(self, action: str, headers: dict[str, str], body: Any = None) -> Any:
        r = httpx.post(f"{self.url}/api/v1/staff/{action}", json=body, headers=headers, timeout=10)
        r.raise_for_status()
        return r.json()

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        r = httpx.get(
            f"{self.url}/api/v1/display/recent",
            params={"limit": limit},
            headers={"Authorization": f"Bearer {self.display_token}"},
            timeout=10,
        )
        r.raise_for_status()
        rows: list[dict[str, Any]] = r.json()
        return rows


@pytest.fixture
def center(tmp_path: Path, hall: HallConfig) -> Iterator[CenterProcess]:
    process = CenterProcess(tmp_path, hall)
    process.start()
    try:
        yield process
    finally:
        process.stop()
