"""How the ticket printer is reached: a python-escpos printer class plus a way back.

Config targets (``config.schema.Printer``):

    serial   /dev/ttyUSB0 (or a pty path)   escpos.printer.Serial, ``baud`` from the config
    usb      0416:5011 (vid:pid, hex)        escpos.printer.Usb (pyusb)
    network  192.168.1.50 or host:9100       escpos.printer.Network (raw TCP, port 9100)
    file     /dev/usb/lp0 or var/k1.prn      escpos.printer.File, opened for appending

python-escpos writes (``_raw``); hallq reads status bytes itself, one at a time with its own
deadline, because escpos' ``_read`` asks for 16 bytes and a serial port then waits out its
whole timeout (hardware-notes). Every transport failure becomes ``LinkError``. escpos is
imported when a link is opened, never at import time.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import select
import socket
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

TRANSPORTS = ("serial", "usb", "network", "file")
DEFAULT_PORT = 9100
READ_SLICE_S = 0.05


class LinkError(Exception):
    """The printer cannot be reached (not found, refused, unplugged, I/O error)."""


@dataclass(frozen=True)
class LinkSpec:
    """A parsed printer target."""

    transport: str
    target: str
    baud: int = 9600
    host: str = ""
    port: int = DEFAULT_PORT
    vendor_id: int = 0
    product_id: int = 0


def parse_target(transport: str, target: str, baud: int = 9600) -> LinkSpec:
    """Check and split a config target; ValueError says what was expected."""
    target = target.strip()
    if transport not in TRANSPORTS:
        raise ValueError(f"printer transport must be one of {', '.join(TRANSPORTS)}")
    if not target:
        raise ValueError(f"printer target is empty (transport {transport})")
    if transport == "network":
        host, port = target, DEFAULT_PORT
        if target.startswith("["):  # [::1]:9100
            host, _, rest = target[1:].partition("]")
            if rest:
                port = _port(rest.removeprefix(":"), target)
        elif target.count(":") == 1:
            host, _, text = target.partition(":")
            port = _port(text, target)
        return LinkSpec(transport, target, baud, host=host, port=port)
    if transport == "usb":
        parts = target.lower().replace("0x", "").split(":")
        try:
            vid, pid = (int(p, 16) for p in parts)
        except ValueError:
            raise ValueError(
                f"usb printer target must be vid:pid in hex (0416:5011), not {target!r}"
            ) from None
        if not (0 < vid <= 0xFFFF and 0 < pid <= 0xFFFF):
            raise ValueError(f"usb vendor and product ids must be 0001..FFFF, not {target!r}")
        return LinkSpec(transport, target, baud, vendor_id=vid, product_id=pid)
    return LinkSpec(transport, target, baud)


def _port(text: str, target: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"network printer target must be host or host:port, not {target!r}")
    return int(text)


def fit_profile(printer: Any, width_dots: int) -> None:
    """Give ``printer`` a profile that knows the paper width.

    The default escpos profile's width is "Unknown", and ``image()`` then print()s a warning
    to stdout; the profile data is shared by every instance, so it is copied first.
    """
    data = copy.deepcopy(printer.profile.profile_data)
    data.setdefault("media", {}).setdefault("width", {})["pixels"] = width_dots
    printer.profile.profile_data = data


def _import_escpos() -> Any:
    try:
        from escpos import printer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise LinkError(
            "the ticket printer needs python-escpos: pip install 'python-escpos==3.1'"
        ) from exc
    return printer


IO_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, AssertionError)


def _escpos_errors() -> tuple[type[BaseException], ...]:
    from escpos.exceptions import Error

    return (*IO_ERRORS, Error)


class Link:
    """A python-escpos printer object and the way status bytes come back."""

    can_read = True

    def __init__(self, spec: LinkSpec, width_dots: int, *, connect_timeout_s: float = 3.0) -> None:
        self.spec = spec
        self.width_dots = width_dots
        self.connect_timeout_s = connect_timeout_s
        self.printer: Any = None

    @property
    def is_open(self) -> bool:
        """True while the printer object is open."""
        return self.printer is not None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec.transport}:{self.spec.target}>"

    def _make(self, escpos_printer: Any) -> Any:
        raise NotImplementedError

    def open(self) -> None:
        """Open the printer; LinkError if it cannot be reached."""
        if self.printer is not None:
            return
        module = _import_escpos()
        try:
            printer = self._make(module)
            fit_profile(printer, self.width_dots)
            printer.open(raise_not_found=True)
            self._configure(printer)
        except _escpos_errors() as exc:
            raise LinkError(
                f"cannot open printer {self.spec.transport}:{self.spec.target}: {exc}"
            ) from exc
        self.printer = printer
        log.info("printer open: %s", self)

    def _configure(self, printer: Any) -> None:
        """Transport settings after opening."""

    def close(self) -> None:
        """Close (idempotent, never raises)."""
        printer, self.printer = self.printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception as exc:  # a dead port fails on flush; it is closed either way
                log.debug("closing %s: %s", self, exc)
            printer._device = False  # escpos' __del__ would close again

    def write(self, data: bytes, timeout: float) -> None:
        """Send ``data``; LinkError (and closed) on failure."""
        if self.printer is None:
            raise LinkError(f"printer {self.spec.target} is not open")
        try:
            self._set_write_timeout(timeout)
            self.printer._raw(data)
        except _escpos_errors() as exc:
            self.close()
            raise LinkError(f"writing to printer {self.spec.target} failed: {exc}") from exc

    def _set_write_timeout(self, timeout: float) -> None:
        """Bound the next write."""

    def read_byte(self, timeout: float) -> int | None:
        """The next byte from the printer, or None after ``timeout``; LinkError on failure."""
        raise NotImplementedError

    def drain(self) -> None:
        """Discard bytes already received (stale replies)."""
        while self.read_byte(0.0) is not None:
            pass


class SerialLink(Link):
    """``escpos.printer.Serial``: a port path (real or pty), 8N1 at the configured baud.

    ``dsrdtr=False`` makes pyserial raise DTR at open (on POSIX it is no flow control
    either way): printers in DTR/DSR mode send status only while the host's DTR is high.
    """

    def _make(self, module: Any) -> Any:
        return module.Serial(
            devfile=self.spec.target, baudrate=self.spec.baud, timeout=READ_SLICE_S, dsrdtr=False
        )

    def _set_write_timeout(self, timeout: float) -> None:
        self.printer.device.write_timeout = timeout

    def read_byte(self, timeout: float) -> int | None:
        port = self._port()
        deadline = time.monotonic() + timeout
        try:
            while True:
                data = port.read(1)  # waits at most READ_SLICE_S
                if data:
                    return data[0]
                if time.monotonic() >= deadline:
                    return None
        except IO_ERRORS as exc:
            self.close()
            raise LinkError(f"reading from printer {self.spec.target} failed: {exc}") from exc

    def drain(self) -> None:
        port = self._port()
        try:
            port.reset_input_buffer()
        except IO_ERRORS as exc:
            self.close()
            raise LinkError(f"printer {self.spec.target}: {exc}") from exc

    def _port(self) -> Any:
        if self.printer is None:
            raise LinkError(f"printer {self.spec.target} is not open")
        return self.printer.device


class NetworkLink(Link):
    """``escpos.printer.Network``: raw TCP to host:port (9100)."""

    def _make(self, module: Any) -> Any:
        return module.Network(
            host=self.spec.host, port=self.spec.port, timeout=self.connect_timeout_s
        )

    def _sock(self) -> socket.socket:
        if self.printer is None:
            raise LinkError(f"printer {self.spec.target} is not open")
        sock: socket.socket = self.printer.device
        return sock

    def _set_write_timeout(self, timeout: float) -> None:
        self._sock().settimeout(timeout)

    def read_byte(self, timeout: float) -> int | None:
        sock = self._sock()
        try:
            ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
            if not ready:
                return None
            data = sock.recv(1)
        except OSError as exc:
            self.close()
            raise LinkError(f"reading from printer {self.spec.target} failed: {exc}") from exc
        if not data:
            self.close()
            raise LinkError(f"printer {self.spec.target} closed the connection")
        return data[0]


class UsbLink(Link):
    """``escpos.printer.Usb``: bulk endpoints 0x01 out, 0x82 in (escpos defaults)."""

    def __init__(self, spec: LinkSpec, width_dots: int, **kwargs: float) -> None:
        super().__init__(spec, width_dots, **kwargs)
        self._pending = bytearray()
        self._write_timeout_ms = 10_000

    def _make(self, module: Any) -> Any:
        return module.Usb(idVendor=self.spec.vendor_id, idProduct=self.spec.product_id)

    def _set_write_timeout(self, timeout: float) -> None:
        self.printer.timeout = max(1, int(timeout * 1000))

    def read_byte(self, timeout: float) -> int | None:
        if self._pending:
            return self._pending.pop(0)
        if self.printer is None:
            raise LinkError(f"printer {self.spec.target} is not open")
        import usb.core

        try:
            data = self.printer.device.read(self.printer.in_ep, 64, max(1, int(timeout * 1000)))
        except usb.core.USBTimeoutError:
            return None
        except IO_ERRORS as exc:
            self.close()
            raise LinkError(f"reading from printer {self.spec.target} failed: {exc}") from exc
        self._pending += bytes(data)
        return self._pending.pop(0) if self._pending else None


class FileLink(Link):
    """``escpos.printer.File`` opened for appending: a device node or a spool file.

    Nothing comes back through a file, so the printer's status is never known.
    """

    can_read = False

    def _make(self, module: Any) -> Any:
        from escpos.exceptions import DeviceNotFoundError

        class AppendFile(module.File):
            def open(self, raise_not_found: bool = True) -> None:
                try:
                    handle = open(self.devfile, "ab")  # noqa: SIM115 - closed by close()
                except OSError as exc:
                    raise DeviceNotFoundError(f"cannot open {self.devfile}: {exc}") from exc
                self.device = handle

        return AppendFile(devfile=self.spec.target, auto_flush=True)

    def read_byte(self, timeout: float) -> int | None:
        return None

    def drain(self) -> None:
        return None


LINKS: dict[str, type[Link]] = {
    "serial": SerialLink,
    "usb": UsbLink,
    "network": NetworkLink,
    "file": FileLink,
}


def make_link(
    transport: str, target: str, baud: int, width_dots: int, *, connect_timeout_s: float = 3.0
) -> Link:
    """The (closed) link for a config's printer; ValueError for a bad target."""
    spec = parse_target(transport, target, baud)
    return LINKS[spec.transport](spec, width_dots, connect_timeout_s=connect_timeout_s)


def close_quietly(link: Link) -> None:
    """Close ``link`` ignoring every error."""
    with contextlib.suppress(Exception):
        link.close()
