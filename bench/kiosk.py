"""Kiosk benchmark (issue 5): prints one JSON object.

* ``cold_start_s``: ``hallq kiosk`` started as a new process (simulated devices, offscreen)
  until its window has painted its first frame, measured by the parent from spawn;
  median and max of ``--starts`` runs. Target ≤ 2 s.
* ``touch_to_print_ms``: the 取号 button clicked until the whole ticket (its cut) has
  reached the printer simulator over TCP, the center on loopback in another process.
  p50/p95/max over every ticket. Target p95 ≤ 300 ms.
* ``rss_mb``: resident memory of the kiosk process after 100, 500 and 1,000 tickets, all
  through the widgets. Target ≤ 250 MB and not growing.

    .venv/bin/python bench/kiosk.py [--tickets 1000] [--starts 5]

The center runs the county example hall (``config/examples/county.toml``) from a SQLite
file in a temporary directory, with its clock at a Monday morning.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

COUNTY = REPO / "config" / "examples" / "county.toml"
KIOSK = "entrance"
READY_MARK = "kiosk interactive after"

CENTER_SCRIPT = """
import json, sys
from pathlib import Path
from config.loader import load
from kiosk.simulate import LoopbackCenter
cfg = load(sys.argv[1])
center = LoopbackCenter(cfg, Path(sys.argv[2])).start()
center.open_windows()
out = {"url": center.url, "token": center.device_token(sys.argv[3])}
Path(sys.argv[4]).write_text(json.dumps(out))
sys.stdin.read()
center.stop()
"""


def start_center(tmp: Path) -> tuple[subprocess.Popen[str], str, str]:
    """The center in its own process; (process, url, kiosk token)."""
    info = tmp / "center.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CENTER_SCRIPT,
            str(COUNTY),
            str(tmp / "center.db"),
            KIOSK,
            str(info),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not info.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the center did not start")
        threading.Event().wait(0.05)
    data = json.loads(info.read_text())
    return proc, data["url"], data["token"]


def cold_start(url: str, token_file: Path, tmp: Path) -> float:
    """Seconds from spawning ``hallq kiosk`` to its first painted frame."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    args = [
        sys.executable, "-m", "kiosk.app", "--config", str(COUNTY), "--kiosk", KIOSK,
        "--center", url, "--token-file", str(token_file), "--simulate", "--offscreen",
        "--no-voice", "--quit-after", "1", "--state-dir", str(tmp), "--log-level", "INFO",
    ]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    ready = None
    for line in proc.stderr:
        if ready is None and READY_MARK in line:
            ready = time.monotonic() - started
    proc.wait(timeout=60)
    if ready is None:
        raise RuntimeError("the kiosk never became interactive")
    return ready


def rss_mb() -> float:
    """This process's resident set size in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ticket_loop(url: str, token: str, tmp: Path, tickets: int) -> dict[str, Any]:
    """Take ``tickets`` tickets through the widgets; latencies and memory."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from config.loader import load
    from devices.printer.sim import TcpPrinterSim
    from kiosk.adapters import ClientCenter, EscposPrinter
    from kiosk.app import pick_kiosk
    from kiosk.presenter import KioskPresenter, Screen
    from kiosk.service import KioskService
    from kiosk.views.window import KioskWindow

    app = QApplication.instance() or QApplication([])
    cfg = load(COUNTY)
    printer_sim = TcpPrinterSim().start()
    kiosk = pick_kiosk(cfg, KIOSK)
    from config.schema import Printer

    kiosk = kiosk.model_copy(
        update={
            "printer": Printer(transport="network", target=printer_sim.target),
            "id_reader": None,
            "card_reader": None,
            "camera": None,
        }
    )
    codes = [s.code for s in cfg.services if not s.id_required and s.daily_max is None]
    link = ClientCenter(url, token, tmp / "state", codes)
    service = KioskService(cfg, kiosk, link, printer=EscposPrinter(kiosk.printer))
    presenter = KioskPresenter(service)
    window = KioskWindow(presenter, kiosk.orientation)
    window.show()
    presenter.start()
    pause = threading.Event()

    def settle(until: Any, timeout: float = 10.0) -> None:
        # processEvents() alone leaves deleteLater()'d widgets alive (no event loop level to
        # return to); a running app deletes them, so the bench does too.
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError("kiosk stuck")
            app.processEvents()
            app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            pause.wait(0.0005)

    settle(lambda: presenter.pending == 0)
    sim = printer_sim.printer
    latencies: list[float] = []
    memory: dict[str, float] = {"start": round(rss_mb(), 1)}
    for i in range(tickets):
        presenter.go_home()
        presenter.choose_service(codes[i % len(codes)])
        settle(lambda: presenter.screen is Screen.INFO)
        before = len(sim.jobs)
        started = time.monotonic()
        window.info.take_button.click()
        settle(lambda b=before: len(sim.jobs) > b and sim.jobs[-1].cut)
        latencies.append((time.monotonic() - started) * 1000)
        settle(lambda: presenter.screen in (Screen.TICKET, Screen.FALLBACK))
        if presenter.screen is not Screen.TICKET:
            raise RuntimeError("a ticket was not printed")
        with sim._lock:  # the simulator keeps every job; the kiosk must not be charged for it
            sim.jobs.clear()
            sim.received.clear()
        if i + 1 in (100, 500, tickets):
            memory[str(i + 1)] = round(rss_mb(), 1)
    window.allow_close = True
    presenter.shutdown()
    printer_sim.stop()
    window.close()
    window.deleteLater()
    presenter.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    latencies.sort()
    return {
        "touch_to_print_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(latencies[int(len(latencies) * 0.95) - 1], 1),
            "max": round(latencies[-1], 1),
            "tickets": len(latencies),
            "target_p95": 300,
        },
        "rss_mb": {**memory, "target": 250},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--starts", type=int, default=5)
    opts = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="hallq-bench-kiosk-") as name:
        tmp = Path(name)
        proc, url, token = start_center(tmp)
        try:
            token_file = tmp / "kiosk.token"
            token_file.write_text(token)
            starts = [cold_start(url, token_file, tmp / f"start-{i}") for i in range(opts.starts)]
            loop = ticket_loop(url, token, tmp, opts.tickets)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=30)
    result = {
        "benchmark": "kiosk",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "cold_start_s": {
            "median": round(statistics.median(starts), 3),
            "max": round(max(starts), 3),
            "runs": len(starts),
            "target": 2.0,
        },
        **loop,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
