"""``hallq screen`` as a program, and the screen package's import boundaries."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from display.screen.app import main
from tests.live.server import ROOT
from tests.screen.conftest import CenterProcess
from tests.test_boundaries import HARDWARE, forbidden_imports, imported_modules

EXAMPLE = ROOT / "config" / "examples" / "township.toml"
PACKAGE = ROOT / "display" / "screen"


def test_a_bad_config_or_token_file_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = tmp_path / "display.tokens"
    tokens.write_text("display hqd_x\n", encoding="utf-8")
    missing = tmp_path / "nope.toml"
    assert (
        main(["--config", str(missing), "--center", "http://x", "--token-file", str(tokens)]) == 2
    )
    assert "nope.toml" in capsys.readouterr().err
    bad = tmp_path / "bad.tokens"
    bad.write_text("keypad x hqd_y\n", encoding="utf-8")
    assert main(["--config", str(EXAMPLE), "--center", "http://x", "--token-file", str(bad)]) == 2
    assert "bad.tokens:1" in capsys.readouterr().err


def wait_for_text(path: Path, text: str, timeout: float) -> bool:
    """Poll ``path`` until it contains ``text`` (bounded)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        pause.wait(0.05)
    return False


def test_the_program_subscribes_shows_and_stops_on_sigterm(
    center: CenterProcess, tmp_path: Path
) -> None:
    pytest.importorskip("PySide6.QtWidgets")
    tokens = tmp_path / "display.tokens"
    tokens.write_text(f"# the hall screen\ndisplay {center.display_token}\n", encoding="utf-8")
    log = tmp_path / "screen.log"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "display.screen.app", "--config", str(EXAMPLE),
             "--center", center.url, "--token-file", str(tokens), "--windowed"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        assert wait_for_text(log, "event stream subscribed", 30), log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert center.display_token not in log.read_text(), "the token is never logged"


def test_the_screen_never_imports_hardware_libraries() -> None:
    assert forbidden_imports(ROOT, ["display/screen"], HARDWARE) == []


def imports_of(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    return {name.split(".")[0] for _, name in imported_modules(tree)}


def test_the_model_is_pure_and_the_screen_reaches_the_center_only_over_the_network() -> None:
    assert not imports_of("model") & {"PySide6", "shiboken6", "httpx", "websockets"}
    for path in PACKAGE.glob("*.py"):
        assert "center" not in imports_of(path.stem), f"{path.name} imports the center"
