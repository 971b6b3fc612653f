"""Text for LED devices: GB2312, the character set of their font chips."""

from __future__ import annotations

SUBSTITUTE = "□"
"""Shown for a character GB2312 has no code for (□ is GB2312 A1F5)."""


def gb2312_ok(char: str) -> bool:
    """True if ``char`` has a GB2312 code."""
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def displayable(text: str, substitute: str = SUBSTITUTE) -> str:
    """``text`` with every character GB2312 cannot encode replaced by ``substitute``."""
    return "".join(c if gb2312_ok(c) else substitute for c in text)
