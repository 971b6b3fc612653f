"""API fixtures: a small hall with real PIN hashes, an app on it, tokens for every role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from center.api.app import create_app
from center.api.deps import Hall
from center.api.settings import ApiSettings
from center.auth.roles import Role
from center.auth.staff import PinPolicy
from center.clock import ManualClock
from center.engine.center import Center
from center.pii import new_key
from config.schema import HallConfig
from tests.center.conftest import MONDAY_9, hall_dict

PIN = "2468"
# Cheap argon2 parameters: the tests check the logic, not the cost.
PIN_HASH = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1).hash(PIN)


def api_hall(**overrides: Any) -> HallConfig:
    """The engine tests' small hall, with PINs, a supervisor, an admin and a kiosk."""
    data = hall_dict(**overrides)
    data["staff"] = [
        *({"number": f"100{i}", "name": f"员工{i}", "pin_hash": PIN_HASH} for i in range(1, 7)),
        {"number": "8001", "name": "督查员", "role": "supervisor", "pin_hash": PIN_HASH},
        {"number": "9001", "name": "管理员", "role": "admin", "pin_hash": PIN_HASH},
    ]
    data.setdefault("devices", {"kiosks": [{"name": "k-tax", "services": ["tax"]}]})
    return HallConfig.model_validate(data)


@dataclass
class Api:
    """A running app and helpers to get credentials for it."""

    center: Center
    app: FastAPI
    http: TestClient
    clock: ManualClock

    @property
    def hall(self) -> Hall:
        hall: Hall = self.app.state.hall
        return hall

    def device(self, name: str, kind: Role, window: int | None = None) -> dict[str, str]:
        """Register a device; its Authorization header."""
        token = self.hall.devices.add(name, kind, window)
        return {"Authorization": f"Bearer {token}"}

    def login(self, staff: str, window: int | None = None, **extra: Any) -> dict[str, str]:
        """Log a staff member in; their Authorization header."""
        body: dict[str, Any] = {"staff": staff, "pin": PIN, **extra}
        if window is not None:
            body["window"] = window
        r = self.http.post("/api/v1/staff/login", json=body)
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_9)


@pytest.fixture
def make_api(tmp_path: Path, clock: ManualClock) -> Iterator[Callable[..., Api]]:
    opened: list[tuple[Center, TestClient]] = []
    key = new_key()

    def make(
        cfg: HallConfig | None = None, settings: ApiSettings | None = None, url: str | None = None
    ) -> Api:
        center = Center.open(
            cfg or api_hall(), url or f"sqlite:///{tmp_path / 'hall.db'}", clock=clock, data_key=key
        )
        settings = settings or ApiSettings(pins=PinPolicy(base_delay_seconds=2, lock_minutes=15))
        app = create_app(center, settings)
        http = TestClient(app)
        opened.append((center, http))
        return Api(center, app, http, clock)

    yield make
    for center, http in opened:
        http.close()
        center.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
