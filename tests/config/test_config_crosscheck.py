"""Cross-reference checks: each one, with its exact key path and message."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import config
from config.schema import HallConfig
from config.validate import cross_check

PIN = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"

BASE: dict[str, Any] = {
    "hall": {"code": "T1", "name": "测试政务服务中心"},
    "services": [
        {"code": "hukou", "name": "户口迁移", "prefix": "A", "window_class": "specialist"},
        {"code": "tax", "name": "涉税综合业务", "prefix": "B", "window_class": "specialist"},
    ],
    "windows": [
        {
            "number": 1,
            "name": "公安户政",
            "window_class": "specialist",
            "services": ["hukou"],
            "posts": {"a": "1011", "b": ["1012"]},
        },
        {"number": 2, "name": "税务", "window_class": "specialist", "services": ["tax"]},
    ],
    "staff": [
        {"number": "1011", "name": "王芳", "pin_hash": PIN},
        {"number": "1012", "name": "李强", "pin_hash": PIN},
    ],
    "devices": {
        "kiosks": [{"name": "entrance", "services": ["hukou", "tax"]}],
        "buses": [
            {
                "name": "east",
                "port": "sim://bus1",
                "devices": [
                    {"address": 1, "kind": "window_strip", "window": 1},
                    {"address": 101, "kind": "evaluator", "window": 1},
                    {"address": 99, "kind": "hall_board"},
                ],
            }
        ],
    },
}


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def problems(cfg: dict[str, Any]) -> list[str]:
    return [str(p) for p in cross_check(cfg)]


def test_the_base_hall_is_clean() -> None:
    assert problems(base()) == []
    assert cross_check(HallConfig.model_validate(base())) == []


def test_a_mapping_that_fails_the_schema_raises() -> None:
    cfg = base()
    del cfg["hall"]
    with pytest.raises(ValidationError):
        cross_check(cfg)


def test_duplicate_service_codes() -> None:
    cfg = base()
    cfg["services"].append(
        {"code": "hukou", "name": "户口", "prefix": "C", "window_class": "specialist"}
    )
    assert problems(cfg) == [
        '<config>: services[2].code: duplicate service code "hukou" (first at services[0].code)',
    ]


def test_duplicate_ticket_prefixes() -> None:
    cfg = base()
    cfg["services"][1]["prefix"] = "A"
    assert problems(cfg) == [
        '<config>: services[1].prefix: ticket prefix "A" is already used by service "hukou" (services[0].prefix)',
    ]


def test_duplicate_window_numbers() -> None:
    cfg = base()
    cfg["windows"][1]["number"] = 1
    assert problems(cfg) == [
        "<config>: windows[1].number: duplicate window number 1 (first at windows[0].number)",
    ]


def test_window_names_an_unknown_service_or_one_twice() -> None:
    cfg = base()
    cfg["windows"][1]["services"] = ["tax", "X9", "tax"]
    assert problems(cfg) == [
        '<config>: windows[1].services[1]: unknown service "X9"',
        '<config>: windows[1].services[2]: service "tax" is listed twice (first at windows[1].services[0])',
    ]


def test_unknown_window_class_on_a_service_and_a_window() -> None:
    cfg = base()
    cfg["window_classes"] = {"specialist": "专业窗口", "general": "通办窗口"}
    cfg["services"][0]["window_class"] = "theme"
    cfg["windows"][1]["window_class"] = "tidal"
    assert problems(cfg) == [
        '<config>: services[0].window_class: unknown window class "theme" (allowed: specialist, general)',
        '<config>: windows[1].window_class: unknown window class "tidal" (allowed: specialist, general)',
    ]


def test_posts_naming_unknown_staff() -> None:
    cfg = base()
    cfg["windows"][0]["posts"] = {"a": "1099", "b": ["1012", "1098"]}
    assert problems(cfg) == [
        '<config>: windows[0].posts.a: unknown staff number "1099"',
        '<config>: windows[0].posts.b[1]: unknown staff number "1098"',
    ]


def test_a_post_backing_itself_up() -> None:
    cfg = base()
    cfg["windows"][0]["posts"] = {"a": "1011", "b": ["1011"]}
    assert problems(cfg) == [
        '<config>: windows[0].posts.b[0]: "1011" is already the A post of this window',
    ]


def test_the_same_staff_as_a_post_of_two_windows() -> None:
    cfg = base()
    cfg["windows"][1]["posts"] = {"a": "1011"}
    assert problems(cfg) == [
        '<config>: windows[1].posts.a: "1011" is already the A post of window 1 (windows[0].posts.a)',
    ]


def test_duplicate_staff_numbers() -> None:
    cfg = base()
    cfg["staff"].append({"number": "1011", "name": "张伟", "pin_hash": PIN})
    assert problems(cfg) == [
        '<config>: staff[2].number: duplicate staff number "1011" (first at staff[0].number)',
    ]


def test_daily_warning_above_daily_max() -> None:
    cfg = base()
    cfg["services"][1].update(daily_max=100, daily_warning=120)
    assert problems(cfg) == [
        "<config>: services[1].daily_warning: must not exceed daily_max (100), got 120",
    ]


def test_daily_warning_equal_to_daily_max_is_fine() -> None:
    cfg = base()
    cfg["services"][1].update(daily_max=100, daily_warning=100)
    assert problems(cfg) == []


@pytest.mark.parametrize(
    ("sessions", "expected"),
    [
        (
            [("09:00", "08:00")],
            "hours.sessions[0].end: must be after start (09:00), got 08:00",
        ),
        (
            [("09:00", "12:00"), ("11:30", "17:00")],
            "hours.sessions[1].start: overlaps the previous session, which ends at 12:00",
        ),
        (
            [("13:30", "17:00"), ("09:00", "12:00")],
            "hours.sessions[1].start: sessions must be in time order: starts before the previous session (13:30)",
        ),
    ],
)
def test_sessions_in_order_without_overlap(sessions: list[tuple[str, str]], expected: str) -> None:
    cfg = base()
    cfg["hours"] = {"sessions": [{"start": s, "end": e} for s, e in sessions]}
    assert problems(cfg) == [f"<config>: {expected}"]


def test_back_to_back_sessions_are_fine() -> None:
    cfg = base()
    cfg["hours"] = {
        "sessions": [{"start": "09:00", "end": "12:00"}, {"start": "12:00", "end": "17:00"}]
    }
    assert problems(cfg) == []


def test_a_service_no_window_serves() -> None:
    cfg = base()
    cfg["windows"][1]["services"] = ["hukou"]
    assert problems(cfg) == [
        '<config>: services[1]: no window serves "tax": its tickets could never be called',
    ]


def test_unknown_case_kinds() -> None:
    cfg = base()
    cfg["case_kinds"] = {"immediate": "即办件", "promised": "承诺件"}
    cfg["services"][0]["case_kinds"] = ["immediate", "joint"]
    assert problems(cfg) == [
        '<config>: services[0].case_kinds[1]: unknown case kind "joint" (allowed: immediate, promised)',
    ]


def test_kiosk_services_and_names() -> None:
    cfg = base()
    cfg["devices"]["kiosks"][0]["services"] = ["hukou", "passport"]
    cfg["devices"]["kiosks"].append({"name": "entrance", "orientation": "landscape"})
    assert problems(cfg) == [
        '<config>: devices.kiosks[1].name: duplicate kiosk name "entrance" (first at devices.kiosks[0].name)',
        '<config>: devices.kiosks[0].services[1]: unknown service "passport"',
    ]


def test_bus_device_addresses_windows_and_names() -> None:
    cfg = base()
    devices = cfg["devices"]["buses"][0]["devices"]
    devices += [
        {"address": 101, "kind": "keypad", "window": 2},
        {"address": 201, "kind": "keypad"},
        {"address": 3, "kind": "window_strip", "window": 31},
    ]
    cfg["devices"]["buses"].append({"name": "east", "port": "sim://bus1"})
    assert problems(cfg) == [
        '<config>: devices.buses[1].name: duplicate bus name "east" (first at devices.buses[0].name)',
        '<config>: devices.buses[1].port: duplicate bus port "sim://bus1" (first at devices.buses[0].port)',
        "<config>: devices.buses[0].devices[3].address: duplicate address 101 "
        "(first at devices.buses[0].devices[1].address)",
        '<config>: devices.buses[0].devices[4]: missing required key "window" (every keypad belongs to a window)',
        "<config>: devices.buses[0].devices[5].window: unknown window 31",
    ]


def test_the_same_address_on_two_buses_is_fine() -> None:
    cfg = base()
    cfg["devices"]["buses"].append(
        {
            "name": "west",
            "port": "sim://bus2",
            "devices": [{"address": 1, "kind": "window_strip", "window": 2}],
        }
    )
    assert problems(cfg) == []


def test_a_day_both_closed_and_open() -> None:
    cfg = base()
    cfg["hours"] = {
        "closed_days": ["2026-10-08", "2026-10-09"],
        "open_days": ["2026-10-10", "2026-10-09"],
    }
    assert problems(cfg) == [
        "<config>: hours.open_days[1]: 2026-10-09 is also a closed day (hours.closed_days[1])",
    ]


@pytest.mark.parametrize("zone", ["Asia/Beijing", "Asia", "../etc/passwd", "", "UTC+8"])
def test_time_zone_must_be_a_zoneinfo_name(zone: str) -> None:
    cfg = base()
    cfg["hall"]["timezone"] = zone
    assert problems(cfg) == [
        f'<config>: hall.timezone: unknown time zone "{zone}" (expected a name like "Asia/Shanghai")',
    ]


def test_every_cross_reference_problem_is_reported_at_once() -> None:
    cfg = base()
    cfg["hall"]["timezone"] = "Beijing"
    cfg["services"][1]["prefix"] = "A"
    cfg["windows"][1]["services"] = ["tax", "X9"]
    cfg["staff"][1]["number"] = "1011"
    cfg["devices"]["kiosks"][0]["services"] = ["X8"]
    assert problems(cfg) == [
        '<config>: hall.timezone: unknown time zone "Beijing" (expected a name like "Asia/Shanghai")',
        '<config>: services[1].prefix: ticket prefix "A" is already used by service "hukou" (services[0].prefix)',
        '<config>: windows[1].services[1]: unknown service "X9"',
        '<config>: staff[1].number: duplicate staff number "1011" (first at staff[0].number)',
        '<config>: windows[0].posts.b[0]: unknown staff number "1012"',
        '<config>: devices.kiosks[0].services[0]: unknown service "X8"',
    ]


def test_device_problems_name_the_included_devices_file(tmp_path: Path) -> None:
    (tmp_path / "devices.toml").write_text(
        '[[devices.buses]]\nname = "west"\nport = "sim://bus2"\n'
        'devices = [{ address = 5, kind = "evaluator", window = 1 }, { address = 6, kind = "evaluator", window = 7 }]\n',
        encoding="utf-8",
    )
    (tmp_path / "hall.toml").write_text(
        'include = ["devices.toml"]\n[hall]\ncode = "T1"\nname = "测试"\n'
        '[[services]]\ncode = "tax"\nname = "税务"\nprefix = "A"\nwindow_class = "specialist"\n'
        '[[windows]]\nnumber = 1\nname = "税务"\nwindow_class = "specialist"\nservices = ["tax"]\n'
        '[[devices.buses]]\nname = "west"\nport = "sim://bus1"\n',
        encoding="utf-8",
    )
    with pytest.raises(config.ConfigError) as caught:
        config.load(tmp_path / "hall.toml")
    assert [str(p) for p in caught.value.problems] == [
        'devices.toml: devices.buses[0].name: duplicate bus name "west" (first at hall.toml: devices.buses[0].name)',
        "devices.toml: devices.buses[0].devices[1].window: unknown window 7",
    ]


def test_one_protocol_per_bus(tmp_path: Path) -> None:
    text = """
[hall]
code = "t"
name = "测试"
[[services]]
code = "a"
name = "业务"
prefix = "A"
window_class = "general"
[[windows]]
number = 1
name = "1号"
window_class = "general"
services = ["a"]
[[devices.buses]]
name = "b"
port = "sim://b"
devices = [
    { address = 1, kind = "window_strip", window = 1 },
    { address = 99, kind = "hall_board", protocol = "ledchain" },
]
"""
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert [str(p) for p in err.value.problems] == [
        'hall.toml: devices.buses[0].devices[1].protocol: "ledchain" on a bus whose first device '
        'speaks "hallbus": one protocol per bus, put this device on a bus of its own'
    ]
