"""``hallq display``: run the display controller of a hall until SIGINT or SIGTERM.

    hallq display --config HALL.toml --center http://center:8000 --token-file display.tokens \
        [--voice-out DIR | --no-voice] [--sim-dir var/sim] [--state-dir var/display]

The token file is described in ``display/reports.py``; ``--sim-dir`` is where ``hallq sim
bus`` published the ptys of ``sim://…`` ports; ``--state-dir`` holds the outboxes and the
event stream's position. Exit status: 0 after a signal, 2 for a bad config, token file or
port.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from config.loader import ConfigError, load
from config.schema import HallConfig
from devices.bus import BusMaster, DeviceSpec, open_bus
from devices.client import CenterClient, RetryPolicy
from devices.client.stream import EventStream
from display.announcer import Announcer, Sink, WavFileSink, default_sink
from display.controller import SUBSCRIBED_KINDS, ControllerOptions, DisplayController
from display.reports import DeviceTokens, OutboxReports, TokenFileError
from display.simbus import resolve_port
from display.sources import ClientReader
from display.voice import AnnouncementBuilder, EspeakSynthesizer, VoiceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DisplaySetup:
    """Everything ``hallq display`` is given."""

    cfg: HallConfig
    center_url: str
    tokens: DeviceTokens
    state_dir: Path
    sim_dir: Path | None = None
    voice_out: Path | None = None
    voice: bool = True


def build_buses(cfg: HallConfig, sim_dir: Path | None, **options: float) -> dict[str, BusMaster]:
    """One (not started) bus master per configured bus; ValueError names a bad bus."""
    buses: dict[str, BusMaster] = {}
    for bus in cfg.devices.buses:
        specs = [DeviceSpec.from_config(d) for d in bus.devices]
        try:
            buses[bus.name] = open_bus(resolve_port(bus.port, sim_dir), bus.baud, specs, **options)
        except ValueError as exc:
            raise ValueError(f"bus {bus.name}: {exc}") from None
    return buses


def build_announcer(
    cfg: HallConfig, voice_out: Path | None, sink: Sink | None = None
) -> Announcer | None:
    """The announcer the hall's ``[voice]`` section asks for, or None (disabled, no espeak-ng)."""
    if not cfg.voice.enabled:
        return None
    synth = EspeakSynthesizer(cfg.voice.voice, cfg.voice.speed)
    if not synth.available:
        log.error("espeak-ng is not installed: calls are shown but not announced")
        return None
    builder = AnnouncementBuilder(synth, template=cfg.voice.template, repeat=cfg.voice.repeat)
    if sink is None:
        sink = WavFileSink(voice_out) if voice_out is not None else default_sink()
    return Announcer(builder, sink)


def build_controller(setup: DisplaySetup) -> DisplayController:
    """The controller, wired to the center at ``setup.center_url`` (nothing started)."""
    cfg = setup.cfg
    buses = build_buses(cfg, setup.sim_dir)
    stream = EventStream(
        setup.center_url,
        setup.tokens.display,
        position=setup.state_dir / "stream-position.json",
        kinds=SUBSCRIBED_KINDS,
    )
    reader = ClientReader(
        CenterClient(
            setup.center_url, setup.tokens.display, timeout=3.0, retry=RetryPolicy(attempts=2)
        )
    )
    reports = OutboxReports(setup.center_url, setup.tokens, setup.state_dir)
    announcer = build_announcer(cfg, setup.voice_out) if setup.voice else None
    options = ControllerOptions(invite_timeout_s=cfg.evaluation.invite_timeout_seconds)
    return DisplayController(cfg, buses, stream, reports, reader, announcer, options)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallq display", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="the hall file")
    parser.add_argument(
        "--center", required=True, help="the center's URL, e.g. http://127.0.0.1:8000"
    )
    parser.add_argument("--token-file", required=True, help="display (and keypad/evaluator) tokens")
    voice = parser.add_mutually_exclusive_group()
    voice.add_argument("--voice-out", type=Path, help="write announcements as WAV files here")
    voice.add_argument("--no-voice", action="store_true", help="no announcements")
    parser.add_argument(
        "--sim-dir", type=Path, default=Path("var/sim"), help="ptys of sim:// ports"
    )
    parser.add_argument(
        "--state-dir", type=Path, default=Path("var/display"), help="outboxes and stream position"
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hallq display``; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        setup = DisplaySetup(
            load(args.config),
            args.center,
            DeviceTokens.load(args.token_file),
            args.state_dir,
            args.sim_dir,
            args.voice_out,
            not args.no_voice,
        )
        controller = build_controller(setup)
    except (ConfigError, TokenFileError, VoiceError, ValueError) as exc:
        sys.stderr.write(f"hallq display: {exc}\n")
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with controller:
        log.info("display controller running: %d buses", len(controller.buses))
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
