"""Latency of the display controller over the timing-faithful bus simulator (docs/benchmarks.md).

    python -m display.latency [--events 100] [--devices 32]

For each baud rate (9600, 115200): a simulated hallbus bus of ``devices`` devices (window
strips, keypads and evaluators polled continuously, a hall board), the controller fed
``ticket.called`` events in process. Measured per event:

Calls arrive one at a time, as in a hall where they are seconds apart: each after the
previous call is on its strip, every device has confirmed its writes (strip, keypad, hall
board) and the previous announcement has been handed to the sink, at a random phase of
the polling cycle.

* **strip**: from handing the event to the controller until the strip frame is fully on the
  wire. A pty delivers a write at once, so the simulator's receive time stands for the first
  byte and the frame's own wire time is added. The reference is the wire time a call cannot
  avoid: one poll exchange that may be in flight, plus the strip frame (target: p99 ≤ that
  + 50 ms).
* **announcement**: from the event until playback starts (espeak-ng synthesis, chime and
  WAV assembly included; the sink keeps WAV files, so no sound device is involved; target
  ≤ 300 ms).

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from config.schema import HallConfig
from devices.bus import Effect
from devices.bus.timing import LineTiming
from devices.client.stream import (
    ConnectCallback,
    EventCallback,
    StreamEvent,
    StreamState,
    StreamStatus,
)
from devices.hallbus.protocol import EFFECT_CODES, Message, frame_of, max_reply_frame, request
from devices.hallbus.sim import SimBus
from devices.hallbus.simdevices import SimBoard, SimEvaluator, SimKeypad, SimStrip
from display.announcer import WavFileSink
from display.cli import build_announcer, build_buses
from display.controller import ControllerOptions, DisplayController
from display.view import call_line


class TimedStrip(SimStrip):
    """A strip that notes when each text arrived."""

    def reset_outputs(self) -> None:
        """Blank; no arrivals yet."""
        super().reset_outputs()
        self.arrivals: dict[str, float] = getattr(self, "arrivals", {})

    def on_strip_set(self, msg: Message) -> None:
        """Note the arrival time of the first line."""
        lines = tuple(msg["lines"])
        if lines:
            self.arrivals.setdefault(lines[0], time.monotonic())
        super().on_strip_set(msg)


class LocalSource:
    """Events handed over in process."""

    def __init__(self) -> None:
        self.on_event: EventCallback | None = None

    def start(self, on_event: EventCallback, on_connect: ConnectCallback | None = None) -> None:
        """Keep the callback."""
        self.on_event = on_event

    def stop(self) -> None:
        """Nothing to stop."""

    def emit(self, event: StreamEvent) -> None:
        """Hand ``event`` to the controller."""
        assert self.on_event is not None, "not started"
        self.on_event(event)

    @property
    def status(self) -> StreamStatus:
        """Always live."""
        return StreamStatus(StreamState.LIVE, None, 1)


class NoReports:
    """Reports dropped (no center in this benchmark)."""

    def start(self) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        """Nothing to stop."""

    def key(self, window: int, key: str, **extra: str) -> None:
        """Dropped."""

    def rating(self, window: int, level: int) -> None:
        """Dropped."""

    def fault(self, code: str, message: str, **detail: Any) -> None:
        """Dropped."""

    def recovery(self, code: str, message: str, **detail: Any) -> None:
        """Dropped."""

    def pending(self) -> int:
        """Nothing pending."""
        return 0


def bench_hall(baud: int, devices: int) -> HallConfig:
    """A hall whose one bus carries ``devices`` devices: per window a strip, keypad, evaluator."""
    windows = max(1, (devices - 1) // 3)
    bus: list[dict[str, Any]] = [{"address": 99, "kind": "hall_board", "lines": 8}]
    for w in range(1, windows + 1):
        bus += [
            {"address": w, "kind": "window_strip", "window": w},
            {"address": 100 + w, "kind": "evaluator", "window": w},
            {"address": 200 + w, "kind": "keypad", "window": w},
        ]
    bus += [{"address": 150 + i, "kind": "keypad"} for i in range(devices - len(bus))]
    return HallConfig.model_validate(
        {
            "hall": {"code": "bench", "name": "测试中心"},
            "services": [{"code": "tax", "name": "税务", "prefix": "A", "window_class": "general"}],
            "windows": [
                {"number": w, "name": f"{w}号窗口", "window_class": "general", "services": ["tax"]}
                for w in range(1, windows + 1)
            ],
            "devices": {
                "buses": [{"name": "bench", "port": "sim://bench", "baud": baud, "devices": bus}]
            },
            "voice": {"repeat": 2},
        }
    )


def _sim_bus(cfg: HallConfig, path: Path) -> tuple[SimBus, TimedStrip]:
    spec = cfg.devices.buses[0]
    bus = SimBus(spec.baud, link_path=path)
    kinds = {
        "window_strip": SimStrip,
        "hall_board": SimBoard,
        "evaluator": SimEvaluator,
        "keypad": SimKeypad,
    }
    target = TimedStrip(1)
    for d in spec.devices:
        bus.add(target if d.address == 1 else kinds[d.kind](d.address))
    return bus, target


def _settle(
    controller: DisplayController, strip: TimedStrip, line: str, rng: random.Random
) -> None:
    """Wait until the call is on its strip, every device confirmed its writes and the
    announcement has started; then a random part of a poll cycle."""
    deadline = time.monotonic() + 5
    pause = threading.Event()
    while time.monotonic() < deadline and line not in strip.arrivals:
        pause.wait(0.002)
    while time.monotonic() < deadline:
        if all(s.synced for s in controller.status().devices.values()):
            break
        pause.wait(0.005)
    if controller.announcer is not None:
        controller.announcer.wait_idle(5)
    pause.wait(rng.uniform(0.02, 0.15))


def wire_reference(baud: int, number: str) -> dict[str, float]:
    """Wire time of one poll exchange and of the strip frame showing ``number``."""
    timing = LineTiming(baud)
    poll = len(frame_of(1, 0, request("poll", boot=0, ack=0)).encode()) + max_reply_frame("poll")
    lines = (call_line(number, 1), "税务")
    strip = len(
        frame_of(
            1, 0, request("strip_set", effect=EFFECT_CODES[Effect.FLASH], lines=lines)
        ).encode()
    )
    return {"poll_exchange_s": timing.wire_time(poll), "strip_frame_s": timing.wire_time(strip)}


def _summary(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * p99, 2),
        "max_ms": round(1000 * ordered[-1], 2),
    }


def measure(baud: int, devices: int, events: int, directory: Path, seed: int = 1) -> dict[str, Any]:
    """Strip and announcement latencies at ``baud``."""
    cfg = bench_hall(baud, devices)
    directory.mkdir(parents=True, exist_ok=True)
    bus, strip = _sim_bus(cfg, directory / "bench")
    source = LocalSource()
    announcer = build_announcer(cfg, None, WavFileSink(directory / "voice"))
    options = ControllerOptions(waiting_interval_s=60)
    controller = DisplayController(
        cfg, build_buses(cfg, directory), source, NoReports(), None, announcer, options
    )
    rng = random.Random(seed)
    sent: dict[str, float] = {}
    with bus:
        controller.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not all(
                s.available for s in controller.status().devices.values()
            ):
                threading.Event().wait(0.05)
            for n in range(1, events + 1):
                number = f"A{n:03d}"
                sent[number] = time.monotonic()
                source.emit(
                    StreamEvent(
                        n, "ticket.called", None, 1, None, {"number": number, "service": "tax"}
                    )
                )
                _settle(controller, strip, call_line(number, 1), rng)
            if announcer is not None:
                announcer.wait_idle(30)
            threading.Event().wait(0.5)
        finally:
            controller.stop()
    ref = wire_reference(baud, "A001")
    strip_lat = [
        strip.arrivals[call_line(k, 1)] - t + ref["strip_frame_s"]
        for k, t in sent.items()
        if call_line(k, 1) in strip.arrivals
    ]
    result: dict[str, Any] = {
        "devices": len(cfg.devices.buses[0].devices),
        "events": events,
        "strip": {
            **_summary(strip_lat),
            "delivered": len(strip_lat),
            "wire_ms": round(1000 * (ref["poll_exchange_s"] + ref["strip_frame_s"]), 2),
            "poll_exchange_ms": round(1000 * ref["poll_exchange_s"], 2),
            "strip_frame_ms": round(1000 * ref["strip_frame_s"], 2),
        },
    }
    result["strip"]["p99_over_wire_ms"] = round(
        result["strip"]["p99_ms"] - result["strip"]["wire_ms"], 2
    )
    if announcer is not None:
        latencies = [p.latency for p in announcer.history if p.latency is not None]
        result["announcement"] = {**_summary(latencies), "played": len(latencies)}
    else:
        result["announcement"] = {"skipped": "espeak-ng is not installed"}
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Print the benchmark as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--devices", type=int, default=32)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            str(b): measure(b, args.devices, args.events, Path(tmp) / str(b))
            for b in (9600, 115200)
        }
    sys.stdout.write(json.dumps({"latency": results}, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
