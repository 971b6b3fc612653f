"""Render the kiosk's main screens to PNG files (run in a subprocess under Xvfb).

    DISPLAY=:N QT_QPA_PLATFORM=xcb python -m tests.kiosk.screens OUT_DIR

Uses the county example hall with ``--simulate`` (loopback center, simulated devices), so
the screenshots show real service names and published facts. Writes home.png,
home-landscape.png, elderly.png, info.png, identify.png, take-ticket.png, fallback.png,
pin.png and admin.png. Exit status 0 when every file was written.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COUNTY = REPO / "config" / "examples" / "county.toml"
COUNTY_ADMIN_PIN = "9001"


def settle(app: Any, until: Callable[[], bool], timeout: float = 15.0) -> None:
    """Run the event loop until ``until()`` holds (bounded)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        app.processEvents()
        if until():
            break
        pause.wait(0.01)
    else:
        raise TimeoutError("the kiosk did not get there in time")
    for _ in range(5):
        app.processEvents()


def kiosk_args(name: str, state_dir: Path) -> argparse.Namespace:
    return argparse.Namespace(
        kiosk=name, state_dir=state_dir, simulate=True, center=None, token_file=None,
        sim_frames=None, appointment_key_file=None, ticket_url=None, public_url=None,
        no_voice=True,
    )  # fmt: skip


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    from config.loader import load
    from kiosk.app import _qt_app, build
    from kiosk.presenter import Screen
    from kiosk.views.window import KioskWindow

    app = _qt_app(offscreen=False)
    cfg = load(COUNTY)
    state = out / "state"
    wirings = []
    try:
        for name in ("entrance", "self-service"):
            wiring = build(kiosk_args(name, state / name), cfg)
            wirings.append(wiring)
        entrance, landscape = wirings
        p = entrance.presenter
        window = KioskWindow(p, entrance.service.kiosk.orientation, kiosk_mode=False)
        window.show()
        p.start()
        settle(app, lambda: p.pending == 0 and p.home_model.updated_at is not None)

        def shot(name: str, screen: Screen | None = None) -> None:
            if screen is not None:
                settle(app, lambda: p.screen is screen)
            window.grab().save(str(out / f"{name}.png"))

        shot("home", Screen.HOME)
        p.choose_service("biz_setup")
        shot("info", Screen.INFO)
        p.identify()
        shot("identify", Screen.IDENTIFY)
        p.go_home()
        p.choose_service("tax_general")
        p.take_ticket()
        shot("take-ticket", Screen.TICKET)
        entrance.sim_devices.printer.printer.run_out_of_paper()
        p.go_home()
        p.choose_service("tax_general")
        p.take_ticket()
        shot("fallback", Screen.FALLBACK)
        p.go_home()
        for _ in range(5):
            p.admin_tap()
        shot("pin", Screen.PIN)
        p.submit_pin(COUNTY_ADMIN_PIN)
        settle(app, lambda: p.screen is Screen.ADMIN)
        settle(app, lambda: p.pending == 0)
        shot("admin", Screen.ADMIN)
        p.go_home()
        p.set_elderly(True)
        shot("elderly", Screen.HOME)

        q = landscape.presenter
        wide = KioskWindow(q, landscape.service.kiosk.orientation, kiosk_mode=False)
        wide.show()
        q.start()
        settle(app, lambda: q.pending == 0 and q.home_model.updated_at is not None)
        wide.grab().save(str(out / "home-landscape.png"))
        for w in (window, wide):
            w.close()
    finally:
        for wiring in wirings:
            wiring.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
