"""Shared look of the kiosk screens: one style sheet by role, big touch targets."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

FONT_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Droid Sans Fallback")
ELDERLY_SCALE = 1.4
MIN_TOUCH_PX = 96
"""Smallest button height: about 13 mm on a 21.5-inch 1080p panel, above the 9 mm guideline."""

SIZES = {
    "title": 44,
    "subtitle": 30,
    "body": 26,
    "tile": 30,
    "tilenote": 22,
    "number": 200,
    "big": 52,
    "error": 30,
    "hint": 24,
    "button": 32,
    "group": 30,
}


def stylesheet(scale: float = 1.0) -> str:
    """The style sheet of the kiosk window at ``scale`` (elderly mode enlarges everything)."""

    def px(role: str) -> int:
        return round(SIZES[role] * scale)

    return f"""
    QWidget {{ background: #f4f7fb; color: #1a2433; font-size: {px("body")}px; }}
    QScrollArea, QScrollArea > QWidget > QWidget {{ border: none; background: transparent; }}
    QLabel[role="title"] {{ font-size: {px("title")}px; font-weight: bold; color: #0b4f9c; }}
    QLabel[role="subtitle"] {{ font-size: {px("subtitle")}px; color: #33475b; }}
    QLabel[role="group"] {{ font-size: {px("group")}px; font-weight: bold; color: #0b4f9c;
        border-bottom: 3px solid #0b4f9c; padding: 8px 0; }}
    QLabel[role="section"] {{ font-size: {px("subtitle")}px; font-weight: bold; color: #0b4f9c;
        padding-top: 12px; }}
    QLabel[role="number"] {{ font-size: {px("number")}px; font-weight: bold; color: #c0392b; }}
    QLabel[role="tile"] {{ font-size: {px("tile")}px; font-weight: bold; color: #1a2433; }}
    QLabel[role="tilenote"] {{ font-size: {px("tilenote")}px; color: #566a7f; }}
    QLabel[role="tileoff"] {{ font-size: {px("tile")}px; font-weight: bold; color: #8897a8; }}
    QLabel[role="big"] {{ font-size: {px("big")}px; font-weight: bold; }}
    QLabel[role="error"] {{ font-size: {px("error")}px; color: #c0392b; font-weight: bold; }}
    QLabel[role="hint"] {{ font-size: {px("hint")}px; color: #566a7f; }}
    QLabel[role="notice"] {{ font-size: {px("hint")}px; color: #8a5a00; background: #fff4d6;
        padding: 10px; }}
    QPushButton {{ font-size: {px("button")}px; min-height: {round(MIN_TOUCH_PX * scale)}px;
        border-radius: 14px; padding: 8px 24px; background: #ffffff; border: 2px solid #b8c7d9; }}
    QPushButton[role="primary"] {{ background: #0b62c4; color: white; border: none;
        font-weight: bold; }}
    QPushButton[role="green"] {{ background: #1e8e3e; color: white; border: none; }}
    QPushButton[role="tile"] {{ text-align: left; font-size: {px("tile")}px; padding: 16px 24px;
        min-height: {round(140 * scale)}px; }}
    QPushButton[role="tile"]:disabled {{ color: #8897a8; background: #e9edf2; }}
    QPushButton[role="key"] {{ font-size: {px("big")}px; min-height: {round(110 * scale)}px; }}
    """


def label(text: str = "", role: str = "body", *, wrap: bool = True, center: bool = False) -> QLabel:
    """A label with a style role."""
    widget = QLabel(text)
    widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    if center:
        widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return widget


def button(text: str, role: str = "", *, name: str = "") -> QPushButton:
    """A big touch button with a style role."""
    widget = QPushButton(text)
    if role:
        widget.setProperty("role", role)
    if name:
        widget.setObjectName(name)
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return widget


def pil_to_pixmap(image: Any) -> QPixmap:
    """A PIL image (any mode) as a QPixmap."""
    grey = image.convert("L")
    qimage = QImage(
        grey.tobytes(), grey.width, grey.height, grey.width, QImage.Format.Format_Grayscale8
    )
    return QPixmap.fromImage(qimage.copy())


def scroll_area() -> QScrollArea:
    """A vertical scroll area whose body is replaced on every render (see ``new_body``)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    new_body(area)
    return area


def new_body(area: QScrollArea, spacing: int = 12) -> tuple[QWidget, QVBoxLayout]:
    """A fresh, empty body for ``area``; Qt deletes the old one (no Python-side deletes)."""
    body = QWidget()
    layout = QVBoxLayout(body)
    layout.setSpacing(spacing)
    area.setWidget(body)
    return body, layout
