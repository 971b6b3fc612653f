"""Loading a single hall file: syntax errors, schema errors rewritten, all reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from config import ConfigError, Problem
from config.check import main

VALID = """
[hall]
code = "T1"
name = "测试政务服务中心"

[[services]]
code = "tax"
name = "涉税综合业务"
prefix = "A"
window_class = "specialist"

[[windows]]
number = 1
name = "税务"
window_class = "specialist"
services = ["tax"]
"""

MANY_MISTAKES = """
[hall]
code = "县中心"
name = "测试县政务服务中心"
day_boundary = "3点"

[hours]
weekdays = [1, 2, 3, 4, 5, 6, 8]
sessions = [{ start = "9点", end = "12:00" }]
holiday_calendar = "us"

[[services]]
code = "tax"
name = "税务"
prefx = "A"
window_class = "specialist"
daily_max = 0

[[services]]
code = "pension"
name = ""
prefix = "a"
window_class = "specialist"
appointments = "yes please"
expected_minutes = "ten"

[[windows]]
number = 0
name = "一号窗口"
window_class = "specialist"
services = []
selection = "fifo"

[[staff]]
number = "1"
name = "王芳"
pin_hash = "1234"
role = "boss"

[devices]
kiosk = []

[[devices.buses]]
name = "east"
port = "sim://bus1"
baud = 9601
devices = [{ address = 300, kind = "led" }]

