"""Build the right bus master for a bus: one protocol per bus.

Mixing protocols on one RS-485 segment is refused. Vendor68 devices transmit unprompted and
would collide with hallbus polling; chained LED boards have no framing a hallbus device
could skip safely, and the 300 ms pacing they need would stall a polled bus. In the field
every vendor system owns its own wire; so does each bus here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from devices.bus.api import BusMaster
from devices.bus.model import DeviceSpec, Protocol


def bus_protocol(devices: Sequence[DeviceSpec]) -> Protocol:
    """The one protocol of ``devices``; ValueError if they mix protocols."""
    protocols = {d.protocol for d in devices}
    if len(protocols) > 1:
        names = ", ".join(sorted(p.value for p in protocols))
        raise ValueError(f"one protocol per bus: these devices mix {names}")
    return protocols.pop() if protocols else Protocol.HALLBUS


def open_bus(url: str, baudrate: int, devices: Sequence[DeviceSpec], **options: Any) -> BusMaster:
    """A (not yet started) bus master for ``devices`` on the port at ``url``."""
    protocol = bus_protocol(devices)
    if protocol is Protocol.HALLBUS:
        from devices.hallbus.driver import HallbusMaster, MasterOptions

        return HallbusMaster(url, baudrate, devices, MasterOptions(**options))
    if protocol is Protocol.VENDOR68:
        from devices.vendor68.driver import Vendor68Master, Vendor68Options

        return Vendor68Master(url, baudrate, devices, Vendor68Options(**options))
    from devices.ledchain.driver import LedChainMaster, LedChainOptions

    return LedChainMaster(url, baudrate, devices, LedChainOptions(**options))


def bus_from_config(bus: Any, **options: Any) -> BusMaster:
    """A bus master for a ``config.schema.Bus`` (duck-typed)."""
    devices = [DeviceSpec.from_config(d) for d in bus.devices]
    return open_bus(str(bus.port), int(bus.baud), devices, **options)
