"""CRC-16/Modbus, table driven.

Parameters (Rocksoft model): width 16, poly 0x8005 (0xA001 reflected), init 0xFFFF,
refin/refout true, xorout 0x0000, check("123456789") = 0x4B37.

On the wire the CRC is sent low byte first: the Modbus request ``01 03 00 00 00 01`` ends
in ``84 0A`` (CRC value 0x0A84).
"""

from __future__ import annotations

from collections.abc import Iterable

_POLY_REFLECTED = 0xA001


def _make_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        crc = index
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc16_modbus(data: Iterable[int], crc: int = 0xFFFF) -> int:
    """Return the CRC-16/Modbus of ``data``; pass ``crc`` to continue a running CRC."""
    table = _TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def crc16_modbus_wire(data: Iterable[int]) -> bytes:
    """Return the CRC-16/Modbus of ``data`` as the two bytes sent on the wire (low first)."""
    return crc16_modbus(data).to_bytes(2, "little")
