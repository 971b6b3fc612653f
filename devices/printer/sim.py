"""A simulated ESC/POS ticket printer, reached over TCP (port-9100 style) or a pty.

``SimPrinter`` is the printer: it decodes the byte stream (``devices.printer.stream``),
answers ``DLE EOT n`` at once with the bytes an Epson-compatible printer sends, and runs
every other command in order from its buffer: raster images (``GS v 0``), text, native QR
codes (``GS ( k``), feeds and cuts. Each cut closes a ``SimJob``; tests read ``jobs`` and
``SimJob.image()`` (the raster stacked back into a picture, so a test can decode the QR
code from what was *printed*). ``GS r 1`` is answered only when the buffer reaches it.

Faults, on request and at any time:
  ``run_out_of_paper(after_dots=0)``  the roll ends (now, or after that many more dot rows):
                                      printing stops, the printer goes offline, DLE EOT 4
                                      says paper end, the buffer waits.
  ``set_near_end(True)``              the near-end sensor trips (still prints).
  ``go_offline()``                    cover open: offline, nothing prints, status answers.
  ``power_off()``                     no replies at all; TCP connections are closed and refused.
  ``restore(keep_buffer=False)``      paper in, cover closed, power on. Printers differ on what
                                      happens to data buffered when printing stopped: by default
                                      it is discarded (power-cycled), ``keep_buffer`` prints it.

Front-ends: ``TcpPrinterSim`` (127.0.0.1, a free port; escpos' ``Network``) and
``PtyPrinterSim`` (a pty path; escpos' ``Serial``). The pty ignores the baud rate.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from devices.bus.simwire import PtyWire
from devices.printer.stream import (
    Command,
    Kind,
    StreamDecoder,
    qr_parts,
    raster_image,
    raster_scale,
)

LINE_DOTS = 30
"""Dots one text line or ``ESC d`` line advances (1/6 inch is 34 at 203 dpi; close enough)."""
QR_DOTS = 200


@dataclass
class SimJob:
    """What the simulated printer put on paper between two cuts."""

    number: int
    rasters: list[Image.Image] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    dots: int = 0
    cut: bool = False
    interrupted: bool = False
    """Paper ran out (or power failed) in the middle of this job."""

    def image(self) -> Image.Image:
        """Every raster of the job stacked top to bottom (mode '1', white background)."""
        if not self.rasters:
            return Image.new("1", (8, 1), 1)
        width = max(r.width for r in self.rasters)
        out = Image.new("1", (width, sum(r.height for r in self.rasters)), 1)
        y = 0
        for raster in self.rasters:
            out.paste(raster, (0, y))
            y += raster.height
        return out


class SimPrinter:
    """The printer: status, buffer, paper and the jobs it printed (thread-safe)."""

    def __init__(
        self,
        *,
        paper_dots: int | None = None,
        drawer_pin_high: bool = True,
        answers_gs_r: bool = True,
    ) -> None:
        self._lock = threading.RLock()
        self._decoder = StreamDecoder()
        self._queue: deque[Command] = deque()
        self._sink: Callable[[bytes], None] | None = None
        self.paper_dots = paper_dots
        """Dot rows of paper left; None is an endless roll."""
        self.near_end = False
        self.cover_open = False
        self.powered = True
        self.drawer_pin_high = drawer_pin_high
        self.answers_gs_r = answers_gs_r
        """False models a printer without ``GS r`` (the driver then cannot confirm tickets)."""
        self.jobs: list[SimJob] = []
        self._job: SimJob | None = None
        self._qr_data = b""
        self.received = bytearray()
        self.status_queries: list[int] = []
        self.unknown: list[bytes] = []

    # wiring -------------------------------------------------------------------------------

    def connect(self, sink: Callable[[bytes], None] | None) -> None:
        """Where replies go (set by a front-end)."""
        with self._lock:
            self._sink = sink

    def _reply(self, value: int) -> None:
        if self._sink is not None:
            self._sink(bytes((value,)))

    def feed(self, data: bytes) -> None:
        """Bytes from the host."""
        with self._lock:
            if not self.powered:
                return
            self.received += data
            for command in self._decoder.feed(data):
                if command.kind is Kind.REALTIME_STATUS:
                    self._realtime_status(command.arg)
                elif command.kind is Kind.REALTIME_REQUEST:
                    continue
                else:
                    self._queue.append(command)
            self._run()

    # state --------------------------------------------------------------------------------

    @property
    def paper_out(self) -> bool:
        """True when the roll has ended."""
        return self.paper_dots is not None and self.paper_dots <= 0

    @property
    def online(self) -> bool:
        """True if the printer would print now."""
        return self.powered and not self.cover_open and not self.paper_out

    @property
    def buffered(self) -> int:
        """Commands waiting in the buffer."""
        with self._lock:
            return len(self._queue)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait (bounded) until the buffer is empty."""
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while time.monotonic() < deadline:
            if not self.buffered and not self._decoder.pending:
                return True
            pause.wait(0.005)
        return False

    # faults -------------------------------------------------------------------------------

    def run_out_of_paper(self, after_dots: int = 0) -> None:
        """The roll ends now, or after ``after_dots`` more dot rows are printed."""
        with self._lock:
            self.paper_dots = max(0, after_dots)

    def set_near_end(self, on: bool = True) -> None:
        """Trip (or clear) the paper near-end sensor."""
        with self._lock:
            self.near_end = on

    def go_offline(self) -> None:
        """Open the cover: offline, status still answered."""
        with self._lock:
            self.cover_open = True

    def power_off(self) -> None:
        """Switch off: nothing is answered; data sent now is lost."""
        with self._lock:
            self.powered = False
            if self._job is not None and not self._job.cut:
                self._job.interrupted = True
            self._job = None
            self._queue.clear()
            self._decoder.reset()

    def restore(self, *, keep_buffer: bool = False) -> None:
        """New roll in, cover closed, power on; buffered data printed only with ``keep_buffer``."""
        with self._lock:
            self.powered, self.cover_open, self.near_end = True, False, False
            self.paper_dots = None
            if not keep_buffer:
                self._queue.clear()
                self._job = None
            self._run()

    # real-time status ---------------------------------------------------------------------

    def status_byte(self, n: int) -> int | None:
        """The reply to ``DLE EOT n`` (Epson bit layout), None for an unsupported n."""
        base = 0x12
        if n == 1:
            return base | (0x04 if self.drawer_pin_high else 0) | (0 if self.online else 0x08)
        if n == 2:
            return base | (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0)
        if n == 3:
            return base
        if n == 4:
            return (
                base
                | (0x0C if self.near_end or self.paper_out else 0)
                | (0x60 if self.paper_out else 0)
            )
        return None

    def _realtime_status(self, n: int) -> None:
        self.status_queries.append(n)
        value = self.status_byte(n)
        if value is not None:
            self._reply(value)

    # the buffer ---------------------------------------------------------------------------

    def _run(self) -> None:
        while self._queue and self.online:
            self._execute(self._queue.popleft())
        if self._queue and self._job is not None and self.paper_out:
            self._job.interrupted = True  # stopped with the rest of the job still buffered

    def _current(self) -> SimJob:
        if self._job is None:
            self._job = SimJob(len(self.jobs) + 1)
            self.jobs.append(self._job)
        return self._job

    def _use_paper(self, dots: int) -> int:
        """Advance the paper; return the rows that fit before the roll ends."""
        if self.paper_dots is None:
            return dots
        used = min(dots, self.paper_dots)
        self.paper_dots -= used
        if used < dots and self._job is not None:
            self._job.interrupted = True
        return used

    def _execute(self, command: Command) -> None:
        kind = command.kind
        if kind is Kind.TRANSMIT_STATUS:
            if self.answers_gs_r and command.arg in (1, 49):
                self._reply(0x03 if self.near_end else 0x00)
            return
        if kind in (Kind.INIT, Kind.SETTING):
            return
        if kind is Kind.UNKNOWN:
            self.unknown.append(command.raw)
            return
        if kind is Kind.CUT:
            job = self._current()
            job.cut = True
            job.commands.append(command.name)
            self._job = None
            return
        job = self._current()
        job.commands.append(command.name)
        if kind is Kind.RASTER:
            self._print_raster(job, command)
        elif kind is Kind.TEXT:
            job.text.append(command.raw.decode("gb18030", errors="replace"))
        elif kind is Kind.LINE_FEED:
            job.dots += self._use_paper(LINE_DOTS)
        elif kind is Kind.FEED:
            n = command.arg
            job.dots += self._use_paper(n * LINE_DOTS if command.name == "ESC d" else n)
        elif kind is Kind.QR:
            self._qr(job, command)

    def _print_raster(self, job: SimJob, command: Command) -> None:
        picture = raster_image(command)
        sx, sy = raster_scale(command)
        rows = self._use_paper(picture.height * sy) // sy
        if rows < picture.height:
            picture = picture.crop((0, 0, picture.width, rows))
        if sx > 1 or sy > 1:
            picture = picture.resize((picture.width * sx, picture.height * sy))
        if picture.height:
            job.rasters.append(picture)
        job.dots += picture.height

    def _qr(self, job: SimJob, command: Command) -> None:
        fn, data = qr_parts(command)
        if fn == 0x50:
            self._qr_data = data
        elif fn == 0x51 and self._use_paper(QR_DOTS) == QR_DOTS:
            job.qr.append(self._qr_data.decode("utf-8", errors="replace"))
            job.dots += QR_DOTS


