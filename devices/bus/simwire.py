"""The simulated wire: a pseudo-terminal published at a stable path, and fault injection.

``PtyWire`` opens a pty pair, keeps the slave side open itself (so the master side never
reads EIO while the driver has the port closed) and, if given ``link_path``, publishes the
slave at that path as a symlink. ``unplug()`` closes the pair and removes the path, as a USB
adapter pulled out would; ``replug()`` creates a fresh pty behind the same path. Drivers open
the path with ``serial.serial_for_url`` exactly as they would open ``/dev/ttyUSB0``.

ptys ignore the baud rate: simulators model wire time themselves (``LineTiming``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import select
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path

SPIN_S = 0.0003


class PtyWire:
    """A pty pair whose slave a driver opens by path."""

    def __init__(self, link_path: str | os.PathLike[str] | None = None) -> None:
        self._link = Path(link_path) if link_path is not None else None
        self._master = -1
        self._slave = -1
        self._slave_name = ""
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        """What a driver opens: the symlink if one was asked for, else the slave's name."""
        return str(self._link) if self._link is not None else self._slave_name

    @property
    def plugged(self) -> bool:
        """True while the pty exists."""
        return self._master >= 0

    def open(self) -> None:
        """Create the pty (and the symlink)."""
        with self._lock:
            if self._master >= 0:
                return
            master, slave = os.openpty()
            tty.setraw(slave)
            os.set_blocking(master, False)
            self._master, self._slave = master, slave
            self._slave_name = os.ttyname(slave)
            if self._link is not None:
                tmp = self._link.with_name(self._link.name + ".tmp")
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                tmp.symlink_to(self._slave_name)
                tmp.replace(self._link)

    def close(self) -> None:
        """Remove the symlink and close the pty (the driver's port then fails with EIO)."""
        with self._lock:
            if self._link is not None:
                with contextlib.suppress(FileNotFoundError):
                    self._link.unlink()
            for fd in (self._master, self._slave):
                if fd >= 0:
                    os.close(fd)
            self._master = self._slave = -1

    def read(self, timeout: float) -> bytes:
        """Bytes the driver wrote, waiting up to ``timeout``; b"" if none (or unplugged)."""
        fd = self._master
        if fd < 0:
            return b""
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            return os.read(fd, 4096) if ready else b""
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.EBADF, errno.EAGAIN):
                return b""
            raise

    def write(self, data: bytes) -> None:
        """Make ``data`` readable by the driver (dropped if unplugged)."""
        view = memoryview(data)
        while view and self._master >= 0:
            try:
                view = view[os.write(self._master, view) :]
            except BlockingIOError:
                select.select([], [self._master], [], 0.05)
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):
                    return
                raise


@dataclass
class Faults:
    """Fault-injection knobs of a simulator; change them at any time."""

    corrupt_ratio: float = 0.0
    """Probability that any one byte (either direction) has a bit flipped."""
    drop_ratio: float = 0.0
    """Probability that a request is lost (no reply at all)."""
    late_reply: float = 0.0
    """Extra seconds before a reply, applied to a ``late_ratio`` share of replies."""
    late_ratio: float = 1.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    corrupted: int = 0
    dropped: int = 0

    def corrupt(self, data: bytes) -> bytes:
        """``data`` with bytes flipped at ``corrupt_ratio``."""
        if self.corrupt_ratio <= 0 or not data:
            return data
        out = bytearray(data)
        for i in range(len(out)):
            if self.rng.random() < self.corrupt_ratio:
                out[i] ^= 1 << self.rng.randrange(8)
                self.corrupted += 1
        return bytes(out)

    def drop(self) -> bool:
        """True if this exchange is to be lost."""
        if self.drop_ratio > 0 and self.rng.random() < self.drop_ratio:
            self.dropped += 1
            return True
        return False

    def delay(self) -> float:
        """Extra delay for this reply."""
        if self.late_reply > 0 and self.rng.random() < self.late_ratio:
            return self.late_reply
        return 0.0


class SimThread:
    """Base of bus simulators: one thread owns the wire; unplug/replug run on that thread.

    Subclasses implement ``on_bytes(data, now)`` (bytes from the driver, already passed
    through fault injection) and may override ``on_idle(now)``; they answer with
    ``send_at(when, data)``, which blocks the simulator until ``when`` as a half-duplex
    wire would.
    """

    def __init__(self, link_path: str | os.PathLike[str] | None, faults: Faults | None) -> None:
        self.wire = PtyWire(link_path)
        self.faults = faults or Faults()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._control: list[tuple[str, threading.Event]] = []
        self._control_lock = threading.Lock()

    @property
    def path(self) -> str:
        """The port path a driver opens."""
        return self.wire.path

    def start(self) -> None:
        """Create the pty and start answering."""
        self.wire.open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"sim {self.path}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop answering and remove the pty."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.wire.close()

    def __enter__(self) -> SimThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """The adapter is pulled out: the path disappears and the driver's port fails."""
        self._on_thread("unplug")

    def replug(self) -> None:
        """The adapter comes back: a new pty appears behind the same path."""
        self._on_thread("replug")

    def _on_thread(self, what: str) -> None:
        done = threading.Event()
        with self._control_lock:
            self._control.append((what, done))
        if not done.wait(5):
            raise TimeoutError(f"simulator did not {what}")

    def _run_control(self) -> None:
        with self._control_lock:
            control, self._control = self._control, []
        for what, done in control:
            if what == "unplug":
                self.wire.close()
                self.on_unplug()
            else:
                self.wire.open()
            done.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._run_control()
            data = self.wire.read(0.005)
            now = time.monotonic()
            if data:
                self.on_bytes(self.faults.corrupt(data), now)
            else:
                self.on_idle(now)

    def send_at(self, when: float, data: bytes) -> None:
        """Write ``data`` (through fault injection) once ``when`` has come."""
        delay = when - time.monotonic()
        if delay > SPIN_S:
            time.sleep(delay - SPIN_S)
        while time.monotonic() < when:
            pass  # sleep() overshoots by ~0.1 ms, a tenth of a byte at 9600: spin the rest
        self.wire.write(self.faults.corrupt(data))

    def on_bytes(self, data: bytes, now: float) -> None:
        """Bytes from the driver arrived."""
        raise NotImplementedError

    def on_idle(self, now: float) -> None:
        """Nothing arrived for a few milliseconds."""

    def on_unplug(self) -> None:
        """The wire was just unplugged (drop partial input)."""
