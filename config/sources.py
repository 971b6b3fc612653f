"""Reading a hall file and the files it includes into one merged table.

Include rules (see docs/config.md):

* ``include = ["services/tax.toml", ...]`` at the top level of any file; paths are
  relative to the file that names them. Included files may include further files.
* Files are merged depth first: a file's own keys, then each of its includes in order.
* Tables merge key by key. The lists in ``APPENDED`` are concatenated in that order.
  Any other key (a scalar, or another list) set in two files is a problem naming both.
* A file included twice, an include cycle, a missing file and a TOML syntax error are
  problems. Every key remembers the file (and the path within it) that wrote it, so
  later problems can be reported where the user has to edit.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.problems import Loc, Problem, Provenance, render_loc

APPENDED: frozenset[Loc] = frozenset(
    {
        ("services",),
        ("windows",),
        ("staff",),
        ("devices", "kiosks"),
        ("devices", "buses"),
        ("hours", "closed_days"),
        ("hours", "open_days"),
        ("hours", "calendar_years"),
    }
)
"""Lists that several files may contribute items to."""

_POSITION = re.compile(r" \(at line (\d+), column (\d+)\)$")
_AT_END = " (at end of document)"


@dataclass
class Merged:
    """The merged hall table, where each key came from, and what went wrong on the way."""

    data: dict[str, Any]
    provenance: Provenance
    problems: list[Problem]


def read_hall(path: str | Path) -> Merged:
    """Read ``path`` and everything it includes."""
    root = Path(os.path.abspath(path))
    reader = _Reader(root)
    if not root.is_file():
        reader.problems.append(Problem(reader.name(root), "", "file not found"))
    else:
        reader.read(root, (root,))
    return Merged(reader.data, reader.provenance, reader.problems)


def syntax_message(error: tomllib.TOMLDecodeError) -> str:
    """The parser's message with its position put first: ``syntax error at line 3, column 7: …``."""
    text = str(error)
    found = _POSITION.search(text)
    if found:
        where = f"line {found.group(1)}, column {found.group(2)}"
        text = text[: found.start()]
    elif text.endswith(_AT_END):
        where = "end of file"
        text = text[: -len(_AT_END)]
    else:
        where = "unknown position"
    return f"TOML syntax error at {where}: {text}"


class _Reader:
    """Walks the include tree once, merging as it goes."""

    def __init__(self, root: Path) -> None:
        self.base = root.parent
        self.data: dict[str, Any] = {}
        self.provenance = Provenance(self.name(root))
        self.problems: list[Problem] = []
        self.included_by: dict[Path, str] = {}

    def name(self, path: Path) -> str:
        """How a file is named in problems: relative to the root file's directory."""
        return Path(os.path.relpath(path, self.base)).as_posix()

    def read(self, path: Path, stack: tuple[Path, ...]) -> None:
        """Merge ``path``, then the files it includes."""
        name = self.name(path)
        table = self._parse(path, name)
        if table is None:
            return
        includes = table.pop("include", [])
        self._merge(self.data, table, (), (), name)
        for index, target in self._include_targets(includes, path, name):
            key = f"include[{index}]"
            if target in stack:
                chain = " -> ".join(self.name(p) for p in (*stack, target))
                self.problems.append(Problem(name, key, f"include cycle: {chain}"))
            elif target in self.included_by:
                first = self.included_by[target]
                message = f'"{self.name(target)}" is already included by {first}'
                self.problems.append(Problem(name, key, message))
            elif not target.is_file():
                message = f'cannot include "{self.name(target)}": file not found'
                self.problems.append(Problem(name, key, message))
            else:
                self.included_by[target] = name
                self.read(target, (*stack, target))

    def _parse(self, path: Path, name: str) -> dict[str, Any] | None:
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as error:
            self.problems.append(Problem(name, "", f"cannot read file: {error.strerror or error}"))
            return None
        except UnicodeDecodeError as error:
            self.problems.append(Problem(name, "", f"not UTF-8 text (byte {error.start})"))
            return None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            self.problems.append(Problem(name, "", syntax_message(error)))
            return None

    def _include_targets(self, includes: Any, path: Path, name: str) -> list[tuple[int, Path]]:
        expected = 'expected a list of file names, like include = ["services.toml"]'
        if not isinstance(includes, list):
            self.problems.append(Problem(name, "include", expected))
            return []
        targets = []
        for index, entry in enumerate(includes):
            if isinstance(entry, str) and entry.strip():
                targets.append((index, Path(os.path.normpath(path.parent / entry))))
            else:
                message = f"expected a file name, got {entry!r}"
                self.problems.append(Problem(name, f"include[{index}]", message))
        return targets

    def _merge(
        self, into: dict[str, Any], table: dict[str, Any], at: Loc, local: Loc, name: str
    ) -> None:
        for key, value in table.items():
            loc, here = (*at, key), (*local, key)
            old = into.get(key)
            if key not in into:
                into[key] = value
                self.provenance.record(loc, name, here)
            elif isinstance(old, dict) and isinstance(value, dict):
                self._merge(old, value, loc, here, name)
            elif isinstance(old, list) and isinstance(value, list) and loc in APPENDED:
                for index in range(len(value)):
                    self.provenance.record((*loc, len(old) + index), name, (*here, index))
                into[key] = old + value
            else:
                self._conflict(loc, here, name)

    def _conflict(self, loc: Loc, here: Loc, name: str) -> None:
        first = self.provenance.origin(loc)[0]
        message = f"already set in {first} (a value may be set in one file only)"
        self.problems.append(Problem(name, render_loc(here), message))
