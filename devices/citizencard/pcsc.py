"""A thin, typed layer over pyscard's ``smartcard.scard`` (the PC/SC C API), imported lazily.

pyscard is an optional dependency (the ``citizencard`` extra) and needs the PC/SC daemon
``pcscd`` at run time; both failures become ``PcscUnavailable`` with a message that says
what to install or start. Return codes become typed errors here so the monitor never sees
a raw HRESULT.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from devices.citizencard.errors import CardError, NoReader, PcscUnavailable

INSTALL_HINT = (
    "pyscard is not installed: install hallq with the 'citizencard' extra "
    "(pip install 'hallq[citizencard]'; it builds against Debian's libpcsclite-dev)"
)
PCSCD_HINT = (
    "the PC/SC daemon pcscd is not running: install Debian's pcscd and start it "
    "(systemctl start pcscd.socket, or pcscd --foreground)"
)

_SERVICE_ERRORS = ("SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED", "SCARD_E_INVALID_HANDLE")
_CARD_GONE = (
    "SCARD_W_REMOVED_CARD",
    "SCARD_E_NO_SMARTCARD",
    "SCARD_W_UNRESPONSIVE_CARD",
    "SCARD_W_UNPOWERED_CARD",
    "SCARD_W_RESET_CARD",
    "SCARD_E_NOT_TRANSACTED",
    "SCARD_E_PROTO_MISMATCH",
    "SCARD_E_SHARING_VIOLATION",
)


def load_scard() -> ModuleType:
    """``smartcard.scard``, or ``PcscUnavailable`` naming the missing extra."""
    try:
        return importlib.import_module("smartcard.scard")
    except (ImportError, OSError) as exc:
        raise PcscUnavailable(f"{INSTALL_HINT} ({exc})") from None


@dataclass(frozen=True)
class ReaderStatus:
    """One reader's state from SCardGetStatusChange."""

    reader: str
    event_state: int
    atr: bytes

    def present(self, scard: ModuleType) -> bool:
        """A card is in the reader and answered its reset."""
        state = self.event_state
        return bool(state & scard.SCARD_STATE_PRESENT) and not state & scard.SCARD_STATE_MUTE


class PcscContext:
    """An established PC/SC context; ``close()`` releases it."""

    def __init__(self) -> None:
        self.scard = load_scard()
        rc, handle = self.scard.SCardEstablishContext(self.scard.SCARD_SCOPE_USER)
        if rc != self.scard.SCARD_S_SUCCESS:
            raise PcscUnavailable(f"{PCSCD_HINT} ({self.error_text(rc)})")
        self._handle: Any = handle

    def error_text(self, rc: int) -> str:
        """pcsc-lite's message for a return code, with the code."""
        return f"{self.scard.SCardGetErrorMessage(rc)} [0x{rc & 0xFFFFFFFF:08X}]"

    def _is(self, rc: int, names: tuple[str, ...]) -> bool:
        return any(rc == getattr(self.scard, n, None) for n in names)

    def _raise(self, what: str, rc: int) -> None:
        if self._is(rc, _SERVICE_ERRORS):
            raise PcscUnavailable(f"{what}: {PCSCD_HINT} ({self.error_text(rc)})")
        if rc == self.scard.SCARD_E_NO_READERS_AVAILABLE or rc == self.scard.SCARD_E_UNKNOWN_READER:
            raise NoReader(f"{what}: no PC/SC reader ({self.error_text(rc)})")
        if self._is(rc, _CARD_GONE):
            raise CardError(f"{what}: card removed or not answering ({self.error_text(rc)})")
        raise CardError(f"{what}: {self.error_text(rc)}")

    def close(self) -> None:
        """Release the context (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            self.scard.SCardReleaseContext(handle)

    def cancel(self) -> None:
        """Wake a ``wait_change`` blocked on another thread."""
        if self._handle is not None:
            self.scard.SCardCancel(self._handle)

    def readers(self) -> list[str]:
        """Names of the attached readers ([] if none)."""
        rc, names = self.scard.SCardListReaders(self._handle, [])
        if rc == self.scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if rc != self.scard.SCARD_S_SUCCESS:
            self._raise("list readers", rc)
        return list(names)

    def wait_change(self, states: dict[str, int], timeout_s: float) -> list[ReaderStatus] | None:
        """Block until a reader's state differs from ``states`` (None on timeout or cancel)."""
        request = [(name, state) for name, state in states.items()]
        rc, result = self.scard.SCardGetStatusChange(self._handle, int(timeout_s * 1000), request)
        if rc in (self.scard.SCARD_E_TIMEOUT, self.scard.SCARD_E_CANCELLED):
            return None
        if rc != self.scard.SCARD_S_SUCCESS:
            self._raise("wait for cards", rc)
        return [ReaderStatus(name, state, bytes(atr)) for name, state, atr in result]

    def connect(self, reader: str) -> PcscCard:
        """Connect to the card in ``reader`` (shared, T=0 or T=1)."""
        s = self.scard
        rc, handle, protocol = s.SCardConnect(
            self._handle, reader, s.SCARD_SHARE_SHARED, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1
        )
        if rc != s.SCARD_S_SUCCESS:
            self._raise("connect", rc)
        return PcscCard(self, handle, protocol)


class PcscCard:
    """A connected card; use as a context manager (disconnects, leaving the card powered)."""

    def __init__(self, context: PcscContext, handle: Any, protocol: int) -> None:
        self._context = context
        self._handle = handle
        self._protocol = protocol

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU, return the raw response (data + SW1 SW2)."""
        s = self._context.scard
        rc, response = s.SCardTransmit(self._handle, self._protocol, list(apdu))
        if rc != s.SCARD_S_SUCCESS:
            self._context._raise("transmit", rc)
        return bytes(response)

    def atr(self) -> bytes:
        """The card's ATR as the reader reports it."""
        s = self._context.scard
        rc, _reader, _state, _protocol, atr = s.SCardStatus(self._handle)
        if rc != s.SCARD_S_SUCCESS:
            self._context._raise("status", rc)
        return bytes(atr)

    def close(self) -> None:
        """Disconnect (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            s = self._context.scard
            s.SCardDisconnect(handle, s.SCARD_LEAVE_CARD)

    def __enter__(self) -> PcscCard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
