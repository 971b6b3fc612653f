"""``hallq device``: a token is printed once and only its hash is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from center.cli_center import center_main, device_main


def test_add_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    assert (
        device_main(
            ["--database", db, "add", "--kind", "evaluator", "--name", "eval-3", "--window", "3"]
        )
        == 0
    )
    token = capsys.readouterr().out.strip()
    assert token.startswith("hqd_") and len(token) > 40
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in raw

    assert device_main(["--database", db, "list"]) == 0
    assert "eval-3\tevaluator\twindow 3\t-\tlast seen never" in capsys.readouterr().out
    assert device_main(["--database", db, "add", "--kind", "kiosk", "--name", "eval-3"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert device_main(["--database", db, "revoke", "--name", "eval-3"]) == 0
    capsys.readouterr()
    assert device_main(["--database", db, "list"]) == 0
    assert "revoked" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "evaluator", "--name", "e1"], "belongs to one window"),
        (["--kind", "kiosk", "--name", "k1", "--window", "2"], "serves the whole hall"),
        (["--kind", "kiosk", "--name", "bad name"], "must be 1-64 letters"),
    ],
)
def test_add_refuses_bad_devices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    assert device_main(["--database", db, "add", *args]) == 1
    assert message in capsys.readouterr().err


def test_serving_needs_a_config_and_both_tls_files(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        center_main([])
    assert "--config is required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        center_main(["--config", "x.toml", "--ssl-keyfile", "k.pem"])
    assert "both --ssl-keyfile and --ssl-certfile" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--threads", "0"], "--threads must be at least 1"),
        (["--green-slots", "0"], "--green-slots must be between 1 and 64"),
        (["--green-slots", "65"], "--green-slots must be between 1 and 64"),
    ],
)
def test_serving_refuses_worker_counts_out_of_range(
    option: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before anything opens: more greenlets than the pool has connections for would block
    the event loop on the pool."""
    with pytest.raises(SystemExit):
        center_main(["--config", "x.toml", *option])
    assert message in capsys.readouterr().err


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    """What ``hallq center`` does to the collector before it serves: the objects start-up
    built leave the collector's generations, and the youngest generation is collected after
    10,000 net allocations instead of 700 (the default walked the requests in flight every
    few requests: 6 % of the center's CPU under load)."""
    import gc

    from center.cli_center import GC_YOUNG_THRESHOLD, freeze_startup_objects

    before = gc.get_threshold()
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, before[1], before[2])
        assert before[0] < GC_YOUNG_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
