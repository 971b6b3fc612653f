"""The shipped example halls load, and ``config check`` summarises them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import argon2
import pytest

import config
from config.check import main

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"


def test_county_example_loads_with_its_includes() -> None:
    hall = config.load(EXAMPLES / "county.toml")
    assert hall.hall.name == "云溪县政务服务中心"
    assert len(hall.services) == 42
    assert len(hall.windows) == 24
    assert [w.window_class for w in hall.windows].count("specialist") == 15
    assert hall.windows_by_number[24].services == ["issue"]
    assert hall.services_by_code["biz_setup"].promised_days == 3
    assert hall.services_by_code["estate_transfer"].promised_days == 5
    assert hall.services_by_code["proj_build"].promised_days == 54
    assert len(hall.devices.kiosks) == 2
    assert {k.orientation for k in hall.devices.kiosks} == {"portrait", "landscape"}


def test_county_example_staff_every_window_with_a_and_b_posts() -> None:
    hall = config.load(EXAMPLES / "county.toml")
    for window in hall.windows:
        assert window.posts is not None
        assert window.posts.b, f"window {window.number} has no B post"
    roles = [s.role for s in hall.staff]
    assert roles.count("supervisor") == 2
    assert roles.count("admin") == 1


@pytest.mark.parametrize("number", ["1051", "9001"])
def test_demo_pin_is_the_last_four_digits_of_the_staff_number(number: str) -> None:
    hall = config.load(EXAMPLES / "county.toml")
    pin_hash = hall.staff_by_number[number].pin_hash
    assert argon2.PasswordHasher().verify(pin_hash, number[-4:])


def test_township_example_loads() -> None:
    hall = config.load(EXAMPLES / "township.toml")
    assert [w.name for w in hall.windows] == [
        "农财水牧",
        "社会事务",
        "社会保障",
        "乡村建设",
        "社会治安",
    ]
    assert len(hall.services) == 10
    assert len(hall.devices.kiosks) == 1
    assert len(hall.devices.buses) == 1
    assert argon2.PasswordHasher().verify(hall.staff_by_number["2901"].pin_hash, "2901")


def test_check_prints_a_summary_of_the_county_hall(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EXAMPLES / "county.toml")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines() == [
        "云溪县政务服务中心 (code YXX-ZWZX, time zone Asia/Shanghai)",
        "services: 42 (通办窗口 general: 6, 主题窗口 theme: 9, 专业窗口 specialist: 26, 发证窗口 issue: 1)",
        "windows: 24 (通办窗口 general: 4, 主题窗口 theme: 4, 专业窗口 specialist: 15, 发证窗口 issue: 1; tidal 2)",
        "staff: 51 (staff: 48, supervisor: 2, admin: 1)",
        "devices: 2 kiosks, 3 buses with 73 devices (window_strip: 24, evaluator: 24, keypad: 24, hall_board: 1)",
        "hours: Mon–Fri 08:30–12:00, 14:00–17:30; holidays: cn; last ticket 15 min before closing",
    ]


def test_check_prints_a_summary_of_the_township_centre(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EXAMPLES / "township.toml")]) == 0
    out = capsys.readouterr().out
    assert "青石镇便民服务中心 (code YXX-QSZ, time zone Asia/Shanghai)" in out
    assert "windows: 5 (综合窗口 comprehensive: 5; tidal 0)" in out
    assert "devices: 1 kiosk, 1 bus with 16 devices" in out


def test_check_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "config.check", str(EXAMPLES / "township.toml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=EXAMPLES.parents[1],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("青石镇便民服务中心")
