"""Load test of the center: 200 windows, 20 kiosks and 10 displays on PostgreSQL.

Run: ``.venv/bin/python bench/center_load.py [--seconds 20] [--max-requests 100000]
[--servers 1] [--rate R] [--durable]``. Loopback only, bounded in time and in requests.
It starts a throwaway PostgreSQL server (``tests/pg.py``; ``--durable`` turns fsync and
synchronous commit back on), migrates a database, seeds the queue, and starts ``--servers``
center processes on it (``tests/live/server.py``: the real API app and the live event
stream; with several, their hubs fan events out through LISTEN/NOTIFY). Then, with a lean
HTTP client (``bench/lean_http.py``) on one uvloop loop, each window logs in with its PIN
and loops call-next → finish and each kiosk loops issuing tickets; in a second process each
display subscribes to ``ticket.called`` (websockets). Without ``--rate`` every client works
closed-loop, without think time: that measures capacity, and latency is then the queue in
front of a saturated server. ``--rate R`` offers R requests/s spread evenly over the clients: latency at a load.

Prints one JSON object: requests/s; p50/p95/p99 of issue, call-next and finish (ms); the
delivery latency of each call to each display, from the call's HTTP response (and from its
request) to the event's arrival; and the CPU time per request of the centers, PostgreSQL
and this load generator, which share the machine. Targets on 2 cores: ≥ 1,000 requests/s,
p99 ≤ 50 ms, event delivery p99 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PIN = "2468"
SERVICES = "ABCDEFGHJK"  # one prefix per service
SECONDS_LIMIT = 120.0


# --- the hall -------------------------------------------------------------------------------


def bench_hall(windows: int, kiosks: int) -> Any:
    """A hall of ``windows`` windows over ten services, one staff member per window."""
    from argon2 import PasswordHasher

    from config.schema import HallConfig

    pin_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PIN)
    services = [
        {
            "code": f"s{i}",
            "name": f"业务{i}",
            "prefix": prefix,
            "window_class": "general",
            "number_digits": 4,
        }
        for i, prefix in enumerate(SERVICES)
    ]
    return HallConfig.model_validate(
        {
            "hall": {"code": "bench", "name": "压测政务服务中心"},
            "window_classes": {"general": "综合窗口"},
            "services": services,
            "windows": [
                {
                    "number": n,
                    "name": f"{n}号窗口",
                    "window_class": "general",
                    "services": [f"s{n % 10}", f"s{(n + 1) % 10}"],
                }
                for n in range(1, windows + 1)
            ],
            "staff": [
                {"number": f"{n:04d}", "name": f"员工{n}", "pin_hash": pin_hash}
                for n in range(1, windows + 1)
            ],
            "devices": {"kiosks": [{"name": f"k{n:02d}"} for n in range(1, kiosks + 1)]},
        }
    )


def seed(cfg: Any, url: str, per_service: int, epoch: float) -> None:
    """Issue ``per_service`` tickets for every service (one thread per service)."""
    from center.engine.center import Center
    from tests.center.conftest import MONDAY_9
    from tests.live.server import RunningClock

    center = Center.open(cfg, url, clock=RunningClock(MONDAY_9, epoch), migrate=False)
    try:
        threads = [
            threading.Thread(
                target=lambda code=s.code: [center.tickets.issue(code) for _ in range(per_service)]
            )
            for s in cfg.services
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        center.close()


def register_devices(url: str, cfg: Any, kiosks: int, displays: int) -> dict[str, list[str]]:
    """Device tokens: kiosks and displays."""
    from center.auth.devices import DeviceRegistry
    from center.auth.roles import Role
    from center.clock import SystemClock
    from center.db.connect import make_engine
    from center.engine.store import Store

    engine = make_engine(url, pool_size=2)
    try:
        reg = DeviceRegistry(Store(engine), SystemClock(), frozenset(cfg.windows_by_number))
        return {
            "kiosk": [reg.add(f"k{n:02d}", Role.KIOSK) for n in range(1, kiosks + 1)],
            "display": [reg.add(f"d{n:02d}", Role.DISPLAY) for n in range(1, displays + 1)],
        }
    finally:
        engine.dispose()


# --- the load -------------------------------------------------------------------------------


@dataclass
class Results:
    """What the clients measured (seconds, from ``time.perf_counter``)."""

    stop: asyncio.Event
    measuring: bool = False
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latency: dict[str, list[float]] = field(
        default_factory=lambda: {"issue": [], "call_next": [], "finish": []}
    )
    empty_calls: int = 0
    calls: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Ticket number → (call sent, call answered), for calls made while measuring."""
    arrivals: dict[tuple[int, str], float] = field(default_factory=dict)
    """(display, ticket number) → arrival of its ticket.called event."""

    def record(self, kind: str, started: float, status: int) -> float:
        done = time.perf_counter()
        if self.measuring:
            self.requests += 1
            self.statuses[str(status)] += 1
            self.latency[kind].append(done - started)
        return done


