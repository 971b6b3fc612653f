"""A hall's RS-485 devices from its config: which bus and address serves which window."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from config.schema import HallConfig
from devices.bus import DeviceKind


@dataclass(frozen=True)
class DeviceRef:
    """A configured device: which bus, which address, what it is, which window."""

    bus: str
    address: int
    kind: DeviceKind
    window: int | None
    lines: int


class HallDevices:
    """The window → device mapping of a hall's buses."""

    def __init__(self, refs: Iterable[DeviceRef]) -> None:
        self.refs = tuple(refs)
        self._at = {(r.bus, r.address): r for r in self.refs}

    @classmethod
    def from_config(cls, cfg: HallConfig) -> HallDevices:
        """Every device of every configured bus."""
        return cls(
            DeviceRef(bus.name, d.address, DeviceKind(d.kind), d.window, d.lines)
            for bus in cfg.devices.buses
            for d in bus.devices
        )

    def at(self, bus: str, address: int) -> DeviceRef | None:
        """The device at ``address`` on ``bus``."""
        return self._at.get((bus, address))

    def of(self, kind: DeviceKind, window: int | None = None) -> list[DeviceRef]:
        """Devices of ``kind`` (at ``window``, if given)."""
        return [r for r in self.refs if r.kind is kind and (window is None or r.window == window)]
