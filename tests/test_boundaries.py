"""The layer boundaries, checked mechanically.

Two independent checks: import-linter's contracts from pyproject.toml, and an AST scan
of every module (imports inside functions and ``importlib.import_module("...")`` with a
literal name included) that reports offending ``file:line``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QT = ("PySide*", "PyQt*", "shiboken*")
HARDWARE = ("serial", "smartcard", "cv2")
# (layers, top-level modules they must never import)
RULES = [
    (("devices", "config", "center"), QT),
    (("kiosk", "display"), HARDWARE),
]
_DYNAMIC_IMPORTERS = {"import_module", "__import__"}


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in a module, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if (
                name in _DYNAMIC_IMPORTERS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield node.lineno, first.value


def forbidden_imports(root: Path, layers: Iterable[str], patterns: Iterable[str]) -> list[str]:
    """``file:line: imports X`` for each import of a forbidden module under the layers."""
    patterns = tuple(patterns)
    problems = []
    for layer in layers:
        for path in sorted((root / layer).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, module in sorted(imported_modules(tree)):
                top = module.split(".")[0]
                if any(fnmatchcase(top, pattern) for pattern in patterns):
                    problems.append(f"{path.relative_to(root)}:{line}: imports {module}")
    return problems


@pytest.mark.parametrize(("layers", "patterns"), RULES, ids=["no-qt-below-ui", "no-io-in-ui"])
def test_layers_keep_out_forbidden_imports(layers: tuple[str, ...], patterns: tuple[str]) -> None:
    problems = forbidden_imports(REPO, layers, patterns)
    assert not problems, "forbidden imports:\n" + "\n".join(problems)


def test_scan_reports_forbidden_imports(tmp_path: Path) -> None:
    """GIVEN a fake tree with hidden violations and allowed imports, THEN exactly the
    violations are reported, with file and line."""
    (tmp_path / "devices" / "printer").mkdir(parents=True)
    (tmp_path / "devices" / "printer" / "view.py").write_text(
        "import serial\n"  # allowed: devices own the hardware libraries
        "def show():\n"
        "    from PySide6.QtWidgets import QLabel\n"
        "    return QLabel\n"
    )
    (tmp_path / "kiosk").mkdir()
    (tmp_path / "kiosk" / "camera.py").write_text(
        "import importlib\n"
        "from . import serial\n"  # allowed: a module of our own that happens to be called so
        "import PySide6.QtCore\n"  # allowed: kiosk is the UI
        "cv = importlib.import_module('cv2')\n"
        "import smartcard.System, json\n"
    )
    found = [
        problem
        for layers, patterns in RULES
        for problem in forbidden_imports(tmp_path, layers, patterns)
    ]
    assert found == [
        "devices/printer/view.py:3: imports PySide6.QtWidgets",
        "kiosk/camera.py:4: imports cv2",
        "kiosk/camera.py:5: imports smartcard.System",
    ]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("lint-imports")
    command = str(script) if script.exists() else shutil.which("lint-imports")
    assert command, "lint-imports not found: run `make venv`"
    return subprocess.run(
        [command, "--config", str(cwd / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_import_linter_contracts_hold() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_linter_contracts_catch_a_violation(tmp_path: Path) -> None:
    """GIVEN the project's own contracts and a fake project whose devices/ imports Qt,
    THEN lint-imports reports the contract broken (not merely a configuration error)."""
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    for package in ("center", "config", "devices", "display", "kiosk", "hallq"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "devices" / "bad.py").write_text("import PySide6.QtCore\n")
    result = _lint_imports(tmp_path)  # lint-imports puts its cwd first on sys.path
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "No Qt below the UI layer BROKEN" in output, output
    assert "devices.bad" in output, output
