"""``hallq display``: what it refuses before starting, and how it is wired."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.client.stream import EventStream
from display.announcer import Announcer
from display.cli import DisplaySetup, build_announcer, build_controller, main
from display.reports import DeviceTokens, OutboxReports
from tests.display.conftest import display_hall

REPO = Path(__file__).resolve().parents[2]


def test_a_missing_token_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", str(REPO / "config/examples/township.toml"), "--center", "http://x",
            "--token-file", str(tmp_path / "none")]  # fmt: skip
    assert main(argv) == 2
    assert "none" in capsys.readouterr().err


def test_a_bus_mixing_protocols_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("hqd_x\n")
    hall = tmp_path / "mixed.toml"
    hall.write_text(
        "[hall]\ncode = 't'\nname = '测试'\n"
        "[[services]]\ncode = 'a'\nname = '业务'\nprefix = 'A'\nwindow_class = 'general'\n"
        "[[windows]]\nnumber = 1\nname = '1号'\nwindow_class = 'general'\nservices = ['a']\n"
        "[[devices.buses]]\nname = 'east'\nport = 'sim://b'\ndevices = [\n"
        "  { address = 1, kind = 'window_strip', window = 1 },\n"
        "  { address = 99, kind = 'hall_board', protocol = 'ledchain' },\n]\n",
        encoding="utf-8",
    )
    argv = ["--config", str(hall), "--center", "http://x",
            "--token-file", str(tokens), "--state-dir", str(tmp_path / "s")]  # fmt: skip
    assert main(argv) == 2
    assert "devices.buses[0].devices[1].protocol" in capsys.readouterr().err


def test_the_controller_is_wired_to_the_center(tmp_path: Path) -> None:
    cfg = display_hall()
    setup = DisplaySetup(cfg, "http://center:8000", DeviceTokens("hqd_d"), tmp_path, tmp_path / "sim",
                         tmp_path / "voice")  # fmt: skip
    controller = build_controller(setup)
    assert isinstance(controller.source, EventStream)
    assert controller.source.url == "ws://center:8000/api/v1/events/stream"
    assert controller.source.kinds == ["ticket.", "window.", "evaluation."]
    assert isinstance(controller.reports, OutboxReports)
    assert set(controller.buses) == {"hall"}
    assert controller.options.invite_timeout_s == cfg.evaluation.invite_timeout_seconds


def test_voice_follows_the_hall_file(tmp_path: Path) -> None:
    assert build_announcer(display_hall(voice={"enabled": False}), None) is None
    announcer = build_announcer(
        display_hall(voice={"template": "{number}号请到{window}号", "repeat": 1}), tmp_path
    )
    if announcer is not None:  # None where espeak-ng is missing
        assert isinstance(announcer, Announcer)
        assert announcer.builder.text("A1", 2) == "A一号请到二号"
        assert announcer.builder.repeat == 1
