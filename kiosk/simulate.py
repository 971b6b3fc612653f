"""``hallq kiosk --simulate``: simulated devices, and a loopback center when none is given.

For development, ``make demo`` and the kiosk's own tests and benchmark. Everything real is
used except the hardware: the GA/T 467 reader simulator on a pty (``devices.idcard.sim``),
the ESC/POS printer simulator on a TCP port (``devices.printer.sim``), the camera replaying
PNG frames (``devices.camera``), and — without ``--center`` — the real center API served by
uvicorn on 127.0.0.1 from a SQLite file, reached over HTTP like any other center. The
center's clock runs from a Monday 09:30 in the hall, so the demo works at any hour.

Nothing here is imported by the kiosk unless ``--simulate`` is given.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.schema import HallConfig, Kiosk, Printer
from kiosk.ports import CitizenCard, DeviceState

log = logging.getLogger(__name__)

DEMO_MONDAY = dt.date(2026, 11, 23)


class RunningClock:
    """Real time, shifted to start at ``start``."""

    def __init__(self, start: dt.datetime) -> None:
        self._offset = start.astimezone(dt.UTC) - dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """``start`` plus the time since this clock was made."""
        return dt.datetime.now(dt.UTC) + self._offset


def demo_start(cfg: HallConfig) -> dt.datetime:
    """Half an hour into the hall's first session on a Monday."""
    first = cfg.hours.sessions[0].start
    opening = dt.datetime.combine(DEMO_MONDAY, first, ZoneInfo(cfg.hall.timezone))
    return opening + dt.timedelta(minutes=30)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackCenter:
    """The real center API (with its event stream) on 127.0.0.1, in this process."""

    def __init__(self, cfg: HallConfig, db_path: Path, clock: Any | None = None) -> None:
        self.cfg = cfg
        self.db_url = f"sqlite:///{db_path}"
        self.clock = clock or RunningClock(demo_start(cfg))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.center: Any = None
        self.key: str | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> LoopbackCenter:
        """Open the database and serve until :meth:`stop`."""
        import uvicorn

        from center.api import events
        from center.api.app import create_app
        from center.engine.center import Center
        from center.pii import new_key

        self.key = self.key or new_key()
        self.center = Center.open(self.cfg, self.db_url, clock=self.clock, data_key=self.key)
        app = create_app(self.center)
        if getattr(app.state, "event_hub", None) is None:
            events.attach(app, self.center.store, poll_seconds=0.05)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="loopback-center", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        pause = threading.Event()
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the loopback center did not start")
            pause.wait(0.01)
        return self

    def device_token(self, name: str) -> str:
        """Register kiosk ``name``; its token."""
        from center.auth.devices import DeviceRegistry
        from center.auth.roles import Role

        return DeviceRegistry(self.center.store, self.clock).add(name, Role.KIOSK, rotate=True)

    def open_windows(self) -> int:
        """Log each window's A post in (where posted); how many opened."""
        opened = 0
        for window in self.cfg.windows:
            if window.posts is None or window.posts.a not in self.cfg.staff_by_number:
                continue
            try:
                self.center.posts.login(window.number, window.posts.a)
            except Exception as exc:
                log.info("window %d not opened: %s", window.number, exc)
                continue
            opened += 1
        return opened

    def book(
        self,
        service: str,
        minutes_from_now: int = 10,
        length: int = 30,
        id_number: str | None = None,
    ) -> str:
        """Book an appointment starting soon (for the holder of ``id_number``, if given);
        the code its QR holds."""
        from center.engine.context import PersonInput

        start = self.clock.now() + dt.timedelta(minutes=minutes_from_now)
        person = PersonInput(id_number) if id_number else None
        app = self.center.tickets.book(
            service, start, start + dt.timedelta(minutes=length), person=person
        )
        return str(app.code)

    def stop(self) -> None:
        """Stop serving and close the database."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self.center is not None:
            self.center.close()
        self._server = self._thread = self.center = None


class SimCitizenCards:
    """A citizen card reader that is given cards by hand (tests and ``--simulate``)."""

    def __init__(self) -> None:
        self._on_card: Callable[[CitizenCard], None] | None = None
        self._on_error: Callable[[str, str], None] | None = None
        self.available = True

    def start(
        self,
        on_card: Callable[[CitizenCard], None],
        on_error: Callable[[str, str], None],
        on_state: Callable[[DeviceState], None],
    ) -> None:
        """Remember where cards go."""
        self._on_card, self._on_error = on_card, on_error
        on_state(self.state())

    def present(self, card: CitizenCard) -> None:
        """A card is put on the reader."""
        if self._on_card is not None:
            self._on_card(card)

    def fail(self, kind: str, prompt: str) -> None:
        """The reader reports a problem with the card."""
        if self._on_error is not None:
            self._on_error(kind, prompt)

    def stop(self) -> None:
        """Forget the callbacks."""
        self._on_card = self._on_error = None

    def state(self) -> DeviceState:
        """Ready (or not, as set)."""
        return DeviceState(self.available, "ready" if self.available else "no_reader")


def write_qr_frames(folder: Path, texts: list[str], blanks: int = 2) -> str:
    """PNG frames (blank, then one QR per text) for the camera; the sequence pattern."""
    import qrcode
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    size = (960, 720)
    frames: list[Image.Image] = [Image.new("L", size, 235) for _ in range(blanks)]
    for text in texts:
        code = qrcode.QRCode(border=4)
        code.add_data(text)
        code.make(fit=True)
        modules = code.modules_count + 8
        code.box_size = max(2, min(10, (size[1] - 40) // modules))
        qr = code.make_image().get_image().convert("L")
        frame = Image.new("L", size, 235)
        frame.paste(qr, ((size[0] - qr.width) // 2, (size[1] - qr.height) // 2))
        frames.append(frame)
    for i, frame in enumerate(frames):
        frame.save(folder / f"{i:03d}.png")
    return str(folder / "%03d.png")


class SimulatedDevices:
    """The ID card reader, printer, camera and citizen card reader, all simulated."""

    def __init__(self, kiosk: Kiosk, state_dir: Path) -> None:
        self.kiosk = kiosk
        self.state_dir = state_dir
        self.idcard: Any = None
        self.printer: Any = None
        self.cards = SimCitizenCards()

    def start(self, camera_pattern: str | None) -> Kiosk:
        """Start the simulators; the kiosk config pointing at them."""
        from devices.idcard.sim import IdCardSim
        from devices.printer.sim import TcpPrinterSim

        self.idcard = IdCardSim(card=None)
        self.idcard.start()
        self.printer = TcpPrinterSim().start()
        width = self.kiosk.printer.width_dots if self.kiosk.printer else 576
        printer = Printer(transport="network", target=self.printer.target, width_dots=width)
        return self.kiosk.model_copy(
            update={
                "printer": printer,
                "id_reader": self.idcard.path,
                "card_reader": "sim",
                "camera": camera_pattern,
            }
        )

    def place_sample_card(self) -> None:
        """Put the simulator's fictitious card (张三) on the reader."""
        from devices.idcard.sim import sample_card

        if self.idcard is not None:
            self.idcard.place_card(sample_card())

    def stop(self) -> None:
        """Stop the simulators."""
        if self.idcard is not None:
            self.idcard.stop()
        if self.printer is not None:
            self.printer.stop()
