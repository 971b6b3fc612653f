"""End to end: the one-command hall demo, headless (``python -m hallq.halldemo --headless``).

Every part runs as its own process (center, simulated buses, display controller, hall screen
and kiosk on Xvfb, Chromium for the web pages). GIVEN a short scripted hour, THEN the demo
exits 0, its summary matches the database it leaves behind (figures recomputed, and counted
again with plain SQL), every output exists and is not blank, and no process is left behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from center.db.connect import make_engine
from center.db.tables import cases, evaluations, tickets
from center.engine.figures import day_figures
from config import load

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NEEDS = ("Xvfb", "espeak-ng")
DURATION = "20"


def _missing() -> list[str]:
    missing = [tool for tool in NEEDS if shutil.which(tool) is None]
    chromium = os.environ.get("HALLQ_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        missing.append("chromium")
    return missing


def _not_blank(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").resize((64, 64))
        return len(set(small.get_flattened_data())) > 8


def _left_behind(marker: str) -> list[str]:
    """Processes whose command line names ``marker`` (the demo's output folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    missing = _missing()
    if missing:
        pytest.skip(f"the hall demo needs {', '.join(missing)}")
    out = tmp_path_factory.mktemp("halldemo") / "demo"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hallq.halldemo",
            "--out",
            str(out),
            "--duration",
            DURATION,
            "--headless",
            "--windows",
            "6",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return out, done


def _summary(out: Path) -> dict[str, Any]:
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_demo_runs_and_leaves_nothing_running(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = demo
    assert done.returncode == 0, done.stderr[-4000:]
    assert "tickets issued" in done.stdout
    deadline = time.monotonic() + 5
    while _left_behind(str(out)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _left_behind(str(out)) == []


def test_the_summary_matches_the_database(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = demo
    assert done.returncode == 0, done.stderr[-4000:]
    summary = _summary(out)
    script = summary["demo"]["script"]
    day = dt.date.fromisoformat(summary["hall_day"])
    cfg = load(out / "config" / "county.toml")
    engine = make_engine(f"sqlite:///{out / 'hallq.db'}")
    try:
        with engine.connect() as conn:
            fig = day_figures(conn, day, [s.code for s in cfg.services]).as_json()
            issued = conn.execute(
                select(func.count()).select_from(tickets).where(tickets.c.hall_day == day)
            ).scalar_one()
            levels = dict(
                conn.execute(
                    select(evaluations.c.level, func.count())
                    .where(evaluations.c.hall_day == day, evaluations.c.status == "rated")
                    .group_by(evaluations.c.level)
                ).all()
            )
            channels = dict(
                conn.execute(
                    select(evaluations.c.channel, func.count())
                    .where(evaluations.c.hall_day == day, evaluations.c.status == "rated")
                    .group_by(evaluations.c.channel)
                ).all()
            )
            kinds = dict(
                conn.execute(
                    select(cases.c.kind, func.count())
                    .select_from(cases.join(tickets, cases.c.ticket_id == tickets.c.id))
                    .where(tickets.c.hall_day == day)
                    .group_by(cases.c.kind)
                ).all()
            )
    finally:
        engine.dispose()
    assert {k: v for k, v in summary.items() if k != "demo"} == json.loads(json.dumps(fig))
    # what the script did is what the database holds
    assert summary["tickets_issued"] == issued == script["tickets"] > 0
    assert summary["tickets_served"] > 0
    by_level = {int(k): v for k, v in summary["ratings_by_level"].items()}
    assert {k: v for k, v in by_level.items() if v} == levels
    assert channels.get("evaluator", 0) == script["evaluator_ratings"] > 0
    assert channels.get("qr", 0) == script["qr_ratings"] == 1
    assert {k: v for k, v in summary["cases_by_kind"].items() if v} == kinds
    assert sum(kinds.values()) == script["cases"] > 0
    assert script["keypad_presses"] > 0 and script["console_actions"] > 0
    assert script["transfers"] == 1 and script["pauses"] >= 1


def test_every_output_is_there(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, done = demo
    assert done.returncode == 0, done.stderr[-4000:]
    for name in ("kiosk.png", "hall_screen.png", "staff_console.png", "supervisor.png"):
        path = out / name
        assert path.stat().st_size > 0, name
        assert _not_blank(path), f"{name} is blank"
    frames = json.loads((out / "led_frames.json").read_text(encoding="utf-8"))
    assert frames and all(frame["shown"] for frame in frames)
    lines = [
        line for frame in frames for device in frame["shown"].values()
        for line in device.get("strip", []) + device.get("board", [])
    ]  # fmt: skip
    assert any("请到" in line for line in lines), "no call ever reached an LED strip"
    wavs = sorted((out / "voice").glob("*.wav"))
    assert wavs
    assert all(w.read_bytes()[:4] == b"RIFF" and w.stat().st_size > 1000 for w in wavs)
    assert _summary(out)["demo"]["outputs"]["voice"] == [w.name for w in wavs]
