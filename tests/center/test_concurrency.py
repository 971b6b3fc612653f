"""Call-next is atomic: many windows calling at once never take the same ticket.

GIVEN 5,000 waiting tickets and 50 windows,
WHEN 50 threads (one per window, each with its own connection) call next and finish as
fast as they can,
THEN every ticket is called exactly once and the queue ends empty.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from center.clock import ManualClock, to_ms
from center.db.tables import calls, tickets
from center.engine.center import Center
from center.engine.states import Lane, TicketState
from config.schema import HallConfig
from tests.center.conftest import MONDAY_9, PIN

N_WINDOWS = 50
N_TICKETS = 5_000


def busy_hall() -> HallConfig:
    return HallConfig.model_validate(
        {
            "hall": {"code": "busy", "name": "并发测试大厅"},
            "services": [
                {
                    "code": "tax",
                    "name": "税务",
                    "prefix": "A",
                    "window_class": "general",
                    "number_digits": 4,
                },
                {
                    "code": "social",
                    "name": "社保",
                    "prefix": "B",
                    "window_class": "general",
                    "number_digits": 4,
                },
            ],
            "windows": [
                {
                    "number": n,
                    "name": f"{n}号窗口",
                    "window_class": "general",
                    "services": ["tax", "social"] if n % 2 else ["social", "tax"],
                }
                for n in range(1, N_WINDOWS + 1)
            ],
            "staff": [
                {"number": f"{2000 + n}", "name": f"员工{n}", "pin_hash": PIN}
                for n in range(1, N_WINDOWS + 1)
            ],
        }
    )


def fill_queue(c: Center) -> None:
    """5,000 waiting tickets, half priority, written in one go (setup, not what is tested)."""
    base = to_ms(MONDAY_9)
    rows: list[dict[str, Any]] = []
    for i in range(N_TICKETS):
        service, prefix = ("tax", "A") if i % 2 else ("social", "B")
        prio = i % 5 == 0
        rows.append(
            {
                "hall_day": dt.date(2026, 11, 23),
                "service": service,
                "original_service": service,
                "number": i + 1,
                "display": f"{prefix}{i + 1:04d}",
                "source": "kiosk",
                "lane": (Lane.PRIORITY if prio else Lane.REGULAR).value,
                "priority_class": "elderly" if prio else None,
                "queue_key": base + i * 10 - (1_200_000 if prio else 0),
                "state": TicketState.WAITING.value,
                "issued_at": MONDAY_9,
            }
        )
    with c.store.write() as tx:
        tx.conn.execute(insert(tickets), rows)


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_fifty_windows_call_five_thousand_tickets_each_exactly_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'c.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    c = Center.open(busy_hall(), url, clock=ManualClock(MONDAY_9))
    try:
        for n in range(1, N_WINDOWS + 1):
            c.posts.login(n, f"{2000 + n}")
        fill_queue(c)
        called: dict[int, list[int]] = {n: [] for n in range(1, N_WINDOWS + 1)}
        errors: list[BaseException] = []
        start = threading.Barrier(N_WINDOWS)

        def window(n: int) -> None:
            try:
                start.wait()
                while (t := c.calls.call_next(n)) is not None:
                    called[n].append(t.id)
                    c.calls.finish(n)
            except BaseException as exc:  # reported below, with the window
                errors.append(exc)

        threads = [threading.Thread(target=window, args=(n,)) for n in called]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors[:3]
        everything = [tid for ids in called.values() for tid in ids]
        assert len(everything) == N_TICKETS
        assert len(set(everything)) == N_TICKETS, "a ticket was called twice"
        assert sum(1 for ids in called.values() if ids) > N_WINDOWS // 2, (
            "the windows did not really run together"
        )
        with c.store.read() as conn:
            left = conn.execute(
                select(func.count())
                .select_from(tickets)
                .where(tickets.c.state != TicketState.DONE.value)
            ).scalar()
            n_calls = conn.execute(select(func.count()).select_from(calls)).scalar()
        assert (left, n_calls) == (0, N_TICKETS)
    finally:
        c.close()
