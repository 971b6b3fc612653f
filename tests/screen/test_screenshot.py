"""A real screenshot under Xvfb (xcb, not offscreen), with the CJK font a hall's TV has.

Saved to var/artifacts/screen/hall_screen.png (and hall_screen_offline.png with the banner)
for a person to look at; the test checks the size, that no character on screen lacks a glyph,
and a few pixels: the flashing call, the banner.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6.QtGui")

from PySide6.QtGui import QColor, QImage

from tests.live.server import ROOT

ARTIFACTS = ROOT / "var" / "artifacts" / "screen"


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A fresh X server (1920×1080, 24 bit); its DISPLAY."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (Debian package xvfb)")
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=[write],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 10)
        number = os.read(read, 32).decode().strip() if ready else ""
        if not number:
            pytest.fail("Xvfb did not start within 10 s")
        yield f":{number}"
    finally:
        os.close(read)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_the_hall_screen_renders_chinese_on_a_real_x_display(xvfb: str) -> None:
    shot, offline = ARTIFACTS / "hall_screen.png", ARTIFACTS / "hall_screen_offline.png"
    for path in (shot, offline):
        path.unlink(missing_ok=True)
    env = {**os.environ, "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.screen.shot", "--out", str(shot),
         "--offline-out", str(offline)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["screen"] == [1920, 1080]
    assert report["missing"] == [], f"no glyph in {report['family']} for {report['missing']}"
    assert "WenQuanYi" in report["family"] or "Noto" in report["family"], report

    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1920, 1080)
    hero = QColor(image.pixel(100, 200))
    assert (hero.red(), hero.green(), hero.blue()) == (0xFF, 0xD2, 0x3F), "the call flashes"
    banner = QColor(QImage(str(offline)).pixel(10, 10))
    assert (banner.red(), banner.green(), banner.blue()) == (0xC0, 0x39, 0x2B), "the banner"
