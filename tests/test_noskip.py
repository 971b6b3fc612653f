"""The no-quiet-skips guard fails a strict run that skipped, and only then."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(tmp_path: Path, body: str, strict: bool) -> int:
    test = tmp_path / "test_sample.py"
    test.write_text("import pytest\n\n" + body, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HALLQ_NO_SKIPS")}
    env["PYTHONPATH"] = str(ROOT)
    if strict:
        env["HALLQ_NO_SKIPS"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "tests.noskip",
        "-p",
        "no:cacheprovider",
        str(test),
    ]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=120).returncode


@pytest.mark.parametrize(
    ("body", "strict", "code"),
    [
        ("def test_a():\n    pytest.skip('no font')\n", True, 1),
        ("def test_a():\n    pytest.skip('no font')\n", False, 0),
        ("pytest.importorskip('no_such_module_here')\n\ndef test_a():\n    pass\n", True, 1),
        ("@pytest.mark.hardware\ndef test_a():\n    pytest.skip('no reader')\n", True, 0),
        ("def test_a():\n    assert True\n", True, 0),
    ],
    ids=["skip-strict", "skip-lenient", "module-skip-strict", "hardware-skip", "no-skip"],
)
def test_strict_runs_fail_on_skips(tmp_path: Path, body: str, strict: bool, code: int) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    hardware: x\n", encoding="utf-8")
    assert run(tmp_path, body, strict) == code
