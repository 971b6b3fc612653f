"""Problems found in a hall file, and where each one was written.

A problem prints as ``FILE: KEY: MESSAGE``, e.g.
``county.toml: windows[3].services[1]: unknown service "X9"``. ``KEY`` is a key path in
TOML notation: tables joined with dots, list items as ``[i]``, keys that are not bare
TOML keys in double quotes. File names are relative to the directory of the file given
to ``config.load``.

Several files can contribute to one hall (see ``config.sources``). A key path in the
merged hall is turned back into the file and the key path *within that file*: the
third service of ``services/tax.toml`` is ``services/tax.toml: services[2]`` whatever its
position in the merged list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Loc = tuple[str | int, ...]
"""A key path as pydantic reports it: table keys are ``str``, list indexes ``int``."""

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a hall file."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.key) if p]
        return ": ".join([*parts, self.message])


class ConfigError(Exception):
    """The hall configuration is not valid; ``problems`` lists everything found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def render_loc(loc: Loc) -> str:
    """Render a key path in TOML notation: ``windows[3].services[1]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        key = part if _BARE_KEY.match(part) else '"' + part.replace('"', '\\"') + '"'
        out += f".{key}" if out else key
    return out


class Provenance:
    """Remembers which file wrote each key of a merged hall, and under which local path."""

    def __init__(self, root_file: str) -> None:
        self.root_file = root_file
        self._origin: dict[Loc, tuple[str, Loc]] = {}

    def record(self, loc: Loc, file: str, local: Loc) -> None:
        """Note that ``loc`` of the merged hall is ``local`` in ``file``."""
        self._origin[loc] = (file, local)

    def origin(self, loc: Loc) -> tuple[str, Loc]:
        """The file that wrote ``loc`` (or its nearest recorded parent) and the local path."""
        for cut in range(len(loc), 0, -1):
            found = self._origin.get(loc[:cut])
            if found is not None:
                file, local = found
                return file, local + loc[cut:]
        return self.root_file, loc

    def locate(self, loc: Loc) -> tuple[str, str]:
        """The file and the rendered local key path of ``loc``."""
        file, local = self.origin(loc)
        return file, render_loc(local)

    def problem(self, loc: Loc, message: str) -> Problem:
        """A problem at ``loc`` of the merged hall, reported in the file that wrote it."""
        file, key = self.locate(loc)
        return Problem(file, key, message)

    def ref(self, loc: Loc, seen_from: Loc) -> str:
        """``loc`` as a reader at ``seen_from`` needs it: the key, with its file if different."""
        file, key = self.locate(loc)
        if file == self.origin(seen_from)[0]:
            return key
        return f"{file}: {key}"
