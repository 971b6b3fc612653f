"""A whole hall's RS-485 buses simulated in one process: ``hallq sim bus --config HALL.toml``.

Every configured bus becomes a simulator (``devices.hallbus.sim``, ``devices.vendor68.sim``
or ``devices.ledchain.sim``, by the bus's protocol) behind a pseudo-terminal published at a
stable path, with wire timing simulated at the configured baud. A port ``sim://NAME`` is
published at ``DIR/NAME``; any other port at ``DIR/<bus name>``. The display controller
opens those paths exactly as it opens ``/dev/ttyUSB0`` (``hallq display --sim-dir DIR``
maps ``sim://NAME`` to ``DIR/NAME``).

The command prints one JSON line per bus, then reads commands on stdin (one per line) until
``quit``, SIGINT or SIGTERM (at end of input it keeps running)::

    press WINDOW KEY [ARG]      key: call_next recall skip pause resume transfer invite_evaluation
    rate WINDOW LEVEL           level: 1–5 or very_satisfied … very_dissatisfied
    unplug BUS | replug BUS     the bus's adapter is pulled out / put back
    show                        what every device shows, as JSON
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from config.loader import ConfigError, load
from config.schema import Bus, HallConfig
from devices.bus import DeviceKind, DeviceSpec, Key, Protocol, Rating
from devices.bus.factory import bus_protocol
from devices.bus.simwire import Faults, SimThread
from devices.hallbus.sim import SimBus
from devices.hallbus.simdevices import SimBoard, SimDevice, SimEvaluator, SimKeypad, SimStrip
from devices.ledchain.sim import SimLedChain
from devices.vendor68.sim import SimV68Bus, SimV68Evaluator, SimV68Keypad

log = logging.getLogger(__name__)

SIM_SCHEME = "sim://"
LEVELS = {5: Rating.VERY_SATISFIED, 4: Rating.SATISFIED, 3: Rating.BASICALLY_SATISFIED,
          2: Rating.DISSATISFIED, 1: Rating.VERY_DISSATISFIED}  # fmt: skip


def sim_path(port: str, directory: Path, bus_name: str) -> Path:
    """Where the simulator of a bus publishes its pty."""
    if port.startswith(SIM_SCHEME):
        return directory / port[len(SIM_SCHEME) :].strip("/").replace("/", "_")
    return directory / bus_name


def resolve_port(port: str, sim_dir: Path | None) -> str:
    """The URL a bus master opens: ``sim://NAME`` → ``SIM_DIR/NAME``; others unchanged."""
    if not port.startswith(SIM_SCHEME):
        return port
    if sim_dir is None:
        raise ValueError(f"{port}: a simulated port needs a simulator directory (--sim-dir)")
    return str(sim_path(port, sim_dir, ""))


@dataclass
class SimulatedBus:
    """One simulated bus."""

    name: str
    protocol: Protocol
    baud: int
    port: str
    sim: SimThread
    specs: dict[int, DeviceSpec]
    devices: dict[int, Any]
    """Simulated devices by address (hallbus SimDevice, vendor68 device or ledchain board)."""

    @property
    def path(self) -> str:
        """The pty path."""
        return self.sim.path

    def to_json(self) -> dict[str, Any]:
        """For the command's output."""
        return {
            "bus": self.name,
            "protocol": self.protocol.value,
            "baud": self.baud,
            "port": self.port,
            "path": self.path,
            "devices": len(self.devices),
        }


def _hallbus_device(spec: DeviceSpec) -> SimDevice:
    kinds: dict[DeviceKind, type[SimDevice]] = {
        DeviceKind.WINDOW_STRIP: SimStrip,
        DeviceKind.HALL_BOARD: SimBoard,
        DeviceKind.EVALUATOR: SimEvaluator,
        DeviceKind.KEYPAD: SimKeypad,
    }
    return kinds[spec.kind](spec.address)


def build_bus(
    bus: Bus, directory: Path, *, baud: int | None = None, faults: Faults | None = None
) -> SimulatedBus:
    """The simulator of one configured bus (not started)."""
    specs = [DeviceSpec.from_config(d) for d in bus.devices]
    try:
        protocol = bus_protocol(specs)
    except ValueError as exc:
        raise ValueError(f"bus {bus.name}: {exc}") from None
    rate = baud or bus.baud
    path = sim_path(bus.port, directory, bus.name)
    devices: dict[int, Any] = {}
    sim: SimThread
    if protocol is Protocol.HALLBUS:
        hb = SimBus(rate, link_path=path, faults=faults)
        devices = {s.address: hb.add(_hallbus_device(s)) for s in specs}
        sim = hb
    elif protocol is Protocol.VENDOR68:
        v68 = SimV68Bus(rate, link_path=path, faults=faults)
        for s in specs:
            if s.kind is DeviceKind.KEYPAD:
                devices[s.address] = v68.add(SimV68Keypad(s.address))
            elif s.kind is DeviceKind.EVALUATOR:
                devices[s.address] = v68.add(SimV68Evaluator(s.address))
            else:
                raise ValueError(
                    f"bus {bus.name}: vendor68 has no {s.kind.value} (address {s.address})"
                )
        sim = v68
    else:
        chain = SimLedChain(rate, link_path=path, faults=faults)
        devices = {s.address: chain.add(s.address) for s in specs}
        sim = chain
    by_address = {s.address: s for s in specs}
    return SimulatedBus(bus.name, protocol, rate, bus.port, sim, by_address, devices)


