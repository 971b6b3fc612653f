"""Fixtures for device tests: waiting with a timeout, pty simulators, reference CRC."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

Waiter = Callable[..., bool]


def _wait_until(predicate: Callable[[], bool], timeout: float = 5.0, step: float = 0.01) -> bool:
    """Wait until ``predicate()`` is true or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if predicate():
            return True
        pause.wait(step)
    return bool(predicate())


@pytest.fixture
def wait_until() -> Waiter:
    """``wait_until(predicate, timeout=5.0)``: poll with a deadline, never a bare sleep."""
    return _wait_until
