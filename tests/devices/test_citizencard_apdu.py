"""Citizen card APDUs and the virtual card, without pcscd (pure bytes)."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from devices.citizencard import apdu
from devices.citizencard.reader import CardIdentity, CitizenCardConfig
from devices.citizencard.vcard import DEFAULT_ATR, CardApplet, VirtualCard

AID = bytes.fromhex("A0000000031010")


def test_apdus_match_published_bytes() -> None:
    # PC/SC part 3 GET DATA (UID); ISO 7816-4 SELECT by name as in EMV examples (Visa AID);
    # READ BINARY of 256 bytes at offset 0.
    assert bytes.fromhex("FF CA 00 00 00") == apdu.GET_UID
    assert apdu.select_aid(AID) == bytes.fromhex("00 A4 04 00 07 A0 00 00 00 03 10 10 00")
    assert apdu.select_file(b"\xef\x05") == bytes.fromhex("00 A4 02 00 02 EF 05")
    assert apdu.read_binary(0, 256) == bytes.fromhex("00 B0 00 00 00")
    assert apdu.read_binary(0x1234, 16) == bytes.fromhex("00 B0 12 34 10")
    assert apdu.get_response(0x1C) == bytes.fromhex("00 C0 00 00 1C")


def test_apdu_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        apdu.select_aid(b"\x01")
    with pytest.raises(ValueError):
        apdu.select_file(b"\x01\x02\x03")
    with pytest.raises(ValueError):
        apdu.read_binary(0x8000, 1)
    with pytest.raises(ValueError):
        apdu.parse_response(b"\x90")


def test_response_status_texts() -> None:
    assert apdu.parse_response(bytes.fromhex("01 02 90 00")).ok
    assert apdu.parse_response(bytes.fromhex("6A 82")).describe() == (
        "SW 6A82 (file or application not found)"
    )
    assert "12 more bytes" in apdu.parse_response(bytes.fromhex("61 0C")).describe()
    assert repr(apdu.parse_response(b"secret\x90\x00")) == (
        "Response(SW 9000 (success), data=6 bytes)"
    )


def test_applet_answers() -> None:
    applet = CardApplet(b"\x04\xa1\xb2\xc3", AID, {b"\xef\x05": bytes(range(40))})
    assert applet.answer(apdu.GET_UID) == bytes.fromhex("04 A1 B2 C3 90 00")
    assert applet.answer(apdu.select_file(b"\xef\x05")) == bytes.fromhex("6A 82")  # app first
    assert applet.answer(apdu.read_binary(0, 4)) == bytes.fromhex("69 86")
    assert applet.answer(apdu.select_aid(AID)) == bytes.fromhex("90 00")
    assert applet.answer(apdu.select_file(b"\xef\x05")) == bytes.fromhex("90 00")
    assert applet.answer(apdu.read_binary(36, 16)) == bytes.fromhex("24 25 26 27 90 00")
    assert applet.answer(apdu.read_binary(41, 1)) == bytes.fromhex("6B 00")
    assert applet.answer(bytes.fromhex("00 20 00 00")) == bytes.fromhex("6D 00")
    assert applet.answer(bytes.fromhex("80 CA 00 00")) == bytes.fromhex("6E 00")


def test_vpcd_messages_over_tcp() -> None:
    """GIVEN a fake vpcd (a TCP server) WHEN the card connects THEN it answers the ATR request
    and an APDU with 2-byte big-endian length framing, and nothing to power controls."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    got: dict[str, bytes] = {}

    def vpcd() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(5)
            conn.sendall(bytes.fromhex("00 01 01"))  # power on: no answer
            conn.sendall(bytes.fromhex("00 01 04"))  # ATR please
            got["atr"] = _read_message(conn)
            conn.sendall(bytes.fromhex("00 05 FF CA 00 00 00"))
            got["uid"] = _read_message(conn)

    thread = threading.Thread(target=vpcd)
    thread.start()
    card = VirtualCard(CardApplet(b"\x0a\x0b\x0c\x0d"), port=port)
    card.insert()
    thread.join(5)
    card.remove()
    server.close()
    assert got == {"atr": DEFAULT_ATR, "uid": bytes.fromhex("0A 0B 0C 0D 90 00")}
    assert card.apdus == 1 and not card.inserted


def _read_message(conn: socket.socket) -> bytes:
    (length,) = struct.unpack(">H", _exact(conn, 2))
    return _exact(conn, length)


def _exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def test_identity_key_and_masking() -> None:
    identity = CardIdentity("04A1B2C3", "3B00", "r", field="11010519491231002X")
    assert identity.key == "uid:04A1B2C3/field:11010519491231002X"
    assert "11010519491231002X" not in repr(identity) + str(identity)
    assert CardIdentity("04", "", "r", file_sha256="ab").key == "uid:04/file:ab"
    with pytest.raises(ValueError):
        CitizenCardConfig(file_id=b"\x01")
