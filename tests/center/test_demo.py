"""The scripted hall day runs end to end and its summary matches the database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from center.demo import main
from hallq.cli import main as hallq

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "examples" / "county.toml"


@pytest.mark.slow
def test_demo_day_summary_matches_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(EXAMPLE), "--out", str(tmp_path), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    db = sqlite3.connect(tmp_path / "hallq.db")
    states = dict(db.execute("SELECT state, count(*) FROM tickets GROUP BY state").fetchall())
    assert summary["tickets_issued"] == sum(states.values()) > 300
    assert summary["tickets_served"] == states["done"]
    assert set(states) <= {"done", "no_show"}, "the day ended with citizens still waiting"
    kinds = dict(db.execute("SELECT kind, count(*) FROM cases GROUP BY kind").fetchall())
    assert summary["cases_by_kind"] == kinds
    rated = dict(
        db.execute(
            "SELECT level, count(*) FROM evaluations WHERE status='rated' GROUP BY level"
        ).fetchall()
    )
    assert {int(k): v for k, v in summary["ratings_by_level"].items() if v} == rated
    assert summary["events_logged"] == db.execute("SELECT count(*) FROM events").fetchone()[0]
    # The day exercised every kind of window action.
    kinds_logged = {k for (k,) in db.execute("SELECT DISTINCT kind FROM events")}
    assert {
        "ticket.no_show",
        "ticket.recalled",
        "ticket.transferred",
        "window.paused",
        "window.handover",
        "evaluation.not_rated",
        "case.registered",
    } <= kinds_logged
    assert (
        f"tickets issued {summary['tickets_issued']}, served {summary['tickets_served']}" in printed
    )
    assert db.execute("SELECT count(*) FROM persons").fetchone()[0] > 0  # ID cards were used


def test_hallq_command_dispatches_and_explains(capsys: pytest.CaptureFixture[str]) -> None:
    assert hallq(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert hallq(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err
    assert hallq(["config", "check", str(EXAMPLE)]) == 0
    assert hallq(["keygen"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()[-1]) == 44
