"""Includes: merging, provenance of every problem, cycles, missing files, conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from config import ConfigError

ROOT = """
include = ["services/tax.toml", "staff.toml"]

[hall]
code = "T1"
name = "测试政务服务中心"

[hours]
sessions = [{ start = "08:30", end = "12:00" }]

[[services]]
code = "hukou"
name = "户口迁移"
prefix = "A"
window_class = "specialist"

[[windows]]
number = 1
name = "公安户政"
window_class = "specialist"
services = ["hukou"]
posts = { a = "1011" }

[[windows]]
number = 2
name = "税务"
window_class = "specialist"
services = ["tax", "invoice"]
"""

TAX = """
[[services]]
code = "tax"
name = "涉税综合业务"
prefix = "B"
window_class = "specialist"

[[services]]
code = "invoice"
name = "发票领用"
prefix = "C"
window_class = "specialist"
"""

STAFF = """
[hours]
last_ticket_minutes = 15

[[staff]]
number = "1011"
name = "王芳"
pin_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def hall_files(directory: Path, root: str = ROOT, tax: str = TAX, staff: str = STAFF) -> Path:
    write(directory, "services/tax.toml", tax)
    write(directory, "staff.toml", staff)
    return write(directory, "county.toml", root)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    return [str(p) for p in caught.value.problems]


def test_lists_are_appended_in_order_and_tables_merged(tmp_path: Path) -> None:
    hall = config.load(hall_files(tmp_path))
    assert [s.code for s in hall.services] == ["hukou", "tax", "invoice"]
    assert [s.number for s in hall.staff] == ["1011"]
    assert hall.hours.sessions[0].start.isoformat() == "08:30:00"
    assert hall.hours.last_ticket_minutes == 15


def test_kiosks_buses_and_calendar_days_are_appended_too(tmp_path: Path) -> None:
    devices = """
[hours]
closed_days = [2026-10-09]
[[devices.kiosks]]
name = "lobby"
[[devices.buses]]
name = "west"
port = "sim://bus2"
"""
    root = ROOT.replace('"staff.toml"]', '"staff.toml", "devices.toml"]')
    root = root.replace("[hours]\n", "[hours]\nclosed_days = [2026-10-08]\n")
    root += '\n[[devices.kiosks]]\nname = "entrance"\n'
    root += '\n[[devices.buses]]\nname = "east"\nport = "sim://bus1"\n'
    write(tmp_path, "devices.toml", devices)
    hall = config.load(hall_files(tmp_path, root=root))
    assert [k.name for k in hall.devices.kiosks] == ["entrance", "lobby"]
    assert [b.name for b in hall.devices.buses] == ["east", "west"]
    assert [d.isoformat() for d in hall.hours.closed_days] == ["2026-10-08", "2026-10-09"]


def test_schema_problem_names_the_included_file_and_its_own_index(tmp_path: Path) -> None:
    """GIVEN the second service of services/tax.toml is wrong (third in the merged hall)."""
    tax = TAX.replace('prefix = "C"', 'prefix = "CCC"')
    assert problems_of(hall_files(tmp_path, tax=tax)) == [
        'services/tax.toml: services[1].prefix: expected 1 or 2 capital letters, like "A" or "AB", got "CCC"',
    ]


def test_unknown_key_in_an_included_table_names_that_file(tmp_path: Path) -> None:
    staff = STAFF.replace("last_ticket_minutes", "last_ticket")
    assert problems_of(hall_files(tmp_path, staff=staff)) == [
        'staff.toml: hours.last_ticket: unknown key "last_ticket", did you mean "last_ticket_minutes"? '
        "(allowed: weekdays, sessions, last_ticket_minutes, holiday_calendar, closed_days, "
        "open_days, calendar_years)",
    ]


def test_cross_check_problems_name_the_file_of_each_side(tmp_path: Path) -> None:
    tax = TAX.replace('prefix = "C"', 'prefix = "A"')
    root = ROOT.replace('services = ["tax", "invoice"]', 'services = ["tax", "invoice", "X9"]')
    root = root.replace('posts = { a = "1011" }', 'posts = { a = "1011", b = ["1099"] }')
    assert problems_of(hall_files(tmp_path, root=root, tax=tax)) == [
        'services/tax.toml: services[1].prefix: ticket prefix "A" is already used by service "hukou" '
        "(county.toml: services[0].prefix)",
        'county.toml: windows[1].services[2]: unknown service "X9"',
        'county.toml: windows[0].posts.b[0]: unknown staff number "1099"',
    ]


