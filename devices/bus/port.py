"""One serial port, opened by URL, that reports its own loss instead of crashing its owner.

The URL is anything ``serial.serial_for_url`` accepts: ``/dev/ttyUSB0``, a pty path,
``socket://127.0.0.1:7001``, ``spy:///dev/ttyUSB0`` (hexdump for field work), ``rfc2217://…``,
``loop://``. Every I/O error closes the port and raises ``PortLost``; the owner decides when
to call ``open()`` again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import serial

try:
    from termios import error as _TermiosError
except ImportError:  # not POSIX
    _TermiosError = OSError  # type: ignore[misc,assignment]

log = logging.getLogger(__name__)
IO_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, _TermiosError)
"""What a port may raise when its device goes away (tcflush raises termios.error)."""
OPEN_ERRORS: tuple[type[BaseException], ...] = (*IO_ERRORS, ValueError)

SerialFactory = Callable[..., Any]


class PortLost(Exception):
    """The port failed (unplugged, closed, I/O error); it has been closed."""


class PortLink:
    """A serial port opened with ``serial_for_url`` with short, fixed read timeouts."""

    def __init__(
        self,
        url: str,
        baudrate: int,
        *,
        read_timeout: float = 0.005,
        factory: SerialFactory | None = None,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.read_timeout = read_timeout
        self._factory: SerialFactory = factory or serial.serial_for_url
        self._port: Any = None
        self.last_error = ""

    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        return self._port is not None

    def open(self) -> bool:
        """Try to open the port; return False (and remember why) if it cannot be opened now."""
        if self._port is not None:
            return True
        try:
            self._port = self._factory(
                self.url,
                baudrate=self.baudrate,
                timeout=self.read_timeout,
                write_timeout=1.0,
            )
        except OPEN_ERRORS as exc:
            self.last_error = str(exc)
            return False
        self.last_error = ""
        log.info("opened %s at %d baud", self.url, self.baudrate)
        return True

    def close(self) -> None:
        """Close the port (idempotent)."""
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except IO_ERRORS:
                log.debug("error while closing %s", self.url, exc_info=True)

    def write(self, data: bytes) -> None:
        """Write all of ``data``."""
        port = self._checked()
        try:
            port.write(data)
        except IO_ERRORS as exc:
            self._lost(exc)

    def read_some(self, expected: int = 1) -> bytes:
        """Return what has arrived, waiting at most ``read_timeout`` for the first byte.

        With nothing buffered it waits for ``expected`` bytes (a whole reply, when its size is
        known): one wake-up per reply instead of one per chunk.
        """
        port = self._checked()
        try:
            waiting = port.in_waiting
            data: bytes = port.read(waiting or max(1, expected))
            if data and not waiting:
                more = port.in_waiting
                if more:
                    data += port.read(more)
            return data
        except IO_ERRORS as exc:
            self._lost(exc)
        raise AssertionError("unreachable")

    def discard_input(self) -> None:
        """Drop bytes received but not yet read (stale replies)."""
        port = self._checked()
        try:
            port.reset_input_buffer()
        except IO_ERRORS as exc:
            self._lost(exc)

    def _checked(self) -> Any:
        if self._port is None:
            raise PortLost(f"{self.url} is not open")
        return self._port

    def _lost(self, exc: BaseException) -> None:
        self.last_error = str(exc)
        log.warning("lost %s: %s", self.url, exc)
        self.close()
        raise PortLost(str(exc)) from exc
