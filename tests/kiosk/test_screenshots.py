"""The main screens rendered under Xvfb with a CJK font, saved for people to look at.

Runs ``tests/kiosk/screens.py`` in a subprocess on its own Xvfb display (the xcb platform),
so this test process keeps its offscreen platform. PNGs go to ``var/artifacts/kiosk/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "var" / "artifacts" / "kiosk"
SCREENS = ("home", "home-landscape", "elderly", "info", "identify", "take-ticket",
           "fallback", "pin", "admin")  # fmt: skip
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A fresh Xvfb server; its DISPLAY (``:N``, chosen by Xvfb itself)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("needs Xvfb (Debian package xvfb)")
    if not CJK_FONT.exists():
        pytest.skip("needs fonts-wqy-microhei")
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "2000x2000x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        assert number.isdigit(), "Xvfb did not report its display"
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_main_screens_render_under_xvfb(xvfb: str) -> None:
    env = {**os.environ, "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb"}
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    result = subprocess.run(
        [sys.executable, "-m", "tests.kiosk.screens", str(ARTIFACTS)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for name in SCREENS:
        with Image.open(ARTIFACTS / f"{name}.png") as shot:
            grey = shot.convert("L")
            assert shot.size in ((1080, 1920), (1920, 1080)), name
            low, high = grey.getextrema()
            assert high - low > 100, f"{name}.png is blank"
            assert len(grey.getcolors(256) or []) > 8, f"{name}.png has no text"
    with Image.open(ARTIFACTS / "home.png") as home:
        title = home.convert("RGB").crop((0, 0, 1080, 90))
        raw = title.tobytes()
        blue = sum(1 for i in range(0, len(raw), 3) if raw[i + 2] > 120 and raw[i] < 60)
    assert blue > 500, "the hall name (blue Chinese text) is missing from the home screen"