def test_nested_include_is_relative_to_the_including_file(tmp_path: Path) -> None:
    tax = 'include = ["invoice.toml"]\n' + TAX.split('[[services]]\ncode = "invoice"')[0]
    invoice = '[[services]]\ncode = "invoice"\nname = "发票领用"\nprefix = "C"\nwindow_class = "nowhere"\n'
    write(tmp_path, "services/invoice.toml", invoice)
    assert problems_of(hall_files(tmp_path, tax=tax)) == [
        'services/invoice.toml: services[0].window_class: unknown window class "nowhere" '
        "(allowed: general, theme, specialist, undifferentiated, comprehensive, issue)",
    ]


def test_include_cycle_is_a_problem(tmp_path: Path) -> None:
    staff = 'include = ["services/tax.toml"]\n' + STAFF
    tax = 'include = ["../county.toml"]\n' + TAX
    assert problems_of(hall_files(tmp_path, tax=tax, staff=staff)) == [
        "services/tax.toml: include[0]: include cycle: county.toml -> services/tax.toml -> county.toml",
        'staff.toml: include[0]: "services/tax.toml" is already included by county.toml',
    ]


def test_a_file_including_itself_is_a_cycle(tmp_path: Path) -> None:
    root = ROOT.replace(
        'include = ["services/tax.toml", "staff.toml"]', 'include = ["county.toml"]'
    )
    assert problems_of(write(tmp_path, "county.toml", root)) == [
        "county.toml: include[0]: include cycle: county.toml -> county.toml",
    ]


def test_missing_include_is_a_problem_and_stops_before_the_schema(tmp_path: Path) -> None:
    root = ROOT.replace('"staff.toml"]', '"staff.toml", "services/police.toml"]')
    assert problems_of(hall_files(tmp_path, root=root)) == [
        'county.toml: include[2]: cannot include "services/police.toml": file not found',
    ]


def test_include_must_be_a_list_of_file_names(tmp_path: Path) -> None:
    staff = "include = 3\n" + STAFF
    root = ROOT.replace('"staff.toml"]', '"staff.toml", 7]')
    assert problems_of(hall_files(tmp_path, root=root, staff=staff)) == [
        "county.toml: include[2]: expected a file name, got 7",
        'staff.toml: include: expected a list of file names, like include = ["services.toml"]',
    ]


def test_a_scalar_set_in_two_files_names_both(tmp_path: Path) -> None:
    staff = (
        STAFF.replace("[hours]\n", '[hours]\nholiday_calendar = "none"\n')
        + '\n[hall]\nname = "另一个中心"\n'
    )
    root = ROOT.replace("[hours]\n", '[hours]\nholiday_calendar = "cn"\n')
    assert problems_of(hall_files(tmp_path, root=root, staff=staff)) == [
        "staff.toml: hours.holiday_calendar: already set in county.toml (a value may be set in one file only)",
        "staff.toml: hall.name: already set in county.toml (a value may be set in one file only)",
    ]


def test_lists_other_than_the_appended_ones_conflict(tmp_path: Path) -> None:
    staff = STAFF.replace("[hours]\n", '[hours]\nsessions = [{ start = "14:00", end = "17:00" }]\n')
    assert problems_of(hall_files(tmp_path, staff=staff)) == [
        "staff.toml: hours.sessions: already set in county.toml (a value may be set in one file only)",
    ]


def test_a_table_and_a_value_of_the_same_name_conflict(tmp_path: Path) -> None:
    tax = 'hours = "all day"\n' + TAX
    assert problems_of(hall_files(tmp_path, tax=tax)) == [
        "services/tax.toml: hours: already set in county.toml (a value may be set in one file only)",
    ]


def test_syntax_errors_in_several_files_are_all_reported(tmp_path: Path) -> None:
    tax = TAX.replace('prefix = "B"', "prefix = B")
    staff = STAFF.replace("[hours]", "[hours")
    assert problems_of(hall_files(tmp_path, tax=tax, staff=staff)) == [
        "services/tax.toml: TOML syntax error at line 5, column 10: Invalid value",
        "staff.toml: TOML syntax error at line 2, column 7: Expected ']' at the end of a table declaration",
    ]
