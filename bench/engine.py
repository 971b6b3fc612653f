"""Queue engine benchmark: prints one JSON object.

* ``cycles_per_s``: sustained issue + call-next + finish cycles at one window, one thread;
* ``call_next_ms``: call-next latency (p50/p99) with 200 windows open, the queue held at
  200 and at 20,000 waiting tickets (each call's ticket is finished and replaced, untimed),
  and the ratio of the two p99s: the cost of a call must not grow with the queue.

Both on SQLite (a file in a temp folder) and on PostgreSQL (a throwaway server on a unix
socket, fsync off as in the tests). Bounded in count: a few thousand operations each.
Run: ``.venv/bin/python bench/engine.py [--cycles N] [--calls N] [--skip-postgres]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from center.clock import ManualClock, to_ms  # noqa: E402
from center.db.tables import tickets  # noqa: E402
from center.engine.center import Center  # noqa: E402
from center.engine.states import Lane, TicketState  # noqa: E402
from config.schema import HallConfig  # noqa: E402

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
DAY = dt.date(2026, 11, 23)
PIN = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
SERVICES = [f"s{i}" for i in range(10)]
N_WINDOWS = 200


def hall() -> HallConfig:
    """200 windows over 10 services, each window serving three of them."""
    return HallConfig.model_validate(
        {
            "hall": {"code": "bench", "name": "基准测试大厅"},
            "hours": {
                "sessions": [{"start": "03:00", "end": "23:59"}],
                "weekdays": [1, 2, 3, 4, 5, 6, 7],
            },
            "services": [
                {
                    "code": code,
                    "name": f"业务{i}",
                    "prefix": chr(65 + i),
                    "window_class": "general",
                    "number_digits": 4,
                }
                for i, code in enumerate(SERVICES)
            ],
            "windows": [
                {
                    "number": n,
                    "name": f"{n}号",
                    "window_class": "general",
                    "services": [SERVICES[(n + k) % 10] for k in range(3)],
                }
                for n in range(1, N_WINDOWS + 1)
            ],
            "staff": [
                {"number": f"{5000 + n}", "name": f"员工{n}", "pin_hash": PIN}
                for n in range(1, N_WINDOWS + 1)
            ],
        }
    )


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``, in the unit given."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_cycles(url: str, cycles: int) -> dict[str, float]:
    """issue + call-next + finish, one after another, at window 1."""
    clock = ManualClock(START)
    c = Center.open(hall(), url, clock=clock)
    try:
        c.posts.login(1, "5001")
        service = hall().windows[0].services[0]
        for _ in range(50):  # warm up connections and caches
            c.tickets.issue(service)
            c.calls.call_next(1)
            c.calls.finish(1)
        t0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(cycles):
            c.tickets.issue(service)
            c.calls.call_next(1)
            c.calls.finish(1)
            clock.advance(0.01)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        c.close()
    return {
        "cycles": cycles,
        "seconds": round(elapsed, 3),
        "cycles_per_s": round(cycles / elapsed, 1),
        # CPU time of this process only (engine + driver; not the PostgreSQL server):
        # steadier than wall time on a shared machine.
        "client_cpu_ms_per_cycle": round(cpu / cycles * 1000, 3),
    }


def _ticket_rows(start: int, count: int, base_ms: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(start, start + count):
        code = SERVICES[i % 10]
        rows.append(
            {
                "hall_day": DAY,
                "service": code,
                "original_service": code,
                "number": i // 10 + 1,
                "display": f"{chr(65 + i % 10)}{i // 10 + 1:05d}",
                "source": "kiosk",
                "lane": Lane.REGULAR.value,
                "queue_key": base_ms + i,
                "state": TicketState.WAITING.value,
                "issued_at": START,
            }
        )
    return rows


def bench_call_next(url: str, waiting: int, calls: int) -> dict[str, float]:
    """call-next latency with ``waiting`` tickets held in the queue and 200 windows open."""
    clock = ManualClock(START)
    c = Center.open(hall(), url, clock=clock)
    try:
        for n in range(1, N_WINDOWS + 1):
            c.posts.login(n, f"{5000 + n}")
        base = to_ms(START)
        with c.store.write() as tx:
            for chunk in range(0, waiting, 5000):
                tx.conn.execute(
                    insert(tickets), _ticket_rows(chunk, min(5000, waiting - chunk), base)
                )
        if c.store.postgres:
            with c.store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE tickets")
        samples: list[float] = []
        next_row = waiting
        for i in range(calls + 50):
            window = i % N_WINDOWS + 1
            t0 = time.perf_counter()
            called = c.calls.call_next(window)
            took = time.perf_counter() - t0
            assert called is not None, "the queue ran dry"
            if i >= 50:
                samples.append(took * 1000)
            c.calls.finish(window)
            with c.store.write() as tx:  # keep the queue at its size
                tx.conn.execute(insert(tickets), _ticket_rows(next_row, 1, base))
            next_row += 1
    finally:
        c.close()
    return {
        "waiting": waiting,
        "calls": calls,
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(pct(samples, 0.99), 3),
        "max_ms": round(max(samples), 3),
    }


def run_backend(url_for: Any, cycles: int, calls: int) -> dict[str, Any]:
    """Every measurement on one backend; ``url_for(name)`` gives a fresh database."""
    small = bench_call_next(url_for("small"), 200, calls)
    large = bench_call_next(url_for("large"), 20_000, calls)
    return {
        "cycles": bench_cycles(url_for("cycles"), cycles),
        "call_next_200_waiting": small,
        "call_next_20000_waiting": large,
        "p99_ratio_20000_vs_200": round(large["p99_ms"] / small["p99_ms"], 2),
    }


def machine() -> dict[str, Any]:
    """What this ran on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--skip-postgres", action="store_true")
    opts = parser.parse_args()
    out: dict[str, Any] = {"benchmark": "engine", "machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = run_backend(
            lambda name: f"sqlite:///{tmp}/{name}.db", opts.cycles, opts.calls
        )
    if not opts.skip_postgres:
        from tests.pg import TempPostgres

        with TempPostgres() as pg:
            out["postgresql"] = run_backend(pg.create_database, opts.cycles, opts.calls)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
