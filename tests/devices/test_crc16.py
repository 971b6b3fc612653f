"""CRC-16/Modbus: published vectors and agreement with a bitwise reference."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devices.crc import crc16_modbus, crc16_modbus_wire


def crc16_modbus_bitwise(data: bytes) -> int:
    """Reference CRC-16/Modbus, bit by bit, independent of devices.crc's table."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_modbus_read_holding_register_request() -> None:
    """GIVEN the Modbus request 01 03 00 00 00 01 THEN the wire CRC is 84 0A (low byte first)."""
    assert crc16_modbus_wire(bytes.fromhex("01 03 00 00 00 01")) == bytes.fromhex("84 0A")
    assert crc16_modbus(bytes.fromhex("01 03 00 00 00 01")) == 0x0A84


def test_catalogue_check_value() -> None:
    assert crc16_modbus(b"123456789") == 0x4B37


def test_empty_input_is_init_value() -> None:
    assert crc16_modbus(b"") == 0xFFFF


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_table_matches_bitwise_reference_and_continues(a: bytes, b: bytes) -> None:
    assert crc16_modbus(a + b) == crc16_modbus_bitwise(a + b)
    assert crc16_modbus(b, crc16_modbus(a)) == crc16_modbus(a + b)
