"""``hallq kiosk``: run one self-service kiosk of a hall, full screen, in kiosk mode.

    hallq kiosk --config HALL.toml --kiosk NAME --center URL --token-file kiosk.token
    hallq kiosk --config HALL.toml --kiosk NAME --simulate [--offscreen] [--quit-after S]

The kiosk's devices come from its ``[[devices.kiosks]]`` entry (printer, ID card reader,
citizen card reader, camera, orientation, idle time). The device token is read from
``--token-file`` or ``$HALLQ_KIOSK_TOKEN``. ``--simulate`` replaces every device by its
simulator and, without ``--center``, serves the real center API on a loopback port.

Kiosk mode: no window frame, the window refuses to close and ignores the keyboard; the way
out is five touches on the hall name, an administrator's PIN, then 退出程序. ``--windowed``
shows a normal window for development. Exit status: 0 after an admin exit or
``--quit-after``, 2 for a bad config, kiosk name or token.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.loader import ConfigError, load
from config.schema import HallConfig, Kiosk

log = logging.getLogger(__name__)

TOKEN_ENV = "HALLQ_KIOSK_TOKEN"
KEY_ENV = "HALLQ_APPOINTMENT_KEY"
STARTED = time.monotonic()
READY_MARK = "kiosk interactive after"


class SetupError(Exception):
    """The kiosk cannot start: bad config, unknown kiosk, no token."""


@dataclass
class Wiring:
    """What ``build`` made, to stop in order."""

    service: Any
    presenter: Any
    sim_devices: Any = None
    sim_center: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        """Shut the presenter down, then the simulators."""
        self.presenter.shutdown()
        if self.sim_devices is not None:
            self.sim_devices.stop()
        if self.sim_center is not None:
            self.sim_center.stop()


def pick_kiosk(cfg: HallConfig, name: str) -> Kiosk:
    """The kiosk called ``name`` in the hall config."""
    for kiosk in cfg.devices.kiosks:
        if kiosk.name == name:
            return kiosk
    known = ", ".join(k.name for k in cfg.devices.kiosks) or "none"
    raise SetupError(f"no kiosk {name!r} in the hall config (kiosks: {known})")


def read_token(path: Path | None) -> str:
    """The device token from ``path`` or ``$HALLQ_KIOSK_TOKEN``."""
    if path is not None:
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SetupError(f"cannot read the token file {path}: {exc}") from None
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise SetupError(f"no device token: give --token-file or set ${TOKEN_ENV}")
    return token


def appointment_keys(path: Path | None) -> list[bytes]:
    """Keys that verify signed appointment codes (one per line, or ``$HALLQ_APPOINTMENT_KEY``)."""
    text = path.read_text(encoding="utf-8") if path is not None else os.environ.get(KEY_ENV, "")
    return [line.strip().encode() for line in text.splitlines() if line.strip()]


def build_devices(kiosk: Kiosk, sim_cards: Any = None) -> dict[str, Any]:
    """Adapters for the kiosk's configured devices."""
    from kiosk.adapters import CameraScanner, EscposPrinter, GaT467Reader, PcscCitizenCards

    devices: dict[str, Any] = {}
    if kiosk.printer is not None:
        devices["printer"] = EscposPrinter(kiosk.printer)
    if kiosk.id_reader:
        devices["id_reader"] = GaT467Reader(kiosk.id_reader)
    if sim_cards is not None:
        devices["card_reader"] = sim_cards
    elif kiosk.card_reader is not None:  # the PC/SC reader name (prefix); "" watches every reader
        devices["card_reader"] = PcscCitizenCards(kiosk.card_reader)
    if kiosk.camera:
        devices["scanner"] = CameraScanner(kiosk.camera)
    return devices


