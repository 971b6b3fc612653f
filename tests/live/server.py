"""A center process for tests and benchmarks: the real API app plus the live event stream.

    python -m tests.live.server --config HALL.json --database URL --fd N
                                [--clock fixed|running] [--poll SECONDS]

The hall config is JSON (``HallConfig.model_dump_json()``), so a test can hand over a hall
built in code. The server listens on an already bound socket passed as ``--fd`` (the parent
binds 127.0.0.1:0 and knows the port before the child starts: no port race). The clock is the
test hall's Monday 09:00, ``fixed`` or ``running`` on from there in real time, so business
hours never depend on when the suite runs. The database must already be migrated.

When ``center.api.app`` cannot be imported, a minimal app stands in (staff log-in without a
PIN check, issue, call-next, finish) so the live-event tests still run.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from center.api import events
from center.cli_center import freeze_startup_objects
from center.clock import UTC, Clock, ManualClock
from center.engine.center import Center
from config.schema import HallConfig
from tests.center.conftest import MONDAY_9


class RunningClock:
    """Real time, moved to start at ``start`` (the same in every process that starts it)."""

    def __init__(self, start: dt.datetime, epoch: float) -> None:
        self._start = start.astimezone(UTC)
        self._epoch = epoch

    def now(self) -> dt.datetime:
        """``start`` plus the seconds since ``epoch`` (a wall-clock timestamp)."""
        return self._start + dt.timedelta(seconds=max(0.0, time.time() - self._epoch))


def build_app(
    center: Center, poll_seconds: float, threads: int = 0, green_slots: int = 0
) -> FastAPI:
    """The real app if it exists, else a stand-in; either way with the event stream."""
    try:
        from center.api.app import create_app
        from center.api.settings import ApiSettings
    except ImportError:
        app = _stand_in(center)
    else:
        settings = ApiSettings()
        if threads:
            settings = dataclasses.replace(settings, worker_threads=threads)
        if green_slots:
            settings = dataclasses.replace(settings, green_slots=green_slots)
        app = create_app(center, settings, live_options={"poll_seconds": poll_seconds})
    if getattr(app.state, "event_hub", None) is None:
        events.attach(app, center.store, poll_seconds=poll_seconds)
    return app


def _stand_in(center: Center) -> FastAPI:
    app = FastAPI()
    app.state.authenticate = lambda token: token if token.startswith("test-") else None

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/test/login/{window}/{staff}")
    def login(window: int, staff: str) -> dict[str, Any]:
        center.posts.login(window, staff)
        return {"ok": True}

    @app.post("/test/issue/{service}")
    def issue(service: str) -> dict[str, Any]:
        return {"number": center.tickets.issue(service).display}

    @app.post("/test/call-next/{window}")
    def call_next(window: int) -> dict[str, Any]:
        called = center.calls.call_next(window)
        return {"number": called.display if called else None}

    @app.post("/test/finish/{window}")
    def finish(window: int) -> dict[str, Any]:
        return {"ticket_id": center.calls.finish(window)}

    return app


ROOT = Path(__file__).resolve().parents[2]


def spawn(
    config: Path,
    url: str,
    *,
    log: Path,
    poll: float = 1.0,
    clock: str = "fixed",
    epoch: float | None = None,
    extra: Sequence[str] = (),
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a center process on a fresh loopback port; the process and its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        port = sock.getsockname()[1]
        command = [
            sys.executable, "-m", "tests.live.server",
            "--config", str(config), "--database", url, "--fd", str(sock.fileno()),
            "--clock", clock, "--poll", str(poll),
        ]  # fmt: skip
        if epoch is not None:
            command += ["--epoch", str(epoch)]
        command += extra
        with log.open("ab") as out:
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                pass_fds=[sock.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    finally:
        sock.close()  # the child holds its own copy
    return proc, port


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Ask a center process to stop (SIGTERM), then kill it if it will not."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--database", required=True)
    p.add_argument("--fd", required=True, type=int)
    p.add_argument("--clock", choices=["fixed", "running"], default="fixed")
    p.add_argument("--epoch", type=float, default=None, help="wall time the running clock starts")
    p.add_argument("--poll", type=float, default=1.0, help="event hub poll fallback, seconds")
    p.add_argument("--log-level", default="warning")
    p.add_argument("--threads", type=int, default=0, help="worker threads (0: the API's default)")
    p.add_argument(
        "--green-slots", type=int, default=0, help="greenlets at once (0: the API's default)"
    )
    p.add_argument("--switch-interval", type=float, default=0.0, help="sys.setswitchinterval")
    args = p.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    cfg = HallConfig.model_validate_json(args.config.read_text(encoding="utf-8"))
    clock: Clock = (
        ManualClock(MONDAY_9)
        if args.clock == "fixed"
        else RunningClock(MONDAY_9, args.epoch or time.time())
    )
    center = Center.open(cfg, args.database, clock=clock, migrate=False)
    try:
        app = build_app(center, args.poll, args.threads, args.green_slots)
        freeze_startup_objects()  # as hallq center does
        config = uvicorn.Config(app, log_level=args.log_level, lifespan="on", access_log=False)
        uvicorn.Server(config).run(sockets=[socket.socket(fileno=args.fd)])
    finally:
        center.close()


if __name__ == "__main__":
    main()
