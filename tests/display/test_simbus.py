"""``hallq sim bus``: a hall's buses on ptys, as the display controller opens them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.schema import HallConfig
from devices.bus import DeviceKind, DeviceSpec, Key, open_bus
from devices.bus.model import DeviceState, Protocol
from devices.hallbus.simdevices import SimBoard, SimEvaluator, SimKeypad, SimStrip
from devices.ledchain.sim import SimLedChain
from devices.vendor68.sim import SimV68Bus, SimV68Keypad
from display.simbus import SimHall, build_bus, resolve_port, run_command, sim_path
from tests.display.conftest import bus_devices, display_hall, wait_for

REPO = Path(__file__).resolve().parents[2]


def test_sim_ports_map_to_paths(tmp_path: Path) -> None:
    assert sim_path("sim://bus1", tmp_path, "east") == tmp_path / "bus1"
    assert sim_path("/dev/ttyUSB0", tmp_path, "east") == tmp_path / "east"
    assert resolve_port("sim://bus1", tmp_path) == str(tmp_path / "bus1")
    assert resolve_port("/dev/ttyUSB0", None) == "/dev/ttyUSB0"
    with pytest.raises(ValueError, match="--sim-dir"):
        resolve_port("sim://bus1", None)


def test_every_configured_device_is_simulated(hall_cfg: HallConfig, sim_dir: Path) -> None:
    hall = SimHall(hall_cfg, sim_dir)
    bus = hall.buses["hall"]
    assert (bus.protocol, bus.baud, bus.path) == (Protocol.HALLBUS, 115200, str(sim_dir / "hall"))
    kinds = {a: type(d) for a, d in bus.devices.items()}
    assert kinds[3] is SimStrip and kinds[103] is SimEvaluator and kinds[203] is SimKeypad
    assert kinds[99] is SimBoard
    assert hall.device(DeviceKind.KEYPAD, 2) is bus.devices[202]
    assert hall.device(DeviceKind.HALL_BOARD) is bus.devices[99]
    with pytest.raises(KeyError):
        hall.device(DeviceKind.KEYPAD, 9)


def test_vendor_and_led_chain_buses(sim_dir: Path) -> None:
    cfg = display_hall()
    vendor = cfg.devices.buses[0].model_copy(
        update={"name": "v", "port": "sim://v", "devices": [
            d.model_copy(update={"protocol": "vendor68"}) for d in cfg.devices.buses[0].devices
            if d.kind in ("keypad", "evaluator")
        ]}
    )  # fmt: skip
    assert isinstance(build_bus(vendor, sim_dir).sim, SimV68Bus)
    assert isinstance(build_bus(vendor, sim_dir).devices[201], SimV68Keypad)
    chain = cfg.devices.buses[0].model_copy(
        update={"name": "c", "port": "sim://c", "devices": [
            d.model_copy(update={"protocol": "ledchain"}) for d in cfg.devices.buses[0].devices
            if d.kind in ("window_strip", "hall_board")
        ]}
    )  # fmt: skip
    assert isinstance(build_bus(chain, sim_dir).sim, SimLedChain)


def test_a_bus_mixing_protocols_is_refused_with_its_name(sim_dir: Path) -> None:
    devices = bus_devices()
    devices[-1]["protocol"] = "ledchain"
    cfg = display_hall(devices={"buses": [{"name": "east", "port": "sim://e", "devices": devices}]})
    with pytest.raises(ValueError, match="bus east: one protocol per bus"):
        SimHall(cfg, sim_dir)


def test_a_master_talks_to_the_simulated_bus_by_path(hall_cfg: HallConfig, sim_dir: Path) -> None:
    specs = [DeviceSpec(203, DeviceKind.KEYPAD, 3)]
    with SimHall(hall_cfg, sim_dir) as hall:
        master = open_bus(resolve_port("sim://hall", sim_dir), 115200, specs)
        with master:
            assert wait_for(lambda: master.device_states()[203].state is DeviceState.ONLINE)
            master.keypad_display(203, "A012")
            assert wait_for(lambda: hall.device(DeviceKind.KEYPAD, 3).shown == "A012")
    assert not (sim_dir / "hall").exists()


def test_stdin_commands(
    hall_cfg: HallConfig, sim_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hall = SimHall(hall_cfg, sim_dir)
    assert run_command(hall, "press 2 call_next")
    assert hall.device(DeviceKind.KEYPAD, 2).pending_events == 1
    assert run_command(hall, "rate 3 5")
    assert run_command(hall, "press 2 fly")
    assert run_command(hall, "")
    assert not run_command(hall, "quit")
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0] == {"pressed": "call_next", "window": 2}
    assert out[1] == {"rated": "very_satisfied", "window": 3, "accepted": False}
    assert "error" in out[2]


def test_the_command_prints_its_buses_and_answers(tmp_path: Path) -> None:
    hall = tmp_path / "hall.toml"
    hall.write_text(
        '[hall]\ncode = "t"\nname = "测试中心"\n'
        '[[services]]\ncode = "tax"\nname = "税务"\nprefix = "A"\nwindow_class = "general"\n'
        '[[windows]]\nnumber = 1\nname = "1号窗口"\nwindow_class = "general"\nservices = ["tax"]\n'
        '[[devices.buses]]\nname = "hall"\nport = "sim://hall"\nbaud = 9600\n'
        'devices = [{ address = 1, kind = "window_strip", window = 1 },'
        ' { address = 201, kind = "keypad", window = 1 }]\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "display.simbus", "bus", "--config", str(hall), "--dir", str(tmp_path / "sim")],
        input="press 1 recall\nshow\nquit\n", capture_output=True, text=True, timeout=20, env=env, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0] == {"bus": "hall", "protocol": "hallbus", "baud": 9600, "port": "sim://hall",
                        "path": str(tmp_path / "sim" / "hall"), "devices": 2}  # fmt: skip
    assert lines[1] == {"pressed": "recall", "window": 1}
    assert lines[2] == {"hall": {"1": {"strip": [], "effect": "steady"}, "201": {"keypad": ""}}}
    bad = subprocess.run(
        [sys.executable, "-m", "display.simbus", "bus", "--config", str(tmp_path / "none.toml")],
        capture_output=True, text=True, timeout=20, env=env, cwd=REPO,
    )  # fmt: skip
    assert bad.returncode == 2
    assert Key.RECALL.value == "recall"
