"""A real center process for the client: uvicorn on 127.0.0.1 in a thread, stoppable."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from center.api.app import create_app
from center.auth.devices import DeviceRegistry
from center.auth.roles import Role
from center.clock import ManualClock
from center.engine.center import Center
from center.pii import new_key
from tests.api.conftest import api_hall
from tests.center.conftest import MONDAY_9


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveCenter:
    """The center serving on a fixed port; ``stop`` and ``start`` it like a process."""

    def __init__(self, db_url: str, clock: ManualClock) -> None:
        self.db_url = db_url
        self.clock = clock
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = new_key()
        self.center: Center | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def open_center(self) -> Center:
        """A center on the same database (another connection, as another process would)."""
        return Center.open(api_hall(), self.db_url, clock=self.clock, data_key=self.key)

    def start(self) -> None:
        """Serve until :meth:`stop`."""
        self.center = self.open_center()
        config = uvicorn.Config(
            create_app(self.center), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the center did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and close the database, as if the process ended."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self.center is not None:
            self.center.close()
        self._server = self._thread = None
        self.center = None

    def device(self, name: str, kind: Role, window: int | None = None) -> str:
        """Register a device; its token."""
        center = self.open_center()
        try:
            return DeviceRegistry(center.store, self.clock).add(name, kind, window)
        finally:
            center.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_9)


@pytest.fixture
def live(tmp_path: Path, clock: ManualClock) -> Iterator[LiveCenter]:
    center = LiveCenter(f"sqlite:///{tmp_path / 'center.db'}", clock)
    center.start()
    yield center
    center.stop()
