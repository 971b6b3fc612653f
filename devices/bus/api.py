"""The interface a display controller uses to drive one RS-485 bus, whatever it speaks.

One ``BusMaster`` owns one serial port. It is implemented by
``devices.hallbus.driver.HallbusMaster`` (hallq's own protocol), and by the field-compatibility
adapters ``devices.vendor68.driver.Vendor68Master`` and ``devices.ledchain.driver.LedChainMaster``.
One protocol per bus is the norm in the field and the only arrangement supported here: see
``devices.bus.factory.open_bus``.

Every setter only records what the device should show or do and returns at once; the master's
own thread writes it to the bus (writes go before polls) and keeps rewriting until the device
confirms it. Events reach the handler set with ``set_event_handler`` on a thread of the
master's: a handler must be quick (hand the event to a queue) and return normally to accept
it; returning ``False`` or raising leaves the event latched, and it is delivered again later.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

from devices.bus.model import (
    BusEvent,
    DeviceKind,
    DeviceSpec,
    DeviceStatus,
    Effect,
    PortState,
)

EventHandler = Callable[[BusEvent], bool | None]


class BusError(Exception):
    """Base of the errors a bus master raises to its caller."""


class UnsupportedOperation(BusError):
    """The device, or its protocol, cannot do this (e.g. staff names on a vendor evaluator)."""


class UnknownDevice(BusError, KeyError):
    """No device of the required kind is configured at this address."""


class BusMaster(abc.ABC):
    """One bus: a port, its devices, a thread that talks to them."""

    def __init__(self, devices: Sequence[DeviceSpec]) -> None:
        self._specs: dict[int, DeviceSpec] = {}
        for spec in devices:
            if spec.address in self._specs:
                raise ValueError(f"address {spec.address} is configured twice on this bus")
            self._specs[spec.address] = spec

    # lifecycle -----------------------------------------------------------------------------

    @abc.abstractmethod
    def start(self) -> None:
        """Open the port (retrying in the background if it is absent) and start talking."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the thread(s) and close the port."""

    def __enter__(self) -> BusMaster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # outputs -------------------------------------------------------------------------------

    @abc.abstractmethod
    def set_strip(self, address: int, lines: Sequence[str], effect: Effect = Effect.STEADY) -> None:
        """Show ``lines`` (GB2312 text) on the window LED strip at ``address``."""

    @abc.abstractmethod
    def set_board(self, address: int, lines: Sequence[str], notice: str = "") -> None:
        """Show ``lines`` and a scrolling ``notice`` on the hall board at ``address``."""

    @abc.abstractmethod
    def evaluator_show_staff(self, address: int, name: str, staff_number: str, stars: int) -> None:
        """Show the staff member on duty (name, 工号, 0–5 stars) on an evaluator."""

    @abc.abstractmethod
    def evaluator_invite(self, address: int, timeout_s: float) -> int:
        """Invite a rating; return the invitation id its RATING (or INVITE_FAILED) event carries."""

    @abc.abstractmethod
    def evaluator_cancel(self, address: int, invitation: int | None = None) -> None:
        """Withdraw an invitation (the current one if ``invitation`` is None); no event follows."""

    @abc.abstractmethod
    def keypad_display(self, address: int, number: str | int) -> None:
        """Show a ticket number (or any short digits) on a caller keypad's display."""

    def beep(self, address: int, count: int = 1) -> None:
        """Sound the buzzer of a keypad or evaluator."""
        raise UnsupportedOperation(f"{type(self).__name__} cannot beep")

    # events and state ----------------------------------------------------------------------

    @abc.abstractmethod
    def set_event_handler(self, handler: EventHandler | None) -> None:
        """Register the one handler that receives BusEvents (None: events stay latched)."""

    @abc.abstractmethod
    def device_states(self) -> Mapping[int, DeviceStatus]:
        """Snapshot of every configured device, keyed by address."""

    @property
    @abc.abstractmethod
    def port_state(self) -> PortState:
        """State of the serial port."""

    # helpers for implementations -----------------------------------------------------------

    @property
    def specs(self) -> Mapping[int, DeviceSpec]:
        """The configured devices, keyed by address."""
        return dict(self._specs)

    def _require(self, address: int, *kinds: DeviceKind) -> DeviceSpec:
        spec = self._specs.get(address)
        if spec is None or (kinds and spec.kind not in kinds):
            wanted = " or ".join(k.value for k in kinds) or "device"
            raise UnknownDevice(f"no {wanted} configured at address {address}")
        return spec
