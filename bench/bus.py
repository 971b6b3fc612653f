"""Poll-cycle time of the hallbus master against the timing-faithful simulator.

Run: ``.venv/bin/python bench/bus.py [--devices 32] [--seconds 3]``. Prints JSON: for each baud
rate, the measured time to poll every device once, the wire-time limit from frame sizes
(devices × (poll request + poll reply) × 10 bits / baud; the simulator's turnaround is 0) and
their ratio (target ≤ 1.15). The simulator runs in a process of its own; numbers are only
meaningful on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from devices.bus.model import DeviceKind, DeviceSpec, DeviceState
from devices.bus.timing import LineTiming
from devices.hallbus.driver import HallbusMaster, MasterOptions
from devices.hallbus.protocol import frame_of, max_reply_frame, request
from devices.hallbus.sim import SimBus
from devices.hallbus.simdevices import SimKeypad


def _simulate(baud: int, devices: int, path: str, ready: Any, stop: Any) -> None:
    """The simulator, in its own process so it does not share the master's GIL."""
    bus = SimBus(baud, link_path=path)
    for address in range(1, devices + 1):
        bus.add(SimKeypad(address))
    with bus:
        ready.set()
        stop.wait(60)


def measure(baud: int, devices: int, seconds: float, directory: Path) -> dict[str, float]:
    """Measured and ideal poll-cycle time at ``baud``."""
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    path = str(directory / f"bus{baud}")
    sim = ctx.Process(target=_simulate, args=(baud, devices, path, ready, stop), daemon=True)
    sim.start()
    ready.wait(10)
    specs = [DeviceSpec(a, DeviceKind.KEYPAD) for a in range(1, devices + 1)]
    master = HallbusMaster(path, baud, specs, MasterOptions(input_poll_s=0.0))
    master.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            s.state is DeviceState.ONLINE for s in master.device_states().values()
        ):
            threading.Event().wait(0.05)
        before, start = master.stats.requests, time.monotonic()
        threading.Event().wait(seconds)
        polls, elapsed = master.stats.requests - before, time.monotonic() - start
    finally:
        master.stop()
        stop.set()
        sim.join(5)
    poll_len = len(frame_of(1, 0, request("poll", boot=0, ack=0)).encode())
    limit = devices * LineTiming(baud).wire_time(poll_len + max_reply_frame("poll"))
    cycle = elapsed / (polls / devices)
    return {
        "cycle_s": round(cycle, 5),
        "wire_limit_s": round(limit, 5),
        "ratio": round(cycle / limit, 3),
    }


def main() -> int:
    """Print the benchmark as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = {
            str(baud): measure(baud, args.devices, args.seconds, Path(tmp))
            for baud in (9600, 115200)
        }
    sys.stdout.write(json.dumps({"devices": args.devices, "results": result}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