class TcpPrinterSim:
    """``SimPrinter`` on 127.0.0.1:<free port>, like a network printer's raw port 9100."""

    def __init__(self, printer: SimPrinter | None = None, host: str = "127.0.0.1") -> None:
        self.printer = printer or SimPrinter()
        self._server = socket.create_server((host, 0))
        self._server.settimeout(0.05)
        self.host, self.port = self._server.getsockname()[:2]
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.connections = 0

    @property
    def target(self) -> str:
        """The config target: ``host:port``."""
        return f"{self.host}:{self.port}"

    def start(self) -> TcpPrinterSim:
        """Accept connections in a thread."""
        self.printer.connect(self._send)
        thread = threading.Thread(
            target=self._accept, name=f"sim-printer {self.target}", daemon=True
        )
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Close everything."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server.close()
        with self._lock:
            for client in self._clients:
                client.close()
            self._clients.clear()
        self.printer.connect(None)

    def __enter__(self) -> TcpPrinterSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _send(self, data: bytes) -> None:
        with self._lock:
            for client in list(self._clients):
                try:
                    client.sendall(data)
                except OSError:
                    self._clients.remove(client)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.printer.powered:
                client.close()  # a switched-off printer has no listening socket
                continue
            self.connections += 1
            client.settimeout(0.05)
            with self._lock:
                self._clients.append(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                if not self.printer.powered:
                    break
                try:
                    data = client.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                self.printer.feed(data)
        except OSError:
            pass
        finally:
            with self._lock:
                if client in self._clients:
                    self._clients.remove(client)
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()


class PtyPrinterSim:
    """``SimPrinter`` behind a pty: open ``path`` as a serial port (escpos' ``Serial``)."""

    def __init__(
        self, printer: SimPrinter | None = None, link_path: str | os.PathLike[str] | None = None
    ) -> None:
        self.printer = printer or SimPrinter()
        self.wire = PtyWire(link_path)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    @property
    def path(self) -> str:
        """The port path (the config target)."""
        return self.wire.path

    target = path

    def start(self) -> PtyPrinterSim:
        """Create the pty and start reading."""
        self.wire.open()
        self.printer.connect(self._send)
        self._thread = threading.Thread(
            target=self._run, name=f"sim-printer {self.path}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and remove the pty."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.printer.connect(None)
        self.wire.close()

    def __enter__(self) -> PtyPrinterSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _send(self, data: bytes) -> None:
        with self._write_lock:
            self.wire.write(data)

    def _run(self) -> None:
        while not self._stop.is_set():
            data = self.wire.read(0.02)
            if data:
                self.printer.feed(data)