class Pacer:
    """Spaces one client's requests ``interval`` seconds apart (0: back to back)."""

    def __init__(self, interval: float, phase: float) -> None:
        self.interval = interval
        self.next = time.perf_counter() + phase * interval

    async def wait(self) -> None:
        if self.interval:
            self.next = max(self.next + self.interval, time.perf_counter() - self.interval)
            await asyncio.sleep(max(0.0, self.next - time.perf_counter()))


async def window_loop(http: Any, token: str, pace: Pacer, res: Results) -> None:
    """Call the next ticket, finish it, repeat."""
    headers = {"Authorization": f"Bearer {token}"}
    while not res.stop.is_set():
        await pace.wait()
        started = time.perf_counter()
        r = await http.post("/api/v1/staff/call-next", headers=headers)
        answered = res.record("call_next", started, r.status_code)
        called = r.json().get("called") if r.status_code == 200 else None
        if called is None:
            res.empty_calls += res.measuring
            continue
        if res.measuring:
            res.calls[called["number"]] = (started, answered)
        await pace.wait()
        started = time.perf_counter()
        r = await http.post("/api/v1/staff/finish", headers=headers)
        res.record("finish", started, r.status_code)


async def kiosk_loop(http: Any, token: str, index: int, pace: Pacer, res: Results) -> None:
    """Issue tickets, cycling through the services."""
    headers = {"Authorization": f"Bearer {token}"}
    n = index
    while not res.stop.is_set():
        await pace.wait()
        body = {"service": f"s{n % len(SERVICES)}"}
        n += 1
        started = time.perf_counter()
        r = await http.post("/api/v1/kiosk/tickets", json_body=body, headers=headers)
        res.record("issue", started, r.status_code)


async def display_loop(
    ws: Any, index: int, arrivals: dict[tuple[int, str], float], stop: asyncio.Event
) -> None:
    """Note when each ticket.called event arrives."""
    while not stop.is_set():
        try:
            raw = await asyncio.wait_for(ws.recv(), 0.5)
        except TimeoutError:
            continue
        arrived = time.perf_counter()
        message = json.loads(raw)
        if message.get("type") == "event":
            arrivals[(index, message["data"]["number"])] = arrived


def displays_process(ports: Sequence[int], tokens: Sequence[str], conn: Any) -> None:
    """The displays, in a process of their own (``multiprocessing``, spawned).

    Ten displays receive about ten events per call; in the process that sends the requests
    they compete with it for its one thread. ``time.perf_counter`` is the system's monotonic
    clock, so arrival times compare with the other process's request times. Sends "ready"
    once every display is live, waits for any message, then sends back the arrivals."""

    async def main() -> None:
        sockets = [await subscribe(ports[i % len(ports)], t) for i, t in enumerate(tokens)]
        arrivals: dict[tuple[int, str], float] = {}
        stop = asyncio.Event()
        gc.disable()  # arrivals grow large; see run_load
        conn.send("ready")
        told = asyncio.get_running_loop().run_in_executor(None, conn.recv)
        told.add_done_callback(lambda _: stop.set())
        await asyncio.gather(*(display_loop(ws, i, arrivals, stop) for i, ws in enumerate(sockets)))
        for ws in sockets:
            await ws.close()
        conn.send(arrivals)

    _run(main())


