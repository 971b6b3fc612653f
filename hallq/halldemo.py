"""The whole hall in one command: center, simulated buses, display controller, kiosk, screen.

    hallq hall-demo [--config config/examples/county.toml] [--out var/demo] [--duration 90]
                    [--seed 7] [--headless] [--windows 8]

Every part runs as its own process, talking over real HTTP, WebSocket and pseudo-terminals:
``hallq center`` (SQLite under ``--out``), ``hallq sim bus`` (the hall's RS-485 buses on
ptys), ``hallq display`` (LED strips, hall board, keypads, evaluators; announcements written
as WAV files), ``hallq screen`` and ``hallq kiosk --simulate`` (Qt, each on its own Xvfb
server when headless). A scripted hour, compressed into ``--duration`` seconds of wall time,
then runs against them: citizens take tickets at the kiosk (through the API, as the kiosk
device), clerks work windows from their caller keypads (key presses on the simulated bus)
and from the staff console API (calls, recalls, no-shows, a transfer, a pause, cases),
citizens rate on the simulated evaluators and one through the QR rating page's endpoint.

Written to ``--out``: ``kiosk.png``, ``hall_screen.png``, ``staff_console.png``,
``supervisor.png``, ``led_frames.json`` (what the strips and the board showed, decoded),
``voice/*.wav``, ``summary.json`` (figures read back from the database) and ``logs/``.

The center uses the real clock, so the demo runs on a copy of the hall file with the hours
widened to the whole hall day, every day (``--out/config/``). Without ``--headless`` and
with a ``$DISPLAY``, the kiosk and the screen open there as windows and everything keeps
running after the scripted part until Ctrl-C, for a person to use.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import httpx

log = logging.getLogger(__name__)

HALLQ = [sys.executable, "-m", "hallq.cli"]
DEMO_HOURS = """[hours]
# hallq hall-demo: the whole day (00:00-23:59), every day, so the demo runs at any hour.
weekdays = [1, 2, 3, 4, 5, 6, 7]
sessions = [{ start = "00:00", end = "23:59" }]
last_ticket_minutes = 0
holiday_calendar = "none"
"""
HOURS_NOTE = (
    "demo copy of the hall file: open 00:00-23:59 every day, no holiday calendar,"
    " hall day from midnight"
)
PAUSE_REASON = "取材料"
LEVELS = [5, 4, 3, 2, 1]
LEVEL_WEIGHTS = [70, 18, 7, 3, 2]
OUTPUTS = ("kiosk.png", "hall_screen.png", "staff_console.png", "supervisor.png")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class DemoError(Exception):
    """The demo cannot go on: a part did not start or stopped."""


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the demo copy of the hall file ---------------------------------------------------------


def demo_config(source: Path, out: Path) -> Path:
    """Copy the hall file and its includes (every TOML file of its folder) to ``out`` and
    widen the hours of the copy to the whole hall day, every day; returns the copy's path."""
    out.mkdir(parents=True, exist_ok=True)
    for toml in source.parent.glob("*.toml"):
        shutil.copy2(toml, out / toml.name)
    text = source.read_text(encoding="utf-8")
    # Sessions may not run past midnight, so the hall day starts at midnight in the copy.
    boundary = re.compile(r"^day_boundary\s*=.*$", re.MULTILINE)
    if boundary.search(text):
        text = boundary.sub('day_boundary = "00:00"', text, count=1)
    else:
        text = re.sub(
            r"^\[hall\]\s*$", '[hall]\nday_boundary = "00:00"', text, count=1, flags=re.MULTILINE
        )
    hours = DEMO_HOURS
    lines = text.splitlines(keepends=True)
    header = [i for i, line in enumerate(lines) if line.startswith("[")]
    at = next((i for i in header if lines[i].strip() == "[hours]"), None)
    if at is None:
        text += "\n" + hours
    else:
        after = next((i for i in header if i > at), len(lines))
        text = "".join(lines[:at]) + hours + "\n" + "".join(lines[after:])
    target = out / source.name
    target.write_text(text, encoding="utf-8")
    return target


# --- processes ------------------------------------------------------------------------------


@dataclass
class Part:
    """One running program of the hall."""

    name: str
    proc: subprocess.Popen[str]
    log_path: Path


