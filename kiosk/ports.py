"""What the kiosk needs from each device and from the center: small protocols, no Qt.

The kiosk service codes against these, never against a driver's own classes, so a change
of signature in ``devices/`` is absorbed by one adapter (``kiosk/adapters.py``) and the
screens do not notice. Tests implement them with the real simulators (through the
adapters) or, for a device whose package does not exist yet, with a small fake.

Callbacks given to ``start`` run on the device's own thread; the presenter turns them into
Qt signals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from devices.client.models import HallStatus, Ticket

__all__ = [
    "CardListener",
    "CardReaderPort",
    "CenterPort",
    "CitizenCard",
    "DeviceState",
    "IdCardData",
    "IdReaderPort",
    "PrintFailure",
    "PrinterPort",
    "Refused",
    "ScannerPort",
    "Unreachable",
]


@dataclass(frozen=True)
class DeviceState:
    """One device as the admin screen shows it (Home Assistant style: ``available``)."""

    available: bool
    state: str
    """A short machine word: ``ready``, ``paper_out``, ``no_reply``, ``live``…"""
    detail: str = ""
    """English text for staff; never personal data."""


class Unreachable(Exception):
    """The center did not answer (the kiosk goes on from its lease where it can)."""


class Refused(Exception):
    """The center said no; ``zh`` is what to show the citizen."""

    def __init__(self, message: str, zh: str | None = None, code: str = "refused") -> None:
        super().__init__(message)
        self.zh = zh or "暂时无法办理，请咨询工作人员"
        self.code = code


class PrintFailure(Exception):
    """The ticket was not surely printed: show it on screen and report ``code``."""

    def __init__(self, message: str, code: str, state: str, *, sent: bool) -> None:
        super().__init__(message)
        self.code = code
        """Fault code for the center: ``printer.paper_out``, ``printer.offline``…"""
        self.state = state
        self.sent = sent


class CenterPort(Protocol):
    """The center, through ``devices.client`` (HTTP, outbox, number lease, event stream)."""

    def hall_status(self) -> HallStatus:
        """Queues per service now; raises Unreachable."""
        ...

    def issue(self, service: str, *, priority_class: str | None, person: Any | None) -> Ticket:
        """A ticket, online or from the lease; raises Refused or Unreachable."""
        ...

    def check_in(self, code: str) -> Ticket:
        """A ticket for an appointment code; raises Refused or Unreachable."""
        ...

    def check_in_person(self, person: Any) -> Ticket:
        """A ticket for ``person``'s appointment of today; raises Refused or Unreachable."""
        ...

    def report_fault(self, code: str, message: str, detail: dict[str, Any]) -> None:
        """Queue a fault report (delivered when the center answers)."""
        ...

    def report_recovery(self, code: str, message: str) -> None:
        """Queue the end of a fault."""
        ...

    def link(self) -> DeviceState:
        """The center link: reachable, event stream live, tickets waiting to sync."""
        ...

    def start(self, on_event: Callable[[str], None]) -> None:
        """Start background work (outbox, event stream); ``on_event(kind)`` per event."""
        ...

    def stop(self) -> None:
        """Stop background work."""
        ...


class PrinterPort(Protocol):
    """The ticket printer."""

    def print_ticket(self, image: Any) -> int:
        """Print once; bytes written. Raises PrintFailure (never prints twice)."""
        ...

    def status(self) -> DeviceState:
        """Ask the printer now (bounded I/O)."""
        ...

    def close(self) -> None:
        """Release the port."""
        ...


@dataclass(frozen=True)
class IdCardData:
    """What the kiosk keeps of a resident ID card (no photo). ``repr`` shows nothing."""

    name: str
    id_number: str
    birth: dt.date | None
    valid_to: dt.date | None

    def __repr__(self) -> str:
        return "IdCardData(<personal data>)"


@dataclass(frozen=True)
class CitizenCard:
    """What a citizen card (市民卡/社保卡) gave: which card it is and, if it says, the holder.

    ``card_key`` tells cards apart (the reader's ``uid:<hex>``…, ``CardIdentity.key``); it
    says which card, not who holds it, so it is never sent to the center as an ID number.
    ``id_number`` and ``name`` are set only by a reader that reads them from the card.
    """

    card_key: str
    id_number: str | None = None
    name: str | None = None

    def __repr__(self) -> str:
        return "CitizenCard(<personal data>)"


CardListener = Callable[[Any], None]


class IdReaderPort(Protocol):
    """The resident ID card reader, owned by a thread that waits for cards."""

    def start(
        self,
        on_card: Callable[[IdCardData], None],
        on_error: Callable[[str, str], None],
        on_state: Callable[[DeviceState], None],
    ) -> None:
        """Start reading; ``on_error(kind, prompt)`` with kind ``expired``, ``removed``…"""
        ...

    def stop(self) -> None:
        """Stop reading and close the port."""
        ...

    def state(self) -> DeviceState:
        """The latest snapshot (no I/O)."""
        ...


class CardReaderPort(Protocol):
    """The citizen card reader (PC/SC)."""

    def start(
        self,
        on_card: Callable[[CitizenCard], None],
        on_error: Callable[[str, str], None],
        on_state: Callable[[DeviceState], None],
    ) -> None:
        """Start watching for cards."""
        ...

    def stop(self) -> None:
        """Stop watching."""
        ...

    def state(self) -> DeviceState:
        """The latest snapshot (no I/O)."""
        ...


class ScannerPort(Protocol):
    """The camera that reads appointment QR codes."""

    def start(self, on_code: Callable[[str], None]) -> None:
        """Start scanning (paused until ``resume``)."""
        ...

    def resume(self) -> None:
        """Decode frames (the check-in screen is shown)."""
        ...

    def pause(self) -> None:
        """Decode nothing (any other screen)."""
        ...

    def stop(self) -> None:
        """Stop and release the camera."""
        ...

    def state(self) -> DeviceState:
        """The latest snapshot (no I/O)."""
        ...