async def subscribe(port: int, token: str) -> Any:
    """A display's WebSocket, subscribed to calls and caught up."""
    from websockets.asyncio.client import connect

    ws = await connect(
        f"ws://127.0.0.1:{port}/api/v1/events/stream", max_queue=None, compression=None
    )
    await ws.send(json.dumps({"token": token, "kinds": ["ticket.called"]}))
    while json.loads(await ws.recv())["type"] != "live":
        pass
    return ws


async def login(http: Any, window: int) -> str:
    r = await http.post(
        "/api/v1/staff/login", json_body={"staff": f"{window:04d}", "pin": PIN, "window": window}
    )
    if r.status_code != 200:
        raise SystemExit(f"log-in at window {window} failed: {r.status_code} {r.body!r}")
    token: str = r.json()["token"]
    return token


async def run_load(
    ports: Sequence[int],
    windows: int,
    tokens: dict[str, list[str]],
    args: argparse.Namespace,
    cpu: CpuMeter,
) -> tuple[Results, float]:
    """Run every client until the time or request budget is spent; results and seconds."""
    from bench.lean_http import LeanClient

    def client(i: int) -> LeanClient:
        # One connection per simulated device, as in a hall.
        return LeanClient("127.0.0.1", ports[i % len(ports)])

    res = Results(asyncio.Event())
    window_http = {w: client(w) for w in range(1, windows + 1)}
    kiosk_http = [client(i) for i in range(len(tokens["kiosk"]))]
    try:
        gate = asyncio.Semaphore(16)

        async def gated_login(window: int) -> str:
            async with gate:
                return await login(window_http[window], window)

        staff = await asyncio.gather(*(gated_login(w) for w in range(1, windows + 1)))
        parent, child = multiprocessing.get_context("spawn").Pipe()
        shown = multiprocessing.get_context("spawn").Process(
            target=displays_process, args=(list(ports), tokens["display"], child), daemon=True
        )
        shown.start()
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, parent.poll, 60.0):  # "ready"
            shown.kill()
            raise SystemExit("the displays did not subscribe within 60 s")
        parent.recv()
        cpu.extra = [shown.pid or 0]
        clients = windows + len(tokens["kiosk"])
        interval = clients / args.rate if args.rate else 0.0
        tasks = [
            *(
                window_loop(window_http[w], staff[w - 1], Pacer(interval, w / clients), res)
                for w in range(1, windows + 1)
            ),
            *(
                kiosk_loop(kiosk_http[i], t, i, Pacer(interval, (windows + i) / clients), res)
                for i, t in enumerate(tokens["kiosk"])
            ),
        ]
        running = [asyncio.create_task(t) for t in tasks]
        await asyncio.sleep(args.warmup)
        # The results grow to tens of thousands of objects; a full collection of them would
        # stall this loop, and the paced clients would then catch up in one burst that the
        # center is blamed for. Nothing here makes reference cycles worth collecting.
        gc.disable()
        res.measuring = True
        cpu.begin()
        began = time.perf_counter()
        deadline = began + args.seconds
        while time.perf_counter() < deadline and res.requests < args.max_requests:
            await asyncio.sleep(0.05)
        res.measuring = False
        elapsed = time.perf_counter() - began
        gc.enable()
        cpu.end()
        await asyncio.sleep(args.grace)  # let the last events reach the displays
        res.stop.set()
        await asyncio.gather(*running, return_exceptions=True)
        parent.send("stop")
        if not await loop.run_in_executor(None, parent.poll, 60.0):
            shown.kill()
            raise SystemExit("the displays process did not report its arrivals within 60 s")
        res.arrivals = parent.recv()
        shown.join(10)
        return res, elapsed
    finally:
        for http in [*window_http.values(), *kiosk_http]:
            await http.aclose()


