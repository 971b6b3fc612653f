"""Finding a font that has Chinese glyphs, for the ticket image.

Printers' own CJK fonts and code pages differ from model to model, so the ticket is drawn
with a font of the kiosk's: WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``, 5 MB) is
preferred, Noto Sans CJK SC (``fonts-noto-cjk``) is accepted. The search looks at known
paths only; nothing is read until ``find_cjk_font()`` is called.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

DEBIAN_PACKAGE = "fonts-wqy-microhei"


@dataclass(frozen=True)
class FontChoice:
    """A font file and the face inside it (a .ttc holds several)."""

    path: Path
    index: int = 0


# (path, the face's family name must contain this); the first that exists wins.
CANDIDATES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "Micro Hei"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "Zen Hei"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "CJK SC"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "CJK SC"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf", "CJK SC"),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", "Droid"),
)

TEST_GLYPHS = "号窗口"


class FontNotFound(RuntimeError):
    """No font with Chinese glyphs is installed."""


def _face_index(path: Path, family_part: str) -> int | None:
    """Index of the face in ``path`` whose family contains ``family_part`` (None if none)."""
    for index in range(16):
        try:
            face = ImageFont.truetype(str(path), 16, index=index)
        except OSError:
            return None
        if family_part.lower() in (face.getname()[0] or "").lower():
            return index
    return None


def has_cjk_glyphs(choice: FontChoice) -> bool:
    """True if the face draws hanzi (not the .notdef box of a Latin-only font)."""
    face = ImageFont.truetype(str(choice.path), 32, index=choice.index)
    boxes = {face.getmask(ch).getbbox() for ch in TEST_GLYPHS}
    return len(boxes) == len(TEST_GLYPHS) and None not in boxes


@functools.cache
def find_cjk_font(path: str | None = None) -> FontChoice:
    """The font to draw tickets with: ``path`` if given, else the first installed candidate.

    Raises ``FontNotFound`` naming the Debian package to install.
    """
    if path is not None:
        choice = FontChoice(Path(path), 0)
        if not choice.path.is_file():
            raise FontNotFound(f"ticket font {path} does not exist")
        if not has_cjk_glyphs(choice):
            raise FontNotFound(f"ticket font {path} has no Chinese glyphs")
        return choice
    for candidate, family_part in CANDIDATES:
        file = Path(candidate)
        if not file.is_file():
            continue
        index = _face_index(file, family_part)
        if index is not None:
            return FontChoice(file, index)
    raise FontNotFound(
        "no font with Chinese glyphs for the ticket: install the Debian package "
        f"{DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE}) or fonts-noto-cjk"
    )


def load_font(choice: FontChoice, size: int) -> ImageFont.FreeTypeFont:
    """The face of ``choice`` at ``size`` pixels."""
    return _load(choice.path, choice.index, size)


@functools.lru_cache(maxsize=64)
def _load(path: Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, index=index)
