"""Find what answers on a bus: ``scan(port_url, protocol, addresses)``.

* hallbus: an ``identify`` request to every address; the answers, with kind and boot id.
* vendor68: devices cannot be asked; the port is listened to for ``listen_s`` and every
  address heard is listed (press a key on each device meanwhile).
* ledchain: boards never answer; scanning is not possible (UnsupportedOperation).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from typing import Any

from devices.bus.api import BusError, UnsupportedOperation
from devices.bus.model import Protocol
from devices.bus.port import PortLink, SerialFactory
from devices.bus.timing import LineTiming
from devices.hallbus.link import HallbusLink, NoReply
from devices.hallbus.protocol import Message, PayloadError, identity_of
from devices.vendor68.frames import FrameParser, V68Frame
from devices.vendor68.protocol import to_json as v68_json

log = logging.getLogger(__name__)


def parse_addresses(text: str) -> list[int]:
    """``"1-5,9"`` → [1, 2, 3, 4, 5, 9]; ValueError outside 1–247."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if not 1 <= first <= last <= 247:
            raise ValueError(f"addresses must lie within 1–247: {part!r}")
        out.extend(range(first, last + 1))
    return sorted(set(out))


def _open(url: str, baudrate: int, factory: SerialFactory | None) -> PortLink:
    port = PortLink(url, baudrate, factory=factory)
    if not port.open():
        raise BusError(f"cannot open {url}: {port.last_error}")
    return port


def scan_hallbus(
    port: PortLink, addresses: Iterable[int], retries: int = 1
) -> list[dict[str, Any]]:
    """Identify every address on an open port."""
    link = HallbusLink(port, LineTiming(port.baudrate))
    seq = random.randrange(256)
    found = []
    for address in addresses:
        seq = (seq + 1) & 0xFF
        try:
            reply = link.request(address, seq, Message("identify"), retries)
            found.append({"address": address, **identity_of(reply).to_json()})
        except NoReply:
            continue
        except (PayloadError, KeyError) as exc:
            found.append({"address": address, "error": str(exc)})
    return found


def listen_vendor68(port: PortLink, listen_s: float) -> list[dict[str, Any]]:
    """Addresses heard on an open vendor68 port within ``listen_s``."""
    parser = FrameParser()
    heard: dict[int, list[dict[str, Any]]] = {}
    deadline = time.monotonic() + listen_s
    while time.monotonic() < deadline:
        for item in parser.feed(port.read_some()):
            if isinstance(item, V68Frame):
                heard.setdefault(item.address, []).append(v68_json(item))
    return [{"address": a, "frames": frames} for a, frames in sorted(heard.items())]


def scan(
    port_url: str,
    protocol: Protocol | str = Protocol.HALLBUS,
    addresses: Iterable[int] = range(1, 248),
    *,
    baudrate: int = 9600,
    retries: int = 1,
    listen_s: float = 5.0,
    serial_factory: SerialFactory | None = None,
) -> list[dict[str, Any]]:
    """What answers on the bus at ``port_url`` (JSON-able dicts, by address)."""
    protocol = Protocol(protocol)
    if protocol is Protocol.LEDCHAIN:
        raise UnsupportedOperation("chained LED boards never answer: there is nothing to scan")
    port = _open(port_url, baudrate, serial_factory)
    try:
        if protocol is Protocol.HALLBUS:
            return scan_hallbus(port, addresses, retries)
        return listen_vendor68(port, listen_s)
    finally:
        port.close()