class SimHall:
    """Every bus of a hall, simulated."""

    def __init__(
        self,
        cfg: HallConfig,
        directory: Path,
        *,
        baud: int | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.buses = {
            b.name: build_bus(b, self.directory, baud=baud, faults=faults)
            for b in cfg.devices.buses
        }

    def start(self) -> None:
        """Create the ptys and start answering."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for bus in self.buses.values():
            bus.sim.start()

    def stop(self) -> None:
        """Stop every simulator and remove the ptys."""
        for bus in self.buses.values():
            bus.sim.stop()

    def __enter__(self) -> SimHall:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def device(self, kind: DeviceKind, window: int | None = None) -> Any:
        """The simulated device of ``kind`` at ``window`` (any window if None)."""
        for bus in self.buses.values():
            for address, spec in bus.specs.items():
                if spec.kind is kind and (window is None or spec.window == window):
                    return bus.devices[address]
        raise KeyError(f"no simulated {kind.value} for window {window}")

    def press(self, window: int, key: Key, argument: int = 0) -> None:
        """A clerk presses a key on window ``window``'s keypad."""
        self.device(DeviceKind.KEYPAD, window).press_key(key, argument)

    def rate(self, window: int, rating: Rating) -> bool:
        """A citizen presses a rating on window ``window``'s evaluator."""
        return self.device(DeviceKind.EVALUATOR, window).rate(rating) is not False

    def shown(self) -> dict[str, Any]:
        """What every simulated device shows."""
        out: dict[str, Any] = {}
        for bus in self.buses.values():
            out[bus.name] = {str(a): _shows(d) for a, d in sorted(bus.devices.items())}
        return out


def _shows(device: Any) -> dict[str, Any]:
    if isinstance(device, SimStrip):
        return {"strip": list(device.shown), "effect": device.effect.value}
    if isinstance(device, SimBoard):
        return {"board": list(device.shown), "notice": device.notice}
    if isinstance(device, SimEvaluator):
        return {"staff": device.staff, "prompting": device.prompting}
    if isinstance(device, SimKeypad | SimV68Keypad):
        return {"keypad": device.shown}
    if isinstance(device, SimV68Evaluator):
        return {"stars": device.stars, "prompting": device.prompting}
    return {"text": getattr(device, "shown", "")}


# --- the command ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallq sim", description="simulated hall devices")
    sub = parser.add_subparsers(dest="what", required=True)
    bus = sub.add_parser("bus", help="every RS-485 bus of a hall, on pseudo-terminals")
    bus.add_argument("--config", required=True, help="the hall file")
    bus.add_argument("--dir", default="var/sim", help="where the pty paths are published")
    bus.add_argument("--baud", type=int, help="override every bus's baud rate")
    bus.add_argument("--corrupt", type=float, default=0.0, help="bit-flip ratio per byte")
    bus.add_argument("--drop", type=float, default=0.0, help="lost-reply ratio")
    return parser


def _emit(value: object) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def run_command(hall: SimHall, line: str) -> bool:
    """Run one stdin command; False to quit."""
    words = line.split()
    if not words:
        return True
    try:
        match words:
            case ["quit" | "exit"]:
                return False
            case ["show"]:
                _emit(hall.shown())
            case ["press", window, key, *arg]:
                hall.press(int(window), Key(key), int(arg[0]) if arg else 0)
                _emit({"pressed": key, "window": int(window)})
            case ["rate", window, level]:
                rating = LEVELS[int(level)] if level.isdigit() else Rating(level)
                _emit(
                    {
                        "rated": rating.value,
                        "window": int(window),
                        "accepted": hall.rate(int(window), rating),
                    }
                )
            case ["unplug" | "replug" as what, name]:
                getattr(hall.buses[name].sim, what)()
                _emit({what: name})
            case _:
                _emit({"error": f"unknown command: {line.strip()}"})
    except (KeyError, ValueError, TypeError) as exc:
        _emit({"error": str(exc)})
    return True


def sim_main(argv: Sequence[str] | None = None) -> int:
    """``hallq sim bus --config FILE [--dir DIR] [--baud N]``; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = load(args.config)
        hall = SimHall(
            cfg,
            Path(args.dir),
            baud=args.baud,
            faults=Faults(corrupt_ratio=args.corrupt, drop_ratio=args.drop),
        )
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except ValueError as exc:
        sys.stderr.write(f"{args.config}: {exc}\n")
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with hall:
        for bus in hall.buses.values():
            _emit(bus.to_json())

        def read_commands() -> None:
            for line in sys.stdin:
                if not run_command(hall, line):
                    stop.set()
                    return

        threading.Thread(target=read_commands, name="sim-commands", daemon=True).start()
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(sim_main())
