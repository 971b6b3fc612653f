"""The ``hallq`` command: one entry point, subcommands imported only when used.

Each subcommand lives with the part it belongs to and takes the rest of the arguments;
importing this module imports none of them, so ``hallq config check`` never loads Qt and
``hallq kiosk`` never loads the database driver it does not need.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, tuple[str, str, str]] = {
    "config": ("hallq.cli", "config_main", "config check FILE: validate a hall file"),
    "demo": (
        "center.demo",
        "main",
        "a scripted hall day through the engine on SQLite, with a summary",
    ),
    "hall-demo": (
        "hallq.halldemo",
        "main",
        "the whole hall: center, buses, display, kiosk, screen; a scripted hour",
    ),
    "db": ("hallq.cli", "db_main", "db upgrade --database URL: migrate a database"),
    "keygen": ("hallq.cli", "keygen_main", "print a new key for personal data at rest"),
    "center": ("center.cli_center", "center_main", "serve the hall's HTTP API and event stream"),
    "device": ("center.cli_center", "device_main", "device add|list|revoke: device tokens"),
    "display": (
        "display.cli",
        "main",
        "the display controller: LED strips, hall board, voice, keys",
    ),
    "sim": ("display.simbus", "sim_main", "sim bus --config FILE: the hall's RS-485 buses on ptys"),
    "screen": ("display.screen.app", "main", "the hall's call screen on a TV (Qt)"),
    "kiosk": ("kiosk.app", "main", "run a self-service kiosk (--simulate: devices and center)"),
    "devices": (
        "devices.bus.cli",
        "main",
        "devices decode|scan: read captured frames, probe a bus",
    ),
}


def usage() -> str:
    """The help text."""
    lines = ["usage: hallq COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<8} {text}" for name, (_, _, text) in sorted(COMMANDS.items())]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hallq``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"hallq: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[name]
    return int(getattr(importlib.import_module(module), func)(rest) or 0)


def config_main(argv: list[str]) -> int:
    """``hallq config check FILE``."""
    if not argv or argv[0] != "check":
        print("usage: hallq config check FILE", file=sys.stderr)
        return 2
    from config.check import main as check

    return check(argv[1:])


def db_main(argv: list[str]) -> int:
    """``hallq db upgrade --database URL``."""
    import argparse

    parser = argparse.ArgumentParser(prog="hallq db")
    parser.add_argument("action", choices=["upgrade"])
    parser.add_argument(
        "--database", required=True, help="sqlite:///path or postgresql+psycopg://…"
    )
    opts = parser.parse_args(argv)
    from center.db.connect import make_engine, upgrade

    engine = make_engine(opts.database)
    upgrade(engine)
    engine.dispose()
    print(f"database at {engine.url.render_as_string(hide_password=True)} is up to date")
    return 0


def keygen_main(argv: list[str]) -> int:
    """``hallq keygen``: a new base64 key for HALLQ_DATA_KEY."""
    if argv:
        print("usage: hallq keygen", file=sys.stderr)
        return 2
    from center.pii import new_key

    print(new_key())
    return 0


if __name__ == "__main__":
    sys.exit(main())
