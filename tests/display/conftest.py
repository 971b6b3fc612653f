"""Display fixtures: a small hall with one simulated bus, fakes of the center, bounded waits."""

from __future__ import annotations

import array
import datetime as dt
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from config.schema import HallConfig
from devices.client.stream import (
    ConnectCallback,
    EventCallback,
    StreamEvent,
    StreamState,
    StreamStatus,
)
from display.view import Call
from display.voice import Pcm, write_wav
from tests.api.conftest import api_hall
from tests.center.conftest import MONDAY_9

Waiter = Callable[..., bool]


def wait_for(predicate: Callable[[], object], timeout: float = 5.0, step: float = 0.01) -> bool:
    """Poll ``predicate`` until true or ``timeout`` passes (a bounded wait, never a bare sleep)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if predicate():
            return True
        pause.wait(step)
    return bool(predicate())


@pytest.fixture
def wait_until() -> Waiter:
    return wait_for


def bus_devices(windows: int = 3) -> list[dict[str, Any]]:
    """Strip = window, evaluator = 100 + window, keypad = 200 + window, board 99."""
    devices: list[dict[str, Any]] = []
    for w in range(1, windows + 1):
        devices += [
            {"address": w, "kind": "window_strip", "window": w},
            {"address": 100 + w, "kind": "evaluator", "window": w},
            {"address": 200 + w, "kind": "keypad", "window": w},
        ]
    devices.append({"address": 99, "kind": "hall_board", "lines": 4})
    return devices


def display_hall(baud: int = 115200, **overrides: Any) -> HallConfig:
    """The API tests' small hall (3 windows) with one hallbus bus at ``sim://hall``."""
    devices = {
        "kiosks": [{"name": "k-tax", "services": ["tax"]}],
        "buses": [{"name": "hall", "port": "sim://hall", "baud": baud, "devices": bus_devices()}],
    }
    overrides.setdefault("devices", devices)
    return api_hall(**overrides)


@pytest.fixture
def hall_cfg() -> HallConfig:
    return display_hall()


class FakeSource:
    """An in-process event source: ``emit`` hands an event to the controller."""

    def __init__(self) -> None:
        self.on_event: EventCallback | None = None
        self.on_connect: ConnectCallback | None = None
        self._seq = itertools.count(1)
        self.stopped = False

    def start(self, on_event: EventCallback, on_connect: ConnectCallback | None = None) -> None:
        self.on_event, self.on_connect = on_event, on_connect

    def stop(self) -> None:
        self.stopped = True

    @property
    def status(self) -> StreamStatus:
        return StreamStatus(StreamState.LIVE, None, 1)

    def emit(
        self, kind: str, window: int | None = None, *, stale: bool = False, **data: Any
    ) -> StreamEvent:
        event = StreamEvent(
            next(self._seq), kind, MONDAY_9, window, None, data, replayed=stale, stale=stale
        )
        assert self.on_event is not None, "controller not started"
        self.on_event(event)
        return event


@dataclass
class RecordingReports:
    """Reports kept in memory, in order."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def key(self, window: int, key: str, **extra: str) -> None:
        with self.lock:
            self.calls.append(("key", window, key, extra))

    def rating(self, window: int, level: int) -> None:
        with self.lock:
            self.calls.append(("rating", window, level))

    def fault(self, code: str, message: str, **detail: Any) -> None:
        with self.lock:
            self.calls.append(("fault", code, detail))

    def recovery(self, code: str, message: str, **detail: Any) -> None:
        with self.lock:
            self.calls.append(("recovery", code, detail))

    def pending(self) -> int:
        return 0

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        with self.lock:
            return [c for c in self.calls if c[0] == kind]


@dataclass
class FakeReader:
    """The center's state as a test sets it."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    queues: list[tuple[str, int]] = field(default_factory=list)
    beats: int = 0

    def windows(self) -> list[dict[str, Any]]:
        return list(self.rows)

    def recent(self, limit: int) -> list[Call]:
        return self.calls[:limit]

    def waiting(self) -> list[tuple[str, int]]:
        return list(self.queues)

    def heartbeat(self) -> None:
        self.beats += 1


class ToneSynthesizer:
    """Stands in for espeak-ng: one second of a 300 Hz tone per call, after ``delay_s``."""

    def __init__(self, delay_s: float = 0.0, fail: bool = False) -> None:
        self.delay_s = delay_s
        self.fail = fail
        self.texts: list[str] = []

    @property
    def available(self) -> bool:
        return True

    def synthesize(self, text: str, out: Path) -> None:
        from display.voice import VoiceError

        self.texts.append(text)
        if self.fail:
            raise VoiceError("synthesiser broken")
        if self.delay_s:
            threading.Event().wait(self.delay_s)
        rate = 22050
        samples = array.array(
            "h", (round(8000 * math.sin(2 * math.pi * 300 * i / rate)) for i in range(rate))
        )
        write_wav(out, Pcm(rate, samples))


def event_time(minutes: float = 0) -> dt.datetime:
    return MONDAY_9 + dt.timedelta(minutes=minutes)


@pytest.fixture
def sim_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sim"
    path.mkdir()
    yield path
