"""Grab the whole X screen ``$DISPLAY`` to a PNG: what a person in front of it would see.

    DISPLAY=:N python -m hallq.xshot OUT.png

Run as its own process by ``hallq.halldemo`` (the programs it photographs are other
processes, so the picture is taken from the X server, not from inside them). Exit status 0
when the file was written, 1 when the screen could not be grabbed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def grab(path: str) -> bool:
    """Save the X screen of ``$DISPLAY`` to ``path``; False when nothing could be grabbed."""
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(["hallq-xshot"])
    screen = app.primaryScreen()
    if screen is None:
        return False
    pixmap = screen.grabWindow(0)
    return not pixmap.isNull() and pixmap.save(path, "PNG")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hallq.xshot OUT.png``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: DISPLAY=:N python -m hallq.xshot OUT.png\n")
        return 2
    return 0 if grab(args[0]) else 1


if __name__ == "__main__":
    sys.exit(main())