def build(args: argparse.Namespace, cfg: HallConfig) -> Wiring:
    """The service and presenter for ``args`` (devices and center link not started)."""
    from kiosk.adapters import ClientCenter
    from kiosk.presenter import KioskPresenter
    from kiosk.service import OFFLINE_QR, KioskService
    from kiosk.speech import EspeakSpeaker

    kiosk = pick_kiosk(cfg, args.kiosk)
    state_dir: Path = args.state_dir or Path("var/kiosk") / kiosk.name
    sim_devices = sim_center = None
    center_url, token = args.center, None
    extra: dict[str, Any] = {}
    if args.simulate:
        from kiosk.simulate import LoopbackCenter, SimulatedDevices, write_qr_frames

        if center_url is None:
            sim_center = LoopbackCenter(cfg, state_dir / "sim-center.db").start()
            center_url, token = sim_center.url, sim_center.device_token(kiosk.name)
            sim_center.open_windows()
        pattern = str(args.sim_frames / "%03d.png") if args.sim_frames else None
        if pattern is None and sim_center is not None:
            booked = [s.code for s in cfg.services if s.appointments and _offers(kiosk, s.code)]
            codes = [sim_center.book(booked[0])] if booked else []
            pattern = write_qr_frames(state_dir / "sim-frames", codes)
        sim_devices = SimulatedDevices(kiosk, state_dir)
        kiosk = sim_devices.start(pattern)
        extra["place_card"] = sim_devices.place_sample_card
    if center_url is None:
        raise SetupError("no center: give --center URL (or --simulate)")
    if token is None:
        token = read_token(args.token_file)
    codes = kiosk.services or [s.code for s in cfg.services]
    lease = [c for c in codes if not cfg.services_by_code[c].id_required]
    center = ClientCenter(center_url, token, state_dir, lease)
    devices = build_devices(kiosk, sim_devices.cards if sim_devices else None)
    service = KioskService(
        cfg,
        kiosk,
        center,
        appointment_keys=appointment_keys(args.appointment_key_file),
        center_url=args.public_url or center_url,
        ticket_url=args.ticket_url or OFFLINE_QR,
        **devices,
    )
    speaker = None if args.no_voice else EspeakSpeaker(voice=cfg.voice.voice)
    presenter = KioskPresenter(service, speaker=speaker)
    return Wiring(service, presenter, sim_devices, sim_center, extra)


def _offers(kiosk: Kiosk, code: str) -> bool:
    return not kiosk.services or code in kiosk.services


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallq kiosk", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="the hall file")
    parser.add_argument("--kiosk", required=True, help="the kiosk's name in [[devices.kiosks]]")
    parser.add_argument("--center", help="the center's URL, e.g. http://127.0.0.1:8470")
    parser.add_argument(
        "--token-file", type=Path, help=f"the kiosk's device token (or ${TOKEN_ENV})"
    )
    parser.add_argument(
        "--state-dir", type=Path, help="lease, outbox and stream position (var/kiosk/NAME)"
    )
    parser.add_argument(
        "--appointment-key-file",
        type=Path,
        help=f"keys of signed appointment codes (or ${KEY_ENV})",
    )
    parser.add_argument(
        "--public-url",
        help="the center's address as phones reach it (default --center): ticket QR codes "
        "point to its /rate/ page",
    )
    parser.add_argument(
        "--ticket-url",
        help="QR of tickets issued offline: a template with {hall} {day} {number} {service} "
        "{service_name} (default: number and service name)",
    )
    parser.add_argument("--windowed", action="store_true", help="a normal window (development)")
    parser.add_argument(
        "--offscreen", action="store_true", help="no display (Qt offscreen platform)"
    )
    parser.add_argument("--simulate", action="store_true", help="simulated devices (and center)")
    parser.add_argument("--sim-frames", type=Path, help="camera frames NNN.png for --simulate")
    parser.add_argument("--no-voice", action="store_true", help="no spoken prompts in elderly mode")
    parser.add_argument(
        "--quit-after", type=float, help="quit after this many seconds (demo, bench)"
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    return parser


def _qt_app(offscreen: bool) -> Any:
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QFont, QFontDatabase
    from PySide6.QtWidgets import QApplication

    from kiosk.views.common import FONT_FAMILIES

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["hallq-kiosk"])
    families = set(QFontDatabase.families())
    for family in FONT_FAMILIES:
        if family in families:
            app.setFont(QFont(family))
            break
    else:
        log.warning("no CJK font found: install fonts-wqy-microhei")
    return app


def run(args: argparse.Namespace, cfg: HallConfig) -> int:
    """Build, show and run the kiosk until an admin exit (or ``--quit-after``)."""
    from PySide6.QtCore import QTimer

    from kiosk.presenter import Screen
    from kiosk.views.window import KioskWindow

    app = _qt_app(args.offscreen)
    wiring = build(args, cfg)
    presenter = wiring.presenter
    window = KioskWindow(presenter, wiring.service.kiosk.orientation, kiosk_mode=not args.windowed)
    place = wiring.extra.get("place_card")
    if place is not None:
        presenter.screen_changed.connect(
            lambda screen: QTimer.singleShot(800, place) if screen is Screen.IDENTIFY else None
        )
    presenter.exit_requested.connect(app.quit)
    if args.windowed or args.offscreen:
        window.show()
    else:
        window.showFullScreen()
    presenter.start()
    QTimer.singleShot(0, lambda: log.info("%s %.3f s", READY_MARK, time.monotonic() - STARTED))
    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), window.quit)
    try:
        app.exec()
    finally:
        window.allow_close = True
        window.close()
        wiring.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hallq kiosk``; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        cfg = load(args.config)
        return run(args, cfg)
    except (ConfigError, SetupError) as exc:
        sys.stderr.write(f"hallq kiosk: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
