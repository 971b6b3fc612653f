"""Engine fixtures: a small hall, a steerable clock, and the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from center.clock import ManualClock
from center.engine.center import Center
from center.pii import new_key
from config.schema import HallConfig

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PIN = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
# Monday 2026-11-23, 09:00 in the hall: an ordinary working morning.
MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


def hall_dict(**overrides: Any) -> dict[str, Any]:
    """A small hall: three services, three windows with A/B posts."""
    data: dict[str, Any] = {
        "hall": {"code": "test", "name": "测试政务服务中心"},
        "services": [
            {
                "code": "tax",
                "name": "税务",
                "prefix": "A",
                "window_class": "specialist",
                "promised_days": 5,
            },
            {
                "code": "hukou",
                "name": "户籍",
                "prefix": "B",
                "window_class": "specialist",
                "id_required": True,
                "per_person_daily": 2,
            },
            {
                "code": "estate",
                "name": "不动产登记",
                "prefix": "C",
                "window_class": "theme",
                "appointments": True,
                "daily_max": 5,
                "promised_days": 5,
            },
        ],
        "windows": [
            {
                "number": 1,
                "name": "1号窗口",
                "window_class": "specialist",
                "services": ["tax", "hukou"],
                "posts": {"a": "1001", "b": ["1002"]},
            },
            {
                "number": 2,
                "name": "2号窗口",
                "window_class": "specialist",
                "services": ["hukou", "tax"],
                "posts": {"a": "1003", "b": ["1004", "1001"]},
            },
            {
                "number": 3,
                "name": "3号窗口",
                "window_class": "theme",
                "services": ["estate", "tax"],
                "selection": "oldest",
                "posts": {"a": "1005", "b": ["1006"]},
            },
        ],
        "staff": [{"number": f"100{i}", "name": f"员工{i}", "pin_hash": PIN} for i in range(1, 7)],
    }
    data.update(overrides)
    return data


@pytest.fixture
def hall_cfg() -> HallConfig:
    return HallConfig.model_validate(hall_dict())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_9)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hall.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def make_center(db_url: str, clock: ManualClock) -> Iterator[Callable[..., Center]]:
    opened: list[Center] = []
    key = new_key()

    def make(cfg: HallConfig | None = None, **overrides: Any) -> Center:
        cfg = cfg or HallConfig.model_validate(hall_dict(**overrides))
        c = Center.open(cfg, db_url, clock=clock, data_key=key)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


@pytest.fixture
def center(make_center: Callable[..., Center]) -> Center:
    c = make_center()
    for window, staff in ((1, "1001"), (2, "1003"), (3, "1005")):
        c.posts.login(window, staff)
    return c