@dataclass
class Processes:
    """Every process the demo started, stopped in reverse order, never left behind."""

    logs: Path
    parts: list[Part] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        stdin: bool = False,
        stdout: bool = False,
    ) -> Part:
        """Start ``argv`` in its own process group, stderr (and stdout) to ``logs/NAME.log``."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log_path = self.logs / f"{name}.log"
        sink: IO[str] = log_path.open("w", encoding="utf-8")
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout else sink,
            stderr=sink,
            env={**os.environ, **(env or {})},
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )
        sink.close()
        part = Part(name, proc, log_path)
        self.parts.append(part)
        log.info("started %s (pid %d)", name, proc.pid)
        return part

    def check(self) -> None:
        """DemoError when a part has stopped on its own."""
        for part in self.parts:
            code = part.proc.poll()
            if code is not None:
                tail = part.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise DemoError(f"{part.name} stopped (exit status {code}):\n{tail}")

    def stop_all(self, grace: float = 10.0) -> None:
        """Stop every process group, newest first (so programs go before the X servers and
        buses they use): SIGTERM, then SIGKILL after ``grace`` seconds; all reaped."""
        for part in reversed(self.parts):
            if part.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(part.proc.pid, signal.SIGTERM)
                try:
                    part.proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in %.0f s: killed", part.name, grace)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(part.proc.pid, signal.SIGKILL)
                    part.proc.wait(timeout=5)
            # children that outlived their parent share its process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(part.proc.pid, signal.SIGKILL)
            for stream in (part.proc.stdin, part.proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self.parts.clear()


def wait_until(check: Callable[[], bool], timeout: float, what: str, procs: Processes) -> None:
    """Poll ``check`` until it holds; DemoError after ``timeout`` s or when a part stopped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check()
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise DemoError(f"timed out after {timeout:.0f} s waiting for {what}")


def start_xvfb(procs: Processes, name: str, size: str) -> str:
    """An Xvfb server of ``size`` (WxH) on a free display number; returns ``:N``."""
    for number in range(90, 190):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        part = procs.start(
            name, ["Xvfb", f":{number}", "-screen", "0", f"{size}x24", "-nolisten", "tcp"]
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                return f":{number}"
            if part.proc.poll() is not None:
                break
            time.sleep(0.1)
        if part.proc.poll() is None:
            raise DemoError(f"Xvfb :{number} did not come up")
    raise DemoError("no free X display number for Xvfb")


# --- the simulated buses ----------------------------------------------------------------------


class SimBus:
    """``hallq sim bus`` driven through its stdin; its JSON answers read on a thread."""

    def __init__(self, part: Part) -> None:
        self.part = part
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.buses: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, name="sim-bus-out", daemon=True).start()

    def _read(self) -> None:
        stream = self.part.proc.stdout
        assert stream is not None
        for line in stream:
            with contextlib.suppress(ValueError):
                value = json.loads(line)
                if isinstance(value, dict):
                    self.lines.put(value)

    def wait_ready(self, count: int, procs: Processes, timeout: float = 15.0) -> None:
        """Until every bus announced its pty."""
        deadline = time.monotonic() + timeout
        while len(self.buses) < count:
            procs.check()
            if time.monotonic() > deadline:
                raise DemoError("hallq sim bus did not publish its ptys")
            with contextlib.suppress(queue.Empty):
                value = self.lines.get(timeout=0.2)
                if "bus" in value and "path" in value:
                    self.buses.append(value)

    def command(self, line: str, timeout: float = 5.0) -> dict[str, Any]:
        """Send one command and return its answer."""
        with self._lock:
            stdin = self.part.proc.stdin
            if stdin is None or self.part.proc.poll() is not None:
                raise DemoError("hallq sim bus is not running")
            while not self.lines.empty():
                self.lines.get_nowait()
            stdin.write(line + "\n")
            stdin.flush()
            try:
                return self.lines.get(timeout=timeout)
            except queue.Empty:
                raise DemoError(f"hallq sim bus did not answer {line!r}") from None


# --- the center, as the kiosk and the clerks use it -------------------------------------------


