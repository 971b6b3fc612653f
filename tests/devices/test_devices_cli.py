"""``hallq devices decode|scan``, the bus factory and config interop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devices.bus.cli import main
from devices.bus.decode import decode, parse_hex
from devices.bus.factory import bus_from_config, bus_protocol, open_bus
from devices.bus.model import DeviceKind, DeviceSpec, Protocol
from devices.bus.scan import parse_addresses, scan
from devices.hallbus.driver import HallbusMaster
from devices.hallbus.sim import SimBus
from devices.hallbus.simdevices import SimEvaluator, SimKeypad
from devices.ledchain.driver import LedChainMaster
from devices.vendor68.driver import Vendor68Master


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out else None


def test_decode_hallbus_poll_exchange(capsys: pytest.CaptureFixture[str]) -> None:
    code, frames = run(
        capsys, "decode", "--protocol", "hallbus",
        "A5 07 10 02 03 34 12 02 DA 7B", "A5 07 10 82 09 34 12 01 01 03 02 01 02 01 98 DB",
    )  # fmt: skip
    assert code == 0
    assert isinstance(frames, list)
    request, reply = frames
    assert (request["command"], request["direction"], request["fields"]["ack"]) == (
        "poll",
        "request",
        2,
    )
    assert reply["fields"]["event"] == {
        "rating": "very_satisfied",
        "label": "非常满意",
        "invitation": 258,
    }


def test_decode_vendor68_and_ledchain(capsys: pytest.CaptureFixture[str]) -> None:
    code, frames = run(
        capsys,
        "decode",
        "--protocol",
        "vendor68",
        "ff680303680511011716",
        "FF 68 04 04 68 03 01 06 0F 19 16",
    )
    assert code == 0 and isinstance(frames, list)
    assert frames[0]["rating"] == "satisfied" and frames[1]["key"] == "skip"
    code, frames = run(
        capsys, "decode", "--protocol", "ledchain", "01 01 D4 DD CD A3 B7 FE CE F1 07"
    )
    assert frames == [{"raw": "01 01 d4 dd cd a3 b7 fe ce f1 07", "address": 1, "text": "暂停服务"}]


def test_decode_reports_errors_and_bad_hex(capsys: pytest.CaptureFixture[str]) -> None:
    frames = decode(Protocol.HALLBUS, bytes.fromhex("00 A5 07 10 02 03 34 12 02 DA 7C A5 01"))
    assert [f.get("error") for f in frames] == ["no sync", "incomplete frame"]
    assert main(["decode", "--protocol", "hallbus", "zz"]) == 2
    assert parse_hex("0xA5, 0x01:02\n03") == bytes([0xA5, 1, 2, 3])


def test_scan_lists_what_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SimBus(115200, link_path=tmp_path / "bus") as bus:
        bus.add(SimKeypad(3))
        bus.add(SimEvaluator(7))
        found = scan(bus.path, "hallbus", range(1, 10), baudrate=115200, retries=0)
        assert [(f["address"], f["kind"]) for f in found] == [(3, "keypad"), (7, "evaluator")]
        code, listed = run(
            capsys, "scan", "--port", bus.path, "--baud", "115200", "--addresses", "6-8"
        )
        assert code == 0 and isinstance(listed, list) and [f["address"] for f in listed] == [7]
    assert main(["scan", "--port", str(tmp_path / "gone")]) == 1
    assert main(["scan", "--port", "loop://", "--protocol", "ledchain"]) == 1
    assert main(["scan", "--port", "loop://", "--addresses", "0-3"]) == 2


def test_parse_addresses() -> None:
    assert parse_addresses("1-3, 7,2") == [1, 2, 3, 7]
    with pytest.raises(ValueError):
        parse_addresses("200-248")


def test_factory_one_protocol_per_bus() -> None:
    hall = DeviceSpec(1, DeviceKind.KEYPAD)
    vendor = DeviceSpec(2, DeviceKind.KEYPAD, protocol=Protocol.VENDOR68)
    chain = DeviceSpec(3, DeviceKind.WINDOW_STRIP, protocol=Protocol.LEDCHAIN)
    with pytest.raises(ValueError, match="one protocol per bus"):
        bus_protocol([hall, vendor])
    assert isinstance(open_bus("loop://", 9600, [hall]), HallbusMaster)
    assert isinstance(open_bus("loop://", 9600, [vendor], dedupe_s=1.0), Vendor68Master)
    assert isinstance(open_bus("loop://", 9600, [chain]), LedChainMaster)


def test_specs_from_the_config_schema() -> None:
    from config.schema import Bus, BusDevice

    bus = Bus(name="east", port="/dev/ttyUSB0", baud=9600, devices=[
        BusDevice(address=7, kind="evaluator", window=3),
        BusDevice(address=8, kind="hall_board", lines=6),
    ])  # fmt: skip
    master = bus_from_config(bus)
    assert isinstance(master, HallbusMaster)
    assert master.specs[7] == DeviceSpec(7, DeviceKind.EVALUATOR, window=3)
    assert master.specs[8].lines == 6
