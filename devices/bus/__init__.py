"""Common bus interface, port handling, simulator base, decode/scan tools and CLI.

The display controller needs only this package: ``open_bus``/``bus_from_config`` build the
right ``BusMaster`` for a configured bus; events arrive as ``BusEvent``.
"""

from devices.bus.api import BusError, BusMaster, EventHandler, UnknownDevice, UnsupportedOperation
from devices.bus.factory import bus_from_config, open_bus
from devices.bus.model import (
    BusEvent,
    DeviceKind,
    DeviceSpec,
    DeviceState,
    DeviceStatus,
    Effect,
    EventKind,
    Key,
    PortState,
    Protocol,
    Rating,
)

__all__ = [
    "BusError",
    "BusEvent",
    "BusMaster",
    "DeviceKind",
    "DeviceSpec",
    "DeviceState",
    "DeviceStatus",
    "Effect",
    "EventHandler",
    "EventKind",
    "Key",
    "PortState",
    "Protocol",
    "Rating",
    "UnknownDevice",
    "UnsupportedOperation",
    "bus_from_config",
    "open_bus",
]