class Api:
    """The center's HTTP API with the demo's credentials."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=15)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
        """``(status, json)``; never raises for 4xx."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = self.http.request(method, path, json=body, headers=headers)
        try:
            data = reply.json()
        except ValueError:
            data = None
        return reply.status_code, data

    def ok(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        """The reply of a call that must succeed."""
        status, data = self.call(method, path, token, body)
        if status >= 300:
            raise DemoError(f"{method} {path}: {status} {data}")
        return data


# --- the scripted hour ----------------------------------------------------------------------


@dataclass
class Desk:
    """What the script knows of one open window."""

    number: int
    staff: str
    by_keypad: bool
    session: str = ""
    busy_until: float = 0.0
    serving: str | None = None
    ticket_id: int | None = None
    plan: str = "serve"
    recalled: bool = False
    paused_until: float | None = None
    services: list[str] = field(default_factory=list)


@dataclass
class Tally:
    """What the script did, to print next to the figures the database gives."""

    tickets: int = 0
    refused: int = 0
    keypad_presses: int = 0
    console_actions: int = 0
    evaluator_ratings: int = 0
    evaluator_refused: int = 0
    qr_ratings: int = 0
    cases: int = 0
    transfers: int = 0
    no_shows: int = 0
    pauses: int = 0


class Script:
    """The hall's hour, compressed: arrivals, window work, ratings."""

    def __init__(
        self,
        cfg: Any,
        api: Api,
        sim: SimBus,
        kiosk_token: str,
        windows: int,
        duration: float,
        seed: int,
    ) -> None:
        self.cfg, self.api, self.sim = cfg, api, sim
        self.kiosk = kiosk_token
        self.rng = random.Random(seed)
        self.duration = duration
        self.tally = Tally()
        self.frames: list[dict[str, Any]] = []
        self.finished_ids: list[int] = []
        chosen = [w for w in cfg.windows if w.posts is not None][:windows]
        self.desks = [
            Desk(w.number, w.posts.a, by_keypad=(i % 2 == 0), services=list(w.services))
            for i, w in enumerate(chosen)
            if w.posts is not None
        ]
        self.services = sorted({code for d in self.desks for code in d.services[:2]})
        self.done_transfer = False
        self.done_pause = False
        self.done_keypad_pause = False
        self.pauses_after = 0.0  # monotonic time after which the pauses happen

    def log_in(self) -> None:
        """A clerk at every chosen window (PIN = 工号 in the example halls)."""
        for d in self.desks:
            body = {"staff": d.staff, "pin": d.staff, "window": d.number}
            d.session = str(self.api.ok("POST", "/api/v1/staff/login", None, body)["token"])

    def run(self, procs: Processes, snapshot: Callable[[], None] | None = None) -> None:
        """Arrivals for the first three quarters of the time, windows working throughout;
        ``snapshot`` is called (on a thread of its own) at 60 % of the time, queues full."""
        start = time.monotonic()
        shooter: threading.Thread | None = None
        errors: list[BaseException] = []

        def shoot() -> None:
            assert snapshot is not None
            try:
                snapshot()
            except BaseException as exc:  # reported to the main thread below
                errors.append(exc)

        end = start + self.duration
        last_frame = 0.0
        self.pauses_after = start + self.duration / 3
        first = min(8, 2 * len(self.desks))
        self._arrive(first)  # the morning queue at the door
        # citizens a second: a third more than the windows serve, so queues build up
        scale = max(0.4, self.duration / 90)
        rate = 1.3 * len(self.desks) / (6.0 * scale)
        while time.monotonic() < end:
            procs.check()
            now = time.monotonic()
            if now < start + 0.75 * self.duration:
                due = first + int(rate * (now - start)) - self.tally.tickets - self.tally.refused
                self._arrive(max(0, min(due, 5)))
            for d in self.desks:
                self._work(d, now)
            if now - last_frame >= max(2.0, self.duration / 12):
                self._frame(now - start)
                last_frame = now
            if snapshot is not None and shooter is None and now > start + 0.6 * self.duration:
                shooter = threading.Thread(target=shoot, name="screenshots", daemon=True)
                shooter.start()
            time.sleep(0.25)
        self._frame(time.monotonic() - start)
        self._qr_rating()
        if shooter is not None:
            shooter.join(timeout=120)
            if shooter.is_alive():
                raise DemoError("the screenshots did not finish in 120 s")
        if errors:
            raise DemoError(f"screenshots: {errors[0]}") from errors[0]

    def _arrive(self, count: int) -> None:
        from center.demo import id_number

        for _ in range(count):
            code = self.rng.choice(self.services)
            body: dict[str, Any] = {"service": code}
            if self.cfg.services_by_code[code].id_required:
                body["person"] = {"id_number": id_number(self.rng)}
            status, _data = self.api.call("POST", "/api/v1/kiosk/tickets", self.kiosk, body)
            if status < 300:
                self.tally.tickets += 1
            else:
                self.tally.refused += 1

    def _frame(self, at: float) -> None:
        shown = self.sim.command("show")
        leds: dict[str, Any] = {}
        for bus, devices in shown.items():
            for address, device in devices.items():
                if "strip" in device or "board" in device:
                    leds[f"{bus}/{address}"] = device
        self.frames.append({"seconds": round(at, 1), "shown": leds})

    # window work ----------------------------------------------------------------------------

    def _work(self, d: Desk, now: float) -> None:
        if now < d.busy_until:
            return
        if d.paused_until is not None:
            self._resume(d)
            return
        if d.by_keypad:
            self._keypad(d, now)
        else:
            self._console(d, now)

    def _press(self, d: Desk, key: str) -> None:
        answer = self.sim.command(f"press {d.number} {key}")
        if "error" in answer:
            raise DemoError(f"sim bus: {answer['error']}")
        self.tally.keypad_presses += 1

    def _rate(self, d: Desk) -> None:
        level = self.rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
        answer = self.sim.command(f"rate {d.number} {level}")
        if answer.get("accepted"):
            self.tally.evaluator_ratings += 1
        else:
            self.tally.evaluator_refused += 1

    def _visit_time(self) -> float:
        return self.rng.uniform(3.0, 9.0) * max(0.4, self.duration / 90)

    def _keypad(self, d: Desk, now: float) -> None:
        """Caller keypad: 叫号 also ends the visit before; the evaluator then prompts."""
        current = self._current(d)
        had_visit = d.serving is not None if current is None else bool(current.get("number"))
        if not self.done_keypad_pause and d is self.desks[0] and not had_visit:
            self._press(d, "pause")  # a keypad pauses an idle window: before its first call
            self.done_keypad_pause = True
            self.tally.pauses += 1
            d.paused_until = now + 4.0
            d.busy_until = now + 4.0
            return
        if had_visit and not d.recalled and self.rng.random() < 0.15:
            self._press(d, "recall")
            d.recalled = True
            d.busy_until = now + 1.0
            return
        self._press(d, "call_next")
        if had_visit and self.rng.random() < 0.85:
            time.sleep(0.4)  # the evaluator prompts once the center reports the visit ended
            self._rate(d)
        d.serving, d.recalled = "keypad", False
        d.busy_until = now + self._visit_time()

    def _current(self, d: Desk) -> dict[str, Any] | None:
        """The window's current visit as the console sees it ({} when idle); None when the
        session is gone (the browser logged the same clerk in for the screenshot)."""
        status, data = self.api.call("GET", "/api/v1/staff/console", d.session)
        if status >= 300 or not isinstance(data, dict):
            return None
        current = data.get("current")
        return current if isinstance(current, dict) else {}

    def _console(self, d: Desk, now: float) -> None:
        """Staff console (the same API the console page uses)."""
        if d.serving is not None:
            self._end_visit(d, now)
            return
        if not self.done_pause and now > self.pauses_after and self.rng.random() < 0.1:
            self.api.ok("POST", "/api/v1/staff/pause", d.session, {"reason": PAUSE_REASON})
            self.done_pause = True
            self.tally.pauses += 1
            self.tally.console_actions += 1
            d.paused_until = now + 5.0
            d.busy_until = now + 5.0
            return
        status, data = self.api.call("POST", "/api/v1/staff/call-next", d.session)
        self.tally.console_actions += 1
        called = (data or {}).get("called") if status < 300 else None
        if not called:
            d.busy_until = now + 1.0
            return
        d.serving, d.recalled = str(called["number"]), False
        roll = self.rng.random()
        if not self.done_transfer and len(self.services) > 1:
            d.plan, self.done_transfer = "transfer", True
        else:
            d.plan = "no_show" if roll < 0.12 else "serve"
        d.busy_until = now + (1.5 if d.plan != "serve" else self._visit_time())

    def _end_visit(self, d: Desk, now: float) -> None:
        self.tally.console_actions += 1
        if d.plan == "no_show":
            if not d.recalled:
                self.api.ok("POST", "/api/v1/staff/recall", d.session)
                d.recalled, d.busy_until = True, now + 1.5
                return
            self.api.ok("POST", "/api/v1/staff/skip", d.session)
            self.tally.no_shows += 1
        elif d.plan == "transfer":
            serving = self._serving_service(d)
            others = [c for c in self.services if c != serving]
            body = {"to_service": self.rng.choice(others)}
            self.api.ok("POST", "/api/v1/staff/transfer", d.session, body)
            self.tally.transfers += 1
        else:
            self._register_case(d)
            data = self.api.ok("POST", "/api/v1/staff/finish", d.session)
            self.finished_ids.append(int(data["ticket_id"]))
            # The first visit finished at a console is kept for the QR code (its citizen
            # rates by phone at the end); of the others the evaluator rates most.
            if len(self.finished_ids) > 1 and self.rng.random() < 0.8:
                time.sleep(0.4)
                self._rate(d)
        d.serving = None
        d.busy_until = now + 0.5

    def _serving_service(self, d: Desk) -> str | None:
        service = (self._current(d) or {}).get("service")
        return service if isinstance(service, str) else None

    def _register_case(self, d: Desk) -> None:
        if self.rng.random() > 0.6:
            return
        kind = self.rng.choice(["immediate", "promised", "promised"])
        body: dict[str, Any] = {"kind": kind, "materials": ["申请表"]}
        if kind == "promised":
            body["working_days"] = 5
        status, _ = self.api.call("POST", "/api/v1/staff/cases", d.session, body)
        if status < 300:
            self.tally.cases += 1

    def _resume(self, d: Desk) -> None:
        if d.by_keypad:
            self._press(d, "resume")
        else:
            self.api.ok("POST", "/api/v1/staff/resume", d.session)
            self.tally.console_actions += 1
        d.paused_until = None

    def _qr_rating(self) -> None:
        """A citizen rates a finished visit from the QR code on the ticket: the first visit
        finished at a console, which no evaluator rated. A refusal is the demo's error."""
        if not self.finished_ids:
            return  # a run too short to finish a visit at a console
        ticket_id = self.finished_ids[0]
        link = self.api.ok("POST", f"/api/v1/kiosk/tickets/{ticket_id}/rating-link", self.kiosk)
        visit = self.api.ok("POST", "/api/v1/rate/visit", None, {"token": link["token"]})
        if visit.get("rated"):
            raise DemoError(f"ticket {ticket_id}, kept for the QR rating, was rated already")
        body = {"token": link["token"], "level": 5, "comment": "扫码评价：办事很快"}
        self.api.ok("POST", "/api/v1/rate", None, body)
        self.tally.qr_ratings += 1


# --- the demo -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What ``hallq hall-demo`` was given."""

    config: Path
    out: Path
    duration: float
    seed: int
    windows: int
    headless: bool


STALE = ("hallq.db", "hallq.db-wal", "hallq.db-shm", "summary.json", "led_frames.json",
         "display.tokens", "screen.token", "kiosk.token", *OUTPUTS)  # fmt: skip
STALE_DIRS = ("config", "sim", "voice", "display", "kiosk", "screen", "logs")


def fresh_out(out: Path) -> None:
    """Remove what an earlier run wrote (only the demo's own files and folders)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in STALE:
        (out / name).unlink(missing_ok=True)
    for name in STALE_DIRS:
        shutil.rmtree(out / name, ignore_errors=True)


def data_key(out: Path) -> str:
    """The demo's personal-data key, kept in ``out/data.key`` (0600)."""
    from center.pii import load_key, new_key

    key_file = out / "data.key"
    if not key_file.exists():
        key_file.write_text(new_key() + "\n", encoding="ascii")
        key_file.chmod(0o600)
    key = load_key(key_file=key_file)
    assert key is not None
    return key


@dataclass(frozen=True)
class Tokens:
    """Device tokens of the demo."""

    kiosk: str
    screen: str


def register_devices(cfg: Any, db_url: str, out: Path) -> Tokens:
    """Device tokens, made exactly as ``hallq device add`` makes them (the same registry, in
    this process: fifty ``hallq device add`` runs would take half a minute): the kiosk, the
    display controller with every keypad and evaluator it speaks for, and the hall screen."""
    from center.auth.devices import DeviceRegistry
    from center.auth.roles import Role
    from center.clock import SystemClock
    from center.db.connect import make_engine, upgrade
    from center.engine.store import Store

    engine = make_engine(db_url)
    try:
        upgrade(engine)
        reg = DeviceRegistry(Store(engine), SystemClock(), frozenset(cfg.windows_by_number))
        kiosk_name = cfg.devices.kiosks[0].name if cfg.devices.kiosks else "kiosk-1"
        kiosk = reg.add(kiosk_name, Role.KIOSK)
        lines = [f"display {reg.add('display-controller', Role.DISPLAY)}"]
        on_bus = {(d.kind, d.window) for bus in cfg.devices.buses for d in bus.devices if d.window}
        for kind, role in (("keypad", Role.KEYPAD), ("evaluator", Role.EVALUATOR)):
            for number in sorted(cfg.windows_by_number):
                if (kind, number) in on_bus:
                    lines.append(f"{kind} {number} {reg.add(f'{kind}-{number}', role, number)}")
        screen = reg.add("hall-screen", Role.DISPLAY)
    finally:
        engine.dispose()
    for name, text in (("display.tokens", "\n".join(lines)), ("screen.token", screen),
                       ("kiosk.token", kiosk)):  # fmt: skip
        path = out / name
        path.write_text(text + "\n", encoding="ascii")
        path.chmod(0o600)
    return Tokens(kiosk, screen)


def web_screenshots(url: str, out: Path, staff: str, window: int, supervisor: str) -> None:
    """The staff console (logged in at ``window``) and the supervisor view, in headless
    Chromium (Debian's, as the web tests use it)."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("HALLQ_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(
                base_url=url,
                viewport={"width": 1366, "height": 900},
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
            )
            ctx.set_default_timeout(15_000)
            page = ctx.new_page()
            page.goto("/staff/")
            page.fill("#login-window", str(window))
            page.fill("#login-staff", staff)
            page.fill("#login-pin", staff)
            page.keyboard.press("Enter")
            page.wait_for_selector("#live:has-text('实时')")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / "staff_console.png"), full_page=True)
            page = ctx.new_page()
            page.goto("/supervisor/")
            page.fill("#login-staff", supervisor)
            page.fill("#login-pin", supervisor)
            page.keyboard.press("Enter")
            page.wait_for_selector("#live:has-text('实时')")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "supervisor.png"), full_page=True)
            ctx.close()
        finally:
            browser.close()


def x_screenshot(display: str, path: Path) -> None:
    """The whole X screen ``display`` to ``path`` (``hallq.xshot`` in its own process)."""
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    done = subprocess.run(
        [sys.executable, "-m", "hallq.xshot", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise DemoError(f"screenshot of {display} failed: {done.stderr.strip()[-500:]}")


def wait_for_log(part: Part, mark: str, timeout: float, procs: Processes) -> None:
    """Until ``mark`` appears in the part's log."""
    wait_until(
        lambda: mark in part.log_path.read_text(encoding="utf-8", errors="replace"),
        timeout,
        f"{part.name} ({mark!r})",
        procs,
    )


def evaluator_ratings(db_url: str, day: dt.date) -> int:
    """Ratings from evaluators stored for ``day`` so far."""
    from sqlalchemy import func, select

    from center.db.connect import make_engine
    from center.db.tables import evaluations, tickets

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            query = (
                select(func.count())
                .select_from(evaluations.join(tickets, evaluations.c.ticket_id == tickets.c.id))
                .where(tickets.c.hall_day == day, evaluations.c.channel == "evaluator")
            )
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def read_figures(cfg: Any, db_url: str, day: dt.date) -> Any:
    """The day's figures, read back from the database."""
    from center.db.connect import make_engine
    from center.engine.figures import day_figures

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return day_figures(conn, day, [s.code for s in cfg.services])
    finally:
        engine.dispose()


def run_demo(opts: Options, procs: Processes) -> dict[str, Any]:
    """Everything up, the scripted hour, the pictures; returns the summary (processes are
    left running: the caller stops them)."""
    from center.rules.hours import hall_day
    from config import load

    out = opts.out
    fresh_out(out)
    cfg_path = demo_config(opts.config, out / "config")
    cfg = load(cfg_path)
    db = out / "hallq.db"
    db_url = f"sqlite:///{db.resolve()}"
    key = data_key(out)
    tokens = register_devices(cfg, db_url, out)
    interactive = not opts.headless and bool(os.environ.get("DISPLAY"))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs.start(
        "center",
        [
            *HALLQ,
            "center",
            "--config",
            str(cfg_path),
            "--database",
            db_url,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={"HALLQ_DATA_KEY": key},
    )
    api = Api(url)
    try:
        wait_until(
            lambda: api.call("GET", "/api/v1/health", None)[0] == 200, 30, "the center", procs
        )
        sim_part = procs.start(
            "sim-bus",
            [*HALLQ, "sim", "bus", "--config", str(cfg_path), "--dir", str(out / "sim")],
            stdin=True,
            stdout=True,
        )
        sim = SimBus(sim_part)
        sim.wait_ready(len(cfg.devices.buses), procs)
        script = Script(cfg, api, sim, tokens.kiosk, opts.windows, opts.duration, opts.seed)
        script.log_in()
        procs.start(
            "display",
            [
                *HALLQ,
                "display",
                "--config",
                str(cfg_path),
                "--center",
                url,
                "--token-file",
                str(out / "display.tokens"),
                "--voice-out",
                str(out / "voice"),
                "--sim-dir",
                str(out / "sim"),
                "--state-dir",
                str(out / "display"),
                "--log-level",
                "WARNING",
            ],
        )
        first = script.desks[0].number

        def strip_lit() -> bool:
            shown = sim.command("show")
            return any(
                any(
                    dev.get("strip", [""])[:1] != [""] and dev.get("strip") for dev in devs.values()
                )
                for devs in shown.values()
            )

        wait_until(strip_lit, 30, f"the display controller (window {first}'s strip)", procs)
        if interactive:
            screen_display = kiosk_display = os.environ["DISPLAY"]
        else:
            screen_display = start_xvfb(procs, "xvfb-screen", "1920x1080")
            kiosk_display = start_xvfb(procs, "xvfb-kiosk", "1080x1920")
        qt = {"QT_QPA_PLATFORM": "xcb"}
        windowed = ["--windowed"] if interactive else []
        procs.start(
            "screen",
            [
                *HALLQ,
                "screen",
                "--config",
                str(cfg_path),
                "--center",
                url,
                "--token-file",
                str(out / "screen.token"),
                "--state-dir",
                str(out / "screen"),
                "--log-level",
                "WARNING",
                *windowed,
            ],
            env={**qt, "DISPLAY": screen_display},
        )
        kiosk_name = cfg.devices.kiosks[0].name
        kiosk = procs.start(
            "kiosk",
            [
                *HALLQ,
                "kiosk",
                "--config",
                str(cfg_path),
                "--kiosk",
                kiosk_name,
                "--simulate",
                "--center",
                url,
                "--token-file",
                str(out / "kiosk.token"),
                "--state-dir",
                str(out / "kiosk"),
                "--no-voice",
                "--log-level",
                "INFO",
                *windowed,
            ],
            env={**qt, "DISPLAY": kiosk_display},
        )
        wait_for_log(kiosk, "kiosk interactive after", 60, procs)

        keypads = [d for d in script.desks if d.by_keypad]
        console = keypads[1] if len(keypads) > 1 else script.desks[-1]
        supervisor = next((s.number for s in cfg.staff if s.role == "supervisor"), "8001")
        pictures: dict[str, str] = {}

        def snapshot() -> None:
            """Mid-hour pictures: queues are long, windows busy."""
            if not interactive:
                x_screenshot(kiosk_display, out / "kiosk.png")
                x_screenshot(screen_display, out / "hall_screen.png")
                pictures.update(kiosk="kiosk.png", hall_screen="hall_screen.png")
            web_screenshots(url, out, console.staff, console.number, supervisor)
            pictures.update(staff_console="staff_console.png", supervisor="supervisor.png")

        started = dt.datetime.now(dt.UTC)
        script.run(procs, snapshot)
        day = hall_day(started, cfg.hall)
        # the display controller's outbox delivers the evaluators' ratings
        with contextlib.suppress(DemoError):
            wait_until(
                lambda: evaluator_ratings(db_url, day) >= script.tally.evaluator_ratings,
                15,
                "the evaluators' ratings",
                procs,
            )
        (out / "led_frames.json").write_text(
            json.dumps(script.frames, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        if interactive:
            sys.stdout.write(
                f"\nThe hall is running: kiosk and hall screen on {os.environ['DISPLAY']},\n"
                f"staff console {url}/staff/ (工号 = PIN, e.g. {console.staff} at window "
                f"{console.number}), supervisor {url}/supervisor/ ({supervisor}).\n"
                "Press Ctrl-C to stop.\n"
            )
            sys.stdout.flush()
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    procs.check()
                    time.sleep(1.0)
    finally:
        api.close()
    return {
        "cfg": cfg,
        "db_url": db_url,
        "day": day,
        "tally": script.tally,
        "pictures": pictures,
        "windows": [
            {"window": d.number, "staff": d.staff, "by": "keypad" if d.by_keypad else "console"}
            for d in script.desks
        ],
        "center": url,
    }


def summarize(opts: Options, run: dict[str, Any]) -> str:
    """Figures from the database (after every process stopped) to ``summary.json``; the text."""
    from dataclasses import asdict

    from center.demo import format_summary

    cfg, day, tally = run["cfg"], run["day"], run["tally"]
    fig = read_figures(cfg, run["db_url"], day)
    voices = sorted(p.name for p in (opts.out / "voice").glob("*.wav"))
    data = fig.as_json()
    data["demo"] = {
        "hours": HOURS_NOTE,
        "config": str(opts.out / "config" / opts.config.name),
        "database": run["db_url"],
        "duration_seconds": opts.duration,
        "windows": run["windows"],
        "script": asdict(tally),
        "outputs": {**run["pictures"], "led_frames": "led_frames.json", "voice": voices},
    }
    (opts.out / "summary.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    text = format_summary(cfg, fig, tally.refused)
    text += (
        f"\n\nscript: {tally.tickets} tickets at the kiosk, {tally.keypad_presses} keypad presses,"
        f" {tally.console_actions} console actions, {tally.evaluator_ratings} evaluator ratings,"
        f" {tally.qr_ratings} QR rating, {tally.cases} cases, {tally.transfers} transfer,"
        f" {tally.no_shows} no-shows, {tally.pauses} pauses"
        f"\nnote: {HOURS_NOTE} ({opts.out / 'config'})"
        f"\noutputs in {opts.out}: {', '.join(run['pictures'].values())}, led_frames.json,"
        f" {len(voices)} announcements in voice/, summary.json, logs/"
    )
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hallq hall-demo", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--config", type=Path, default=Path("config/examples/county.toml"))
    parser.add_argument("--out", type=Path, default=Path("var/demo"))
    parser.add_argument(
        "--duration", type=float, default=90.0, help="seconds of wall time for the scripted hour"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--windows", type=int, default=8, help="windows staffed (half by keypad)")
    parser.add_argument(
        "--headless", action="store_true", help="Xvfb even when $DISPLAY is set; no waiting"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """``hallq hall-demo``; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.windows < 2:
        _parser().error("--windows: at least 2 (one by keypad, one by console)")
    opts = Options(args.config, args.out, args.duration, args.seed, args.windows, args.headless)
    procs = Processes(opts.out / "logs")

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    run: dict[str, Any] | None = None
    try:
        run = run_demo(opts, procs)
    except DemoError as exc:
        sys.stderr.write(f"hallq hall-demo: {exc}\n")
    except KeyboardInterrupt:
        sys.stderr.write("hallq hall-demo: interrupted\n")
    finally:
        procs.stop_all()
        signal.signal(signal.SIGTERM, previous)
    if run is None:
        sys.stderr.write(f"logs: {opts.out / 'logs'}\n")
        return 1
    print(summarize(opts, run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