# --- the report -----------------------------------------------------------------------------


def percentiles(values: list[float], scale: float = 1000.0) -> dict[str, float | int]:
    """n and p50/p95/p99 (nearest rank), in milliseconds."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * scale, 2)

    return {"n": len(ordered), "p50": rank(50), "p95": rank(95), "p99": rank(99)}


def delivery(res: Results, displays: int) -> dict[str, Any]:
    """Call → display latencies over every (call, display) pair."""
    after_response, after_request = [], []
    missing = early = 0
    for number, (sent, answered) in res.calls.items():
        for d in range(displays):
            arrived = res.arrivals.get((d, number))
            if arrived is None:
                missing += 1
                continue
            early += arrived < answered
            after_response.append(max(0.0, arrived - answered))
            after_request.append(arrived - sent)
    return {
        "from_response_ms": percentiles(after_response),
        "from_request_ms": percentiles(after_request),
        "arrived_before_response": early,
        "missing": missing,
    }


def cpu_seconds(pids: Sequence[int], which: tuple[int, ...] = (11, 12)) -> float:
    """CPU seconds used so far by ``pids`` (those that still exist): user + system, or only
    the ``/proc/PID/stat`` fields ``which`` (after the command; 11 utime, 12 stime)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in which)
    return total / os.sysconf("SC_CLK_TCK")


def children(parent: int) -> list[int]:
    """Processes whose parent is ``parent`` (PostgreSQL's backends)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                    if int(f.read().rpartition(")")[2].split()[1]) == parent:
                        found.append(int(entry))
            except (OSError, ValueError):
                continue
    return found


@dataclass
class CpuMeter:
    """CPU seconds of the centers, PostgreSQL and this load generator over the measurement."""

    centers: list[int]
    postmaster: int
    extra: list[int] = field(default_factory=list)
    """The load generator's other processes (the displays)."""
    start: dict[str, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def sample(self) -> dict[str, float]:
        pg = [self.postmaster, *children(self.postmaster)]
        return {
            "center_processes": cpu_seconds(self.centers),
            "center_processes_system": cpu_seconds(self.centers, (12,)),
            "postgres": cpu_seconds(pg),
            "load_generator": time.process_time() + cpu_seconds(self.extra),
        }

    def begin(self) -> None:
        self.start = self.sample()

    def end(self) -> None:
        now = self.sample()
        self.used = {k: round(now[k] - self.start[k], 2) for k in now}


def machine() -> dict[str, Any]:
    """CPU count and model, memory."""
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(kb / 2**20, 1),
        "python": platform.python_version(),
    }