[colour]
x = 1
"""

SERVICE_KEYS = (
    "code, name, prefix, window_class, department, item_type, number_digits, daily_max, "
    "daily_warning, appointments, id_required, per_person_daily, green_channel, "
    "expected_minutes, promised_days, statutory_days, case_kinds, info"
)
TOP_KEYS = (
    "hall, hours, window_classes, case_kinds, services, windows, staff, priority, "
    "evaluation, devices, voice, security, include"
)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    return [str(p) for p in caught.value.problems]


def test_a_valid_file_loads_with_defaults(tmp_path: Path) -> None:
    hall = config.load(write(tmp_path, "hall.toml", VALID))
    assert hall.hall.code == "T1"
    assert hall.hours.sessions[0].start.isoformat() == "09:00:00"
    assert hall.services_by_code["tax"].prefix == "A"


def test_load_accepts_a_string_path(tmp_path: Path) -> None:
    path = write(tmp_path, "hall.toml", VALID)
    assert config.load(str(path)).hall.name == "测试政务服务中心"


def test_every_mistake_is_reported_at_once_with_file_key_and_message(tmp_path: Path) -> None:
    """GIVEN a file with 23 mistakes WHEN loaded THEN all 23 are reported, in readable words."""
    assert problems_of(write(tmp_path, "county.toml", MANY_MISTAKES)) == [
        'county.toml: hall.code: expected a code of 1 to 24 letters, digits, "_" or "-", got "县中心"',
        'county.toml: hall.day_boundary: expected a time like 09:00, got "3点"',
        "county.toml: hours.weekdays[6]: must be at most 7, got 8",
        'county.toml: hours.sessions[0].start: expected a time like 09:00, got "9点"',
        'county.toml: hours.holiday_calendar: expected "cn" or "none", got "us"',
        'county.toml: services[0]: missing required key "prefix"',
        "county.toml: services[0].daily_max: must be at least 1, got 0",
        f'county.toml: services[0].prefx: unknown key "prefx", did you mean "prefix"? (allowed: {SERVICE_KEYS})',
        "county.toml: services[1].name: must not be empty",
        'county.toml: services[1].prefix: expected 1 or 2 capital letters, like "A" or "AB", got "a"',
        'county.toml: services[1].appointments: expected true or false, got "yes please"',
        'county.toml: services[1].expected_minutes: expected a number, got "ten"',
        "county.toml: windows[0].number: must be at least 1, got 0",
        "county.toml: windows[0].services: must have at least 1 item, got 0",
        'county.toml: windows[0].selection: expected "precedence" or "oldest", got "fifo"',
        'county.toml: staff[0].number: expected a staff number of 2 to 16 letters or digits, got "1"',
        'county.toml: staff[0].role: expected "staff", "supervisor" or "admin", got "boss"',
        'county.toml: staff[0].pin_hash: expected an argon2 hash starting with "$argon2id$" (see docs/config.md)',
        "county.toml: devices.buses[0].baud: expected 1200, 2400, 4800, 9600, 19200, 38400, 57600 or 115200, got 9601",
        "county.toml: devices.buses[0].devices[0].address: must be at most 247, got 300",
        'county.toml: devices.buses[0].devices[0].kind: expected "window_strip", "hall_board", "evaluator" or "keypad", got "led"',
        'county.toml: devices.kiosk: unknown key "kiosk", did you mean "kiosks"? (allowed: kiosks, buses)',
        f'county.toml: colour: unknown key "colour" (allowed: {TOP_KEYS})',
    ]


def test_config_error_message_lists_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "hall.toml", VALID.replace('prefix = "A"', 'prefix = "1"'))
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert caught.value.problems == [
        Problem(
            "hall.toml",
            "services[0].prefix",
            'expected 1 or 2 capital letters, like "A" or "AB", got "1"',
        )
    ]
    assert str(caught.value) == str(caught.value.problems[0])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("appointments = 1.5", "services[0].appointments: expected true or false, got 1.5"),
        ("number_digits = 2.5", "services[0].number_digits: expected a whole number, got 2.5"),
        ("number_digits = 9", "services[0].number_digits: must be at most 4, got 9"),
        ("expected_minutes = 0", "services[0].expected_minutes: must be greater than 0, got 0"),
        ("department = 12", "services[0].department: expected text in quotes, got 12"),
        ('case_kinds = "immediate"', 'services[0].case_kinds: expected a list, got "immediate"'),
        ('info = "see the guide"', 'services[0].info: expected a table, got "see the guide"'),
        ('info = { materials = [""] }', "services[0].info.materials[0]: must not be empty"),
        (
            "info = { fees = '" + "元" * 4001 + "' }",
            "services[0].info.fees: must be at most 4000 characters long, got 4001",
        ),
    ],
)
def test_bad_types_and_ranges_say_what_was_expected(
    tmp_path: Path, line: str, expected: str
) -> None:
    text = VALID.replace(
        'window_class = "specialist"\n', f'window_class = "specialist"\n{line}\n', 1
    )
    assert problems_of(write(tmp_path, "hall.toml", text)) == [f"hall.toml: {expected}"]


def test_times_must_be_clock_times_not_numbers(tmp_path: Path) -> None:
    text = (
        VALID
        + '\n[hours]\nsessions = [{ start = 900, end = "17:00" }, { start = "13:00:00", end = 17:30:00 }]\n'
    )
    assert problems_of(write(tmp_path, "hall.toml", text)) == [
        "hall.toml: hours.sessions[0].start: expected a time like 09:00, got 900",
    ]


def test_dates_and_priority_class_names(tmp_path: Path) -> None:
    text = VALID + (
        '\n[hours]\nclosed_days = [2026-10-09, "2026-13-01"]\n'
        '\n[priority.classes."老人"]\nname = "老年人"\nhead_start_minutes = 20\n'
    )
    assert problems_of(write(tmp_path, "hall.toml", text)) == [
        'hall.toml: hours.closed_days[1]: expected a date like 2026-10-01, got "2026-13-01"',
        'hall.toml: priority.classes."老人": invalid name: expected a code of 1 to 24 letters, digits, "_" or "-", got "老人"',
    ]


def test_unknown_keys_at_every_level_are_errors(tmp_path: Path) -> None:
    text = VALID.replace('name = "税务"\n', 'name = "税务"\nnumbr = 2\n') + (
        '\n[hall_info]\nphone = "12345"\n\n[priority.classes.elderly]\nname = "老年人"\nhead_start = 20\n'
    )
    assert problems_of(write(tmp_path, "hall.toml", text)) == [
        'hall.toml: windows[0].numbr: unknown key "numbr", did you mean "number"? '
        "(allowed: number, name, window_class, services, selection, posts, tidal)",
        'hall.toml: priority.classes.elderly: missing required key "head_start_minutes"',
        'hall.toml: priority.classes.elderly.head_start: unknown key "head_start", '
        'did you mean "head_start_minutes"? (allowed: name, head_start_minutes, kiosk)',
        'hall.toml: hall_info: unknown key "hall_info", did you mean "hall"? '
        f"(allowed: {TOP_KEYS})",
    ]


def test_missing_required_sections(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "hall.toml", '[hall]\ncode = "T1"\n')) == [
        'hall.toml: hall: missing required key "name"',
        'hall.toml: missing required key "services"',
        'hall.toml: missing required key "windows"',
    ]


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    text = '[hall]\ncode = "T1"\nname = 测试\n'
    assert problems_of(write(tmp_path, "hall.toml", text)) == [
        "hall.toml: TOML syntax error at line 3, column 8: Invalid value",
    ]


def test_toml_syntax_error_at_end_of_file(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "hall.toml", '[hall]\nname = "unterminated')) == [
        "hall.toml: TOML syntax error at end of file: Unterminated string",
    ]


def test_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nowhere.toml") == ["nowhere.toml: file not found"]
    path = tmp_path / "gbk.toml"
    path.write_bytes('[hall]\nname = "测试"\n'.encode("gbk"))
    assert problems_of(path) == ["gbk.toml: not UTF-8 text (byte 15)"]


def test_cross_checks_run_after_the_schema_passes(tmp_path: Path) -> None:
    text = VALID.replace('services = ["tax"]', 'services = ["tax", "X9"]')
    assert problems_of(write(tmp_path, "county.toml", text)) == [
        'county.toml: windows[0].services[1]: unknown service "X9"',
    ]


def test_cross_checks_wait_for_a_clean_schema(tmp_path: Path) -> None:
    """GIVEN a schema error and a bad reference THEN only the schema error is reported."""
    text = VALID.replace('services = ["tax"]', 'services = ["X9"]\ntidal = "nope"')
    assert problems_of(write(tmp_path, "hall.toml", text)) == [
        'hall.toml: windows[0].tidal: expected true or false, got "nope"',
    ]


def test_check_prints_every_problem_to_stderr_and_returns_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "county.toml", MANY_MISTAKES)
    assert main([str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 23
    assert lines[0].startswith("county.toml: hall.code: expected a code")
    assert (
        'county.toml: windows[0].selection: expected "precedence" or "oldest", got "fifo"' in lines
    )


def test_check_without_a_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: hallq config check" in capsys.readouterr().err