def calibration_ms() -> float:
    """CPU time of a fixed pure-Python workload (best of 5): how fast the machine is now.

    This shared machine's speed changes by the minute (the same run costs 1.0 or 1.5 ms of
    center CPU per request); a figure is comparable with another only next to this one."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        total = 0
        for i in range(300_000):
            total += i * i % 7
        best = min(best, time.process_time() - start)
    return round(best * 1000, 1)


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--windows", type=int, default=200)
    p.add_argument("--kiosks", type=int, default=20)
    p.add_argument("--displays", type=int, default=10)
    p.add_argument(
        "--servers",
        type=int,
        default=1,
        help="center processes on the database (the issue's setup is one; on 2 cores a "
        "second one costs more CPU per request than it adds)",
    )
    p.add_argument("--seconds", type=float, default=20.0, help="measured time (at most 120)")
    p.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered requests/s, spread evenly over the clients (0: closed loop, no pauses)",
    )
    p.add_argument("--max-requests", type=int, default=100_000)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--grace", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1500, help="tickets per service before the start")
    p.add_argument("--durable", action="store_true", help="PostgreSQL with fsync and sync commit")
    p.add_argument("--threads", type=int, default=0, help="worker threads per center process")
    p.add_argument(
        "--green-slots",
        type=int,
        default=0,
        help="database endpoints running at once per center process (PostgreSQL: greenlets)",
    )
    p.add_argument("--switch-interval", type=float, default=0.0, help="GIL switch interval, s")
    args = p.parse_args(argv)
    args.seconds = min(args.seconds, SECONDS_LIMIT)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from center.api.settings import DEFAULT_WORKER_THREADS, ApiSettings
    from center.db.connect import make_engine, upgrade
    from tests.live.server import spawn, stop
    from tests.pg import TempPostgres

    durable = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    settings = {"max_connections": "400", **(durable if args.durable else {})}
    cfg = bench_hall(args.windows, args.kiosks)
    with TempPostgres(settings=settings) as pg, tempfile.TemporaryDirectory() as tmp:
        url = pg.create_database("hallq_bench")
        engine = make_engine(url, pool_size=2)
        upgrade(engine)
        engine.dispose()
        epoch = time.time()
        seed(cfg, url, args.seed, epoch)
        tokens = register_devices(url, cfg, args.kiosks, args.displays)
        config = Path(tmp) / "hall.json"
        config.write_text(cfg.model_dump_json(), encoding="utf-8")
        procs, ports = [], []
        try:
            for i in range(args.servers):
                proc, port = spawn(
                    config,
                    url,
                    log=Path(tmp) / f"center{i}.log",
                    clock="running",
                    epoch=epoch,
                    extra=_server_options(args),
                )
                procs.append(proc)
                ports.append(port)
            _wait_healthy(ports)
            assert pg.dir is not None
            postmaster = int((pg.dir / "data" / "postmaster.pid").read_text().split()[0])
            calibrated = calibration_ms()
            cpu = CpuMeter([p.pid for p in procs], postmaster)
            res, elapsed = _run(run_load(ports, args.windows, tokens, args, cpu))
        finally:
            for proc in procs:
                stop(proc)
        logs = {p.name: p.read_text()[-2000:] for p in Path(tmp).glob("center*.log")}
    report = {
        "benchmark": "center_load",
        "machine": {
            **machine(),
            "calibration_ms": {"before": calibrated, "after": calibration_ms()},
        },
        "setup": {
            "windows": args.windows,
            "kiosks": args.kiosks,
            "displays": args.displays,
            "center_processes": args.servers,
            "postgres": "durable (fsync, synchronous_commit on)"
            if args.durable
            else "fsync and synchronous_commit off",
            "seconds": round(elapsed, 2),
            "offered_rate": args.rate or "closed loop",
            "seeded_tickets": args.seed * len(SERVICES),
            "threads_per_process": args.threads or DEFAULT_WORKER_THREADS,
            "green_slots_per_process": args.green_slots or ApiSettings().green_slots,
            "switch_interval_s": args.switch_interval or sys.getswitchinterval(),
        },
        "requests": res.requests,
        "requests_per_s": round(res.requests / elapsed, 1),
        "statuses": dict(res.statuses),
        "issue_ms": percentiles(res.latency["issue"]),
        "call_next_ms": {**percentiles(res.latency["call_next"]), "empty": res.empty_calls},
        "finish_ms": percentiles(res.latency["finish"]),
        "event_delivery": delivery(res, args.displays),
        "cpu_seconds": cpu.used,
        "cpu_ms_per_request": {
            k: round(v * 1000 / max(1, res.requests), 2) for k, v in cpu.used.items()
        },
        "load_average_after": os.getloadavg()[0],
        "server_log_tail": {k: v for k, v in logs.items() if v.strip()},
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _run(coro: Any) -> Any:
    """Run the load on uvloop when it is installed (less CPU per request than asyncio's)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def _server_options(args: argparse.Namespace) -> list[str]:
    options = []
    if args.threads:
        options += ["--threads", str(args.threads)]
    if args.green_slots:
        options += ["--green-slots", str(args.green_slots)]
    if args.switch_interval:
        options += ["--switch-interval", str(args.switch_interval)]
    return options


def _wait_healthy(ports: Sequence[int], timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"center on port {port} did not start")
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
