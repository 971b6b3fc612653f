"""The hall screen widget: a 1920×1080 TV layout rendering one ``ScreenState`` at a time.

    ┌────────────────────────────────────────────────────────────────────────┐
    │ 测试政务服务中心                                 2026年11月23日 星期一 09:12 │
    ├───────────────────────────────────────────┬────────────────────────────┤
    │ 最新叫号                                   │ 等候情况                    │
    │   A012          (flashes for a few s)      │  业务   等候   预计等候       │
    │   请到 3 号窗口办理                         │  税务    4    约15分钟       │
    ├───────────────────────────────────────────┤ 窗口状态                    │
    │ 叫号记录  A011 → 2号窗口 09:10 | A010 → …  │  [1号窗口 办理中 A012] …     │
    ├───────────────────────────────────────────┴────────────────────────────┤
    │ ◀ scrolling notice line                                                │
    └────────────────────────────────────────────────────────────────────────┘

The view only renders: it takes states through ``show_state`` and never talks to the center.
While the center is unreachable a red banner says so over the top of the screen. Sizes are
given for 1080 lines and scaled to the widget's height. The newest call flashes (two colours
alternating every ``blink_ms``) until its ``flash_until``; ``clock`` is the monotonic clock
those times are in (a fake one in tests).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from PySide6.QtCore import QElapsedTimer, QEvent, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from display.screen.model import (
    CallEntry,
    ScreenState,
    ServiceLine,
    WindowMode,
    WindowTile,
    wait_text,
    window_text,
)

BASE_HEIGHT = 1080
LIST_ROWS, LIST_COLUMNS = 4, 2
FONT_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "sans-serif")
WEEKDAYS = "一二三四五六日"
SERVICE_ROWS = 10
"""Rows of the waiting table that stay readable from across a hall on a 1080-line screen."""
PAGE_TICKS = 20
"""Ticks (of ``blink_ms``) a page of the waiting table stays before the next one (8 s)."""


def service_page(
    lines: tuple[ServiceLine, ...], page: int, size: int = SERVICE_ROWS
) -> tuple[tuple[ServiceLine, ...], int]:
    """The rows of page ``page`` (wrapping) and how many pages there are.

    A hall with no more services than fit shows them all, in config order. A larger one
    shows the services someone is waiting for (all of them when nobody waits), a page at a
    time, so a county hall's forty services stay readable instead of shrinking to nothing."""
    if len(lines) <= size:
        return lines, 1
    waiting = tuple(line for line in lines if line.waiting)
    pool = waiting or lines
    pages = max(1, -(-len(pool) // size))
    start = (page % pages) * size
    return pool[start : start + size], pages


STYLE = """
ScreenView {{ background: #061733; }}
QLabel {{ color: #ffffff; font-family: {families}; }}
#header {{ background: #0b2a5b; }}
#title {{ font-size: {s54}px; font-weight: bold; }}
#clock {{ font-size: {s38}px; color: #cfe0ff; }}
#caption {{ font-size: {s34}px; color: #9fc3ff; font-weight: bold; }}
#panel {{ background: #0d2a57; border-radius: {s16}px; }}
#hero {{ background: #0d2a57; border-radius: {s20}px; }}
#hero[phase="on"] {{ background: #ffd23f; }}
#hero[phase="off"] {{ background: #d7263d; }}
#heroNumber {{ font-size: {s180}px; font-weight: bold; color: #ffd23f; }}
#heroText {{ font-size: {s80}px; font-weight: bold; }}
#heroName {{ font-size: {s48}px; }}
#hero[phase="on"] QLabel {{ color: #061733; }}
#hero[phase="off"] QLabel {{ color: #ffffff; }}
#hero[phase="empty"] QLabel {{ color: #6f86b3; }}
#callRow {{ background: #0d2a57; border-radius: {s12}px; }}
#callRow[flash="true"] {{ background: #5c4a00; }}
#callRow[flash="empty"] {{ background: transparent; }}
#rowNumber {{ font-size: {s60}px; font-weight: bold; color: #ffd23f; }}
#rowWindow {{ font-size: {s48}px; }}
#rowTime {{ font-size: {s30}px; color: #9fb3d9; }}
#svcHead {{ font-size: {s30}px; color: #9fc3ff; }}
#svcName, #svcCount, #svcWait {{ font-size: {svc}px; }}
#svcCount {{ color: #ffd23f; font-weight: bold; }}
#tile {{ border-radius: {s12}px; background: #34495e; }}
#tile[mode="open"] {{ background: #1e8449; }}
#tile[mode="paused"] {{ background: #b9770e; }}
#tile[mode="closed"] {{ background: #3b4656; }}
#tileTitle {{ font-size: {tile_title}px; font-weight: bold; }}
#tileState {{ font-size: {tile_state}px; }}
#tileName {{ font-size: {tile_name}px; color: #e8f0ff; }}
#tile[mode="closed"] QLabel {{ color: #aab4c3; }}
#banner {{ background: #c0392b; color: #ffffff; font-size: {s48}px; font-weight: bold; }}
"""


def _repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed (children too)."""
    for w in (widget, *widget.findChildren(QWidget)):
        w.style().unpolish(w)
        w.style().polish(w)


def _set_property(widget: QWidget, name: str, value: str) -> None:
    if widget.property(name) != value:
        widget.setProperty(name, value)
        _repolish(widget)


class Label(QLabel):
    """A label that never widens its column: a text too long for it is elided (…).

    ``text()`` is the whole text; what is painted may be shorter.
    """

    def __init__(self, name: str, text: str = "", align: Qt.AlignmentFlag | None = None) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(1)
        if align is not None:
            self.setAlignment(align)
        self._full = ""
        self.setText(text)

    def text(self) -> str:
        """The whole text."""
        return self._full

    def setText(self, text: str) -> None:
        """Show ``text`` (elided to the width if need be)."""
        self._full = text
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Elide again for the new width."""
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        """Elide again when the style sheet changed the font."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()

    def _fit(self) -> None:
        shown = self._full
        if not self.wordWrap() and self.width() > 1:
            shown = QFontMetrics(self.font()).elidedText(
                self._full, Qt.TextElideMode.ElideRight, self.contentsRect().width()
            )
        if shown != super().text():
            super().setText(shown)


def _label(
    name: str, text: str = "", align: Qt.AlignmentFlag | None = None, *, elide: bool = True
) -> QLabel:
    """A styled label; ``elide=False`` for short texts that should keep their natural width."""
    if elide:
        return Label(name, text, align)
    label = QLabel(text)
    label.setObjectName(name)
    if align is not None:
        label.setAlignment(align)
    return label


class Marquee(QWidget):
    """A line of text scrolling right to left (centred and still when it fits)."""

    def __init__(self, parent: QWidget | None = None, speed_px_s: float = 140.0) -> None:
        super().__init__(parent)
        self.setObjectName("marquee")
        self.speed_px_s = speed_px_s
        self._text = ""
        self._offset = 0.0
        self._elapsed = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._step)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)

    def text(self) -> str:
        """The text shown."""
        return self._text

    def setText(self, text: str) -> None:
        """Show ``text`` from the right edge."""
        if text == self._text:
            return
        self._text = text
        self._offset = 0.0
        self._elapsed.restart()
        if text:
            self._timer.start()
        else:
            self._timer.stop()
        self.update()

    def _text_width(self) -> float:
        return QFontMetricsF(self.font()).horizontalAdvance(self._text)

    def _step(self) -> None:
        ms = self._elapsed.restart()
        if self._text_width() <= self.width():
            self._offset = 0.0
            return
        self._offset += self.speed_px_s * ms / 1000.0
        if self._offset > self.width() + self._text_width():
            self._offset = 0.0
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the text at the current offset."""
        del event
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#0b2a5b"))
        if not self._text:
            return
        painter.setPen(QColor("#ffffff"))
        painter.setFont(self.font())
        width = self._text_width()
        metrics = QFontMetricsF(self.font())
        y = (self.height() + metrics.ascent() - metrics.descent()) / 2
        x = (self.width() - width) / 2 if width <= self.width() else self.width() - self._offset
        painter.drawText(int(x), int(y), self._text)
        painter.end()


class _CallRow(QFrame):
    """One call in the history list."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("callRow")
        layout = QHBoxLayout(self)
        self.number = _label("rowNumber", elide=False)
        self.place = _label("rowWindow")
        self.time = _label(
            "rowTime",
            align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            elide=False,
        )
        layout.addWidget(self.number)
        layout.addWidget(self.place, 1)
        layout.addWidget(self.time)

    def show_call(self, entry: CallEntry | None, flashing: bool, when: str) -> None:
        self.number.setText(entry.number if entry else "")
        self.place.setText(f"→ {entry.window}号窗口" if entry else "")
        self.time.setText(when)
        _set_property(self, "flash", "empty" if entry is None else str(flashing).lower())

    def text(self) -> str:
        return f"{self.number.text()} {self.place.text()}".strip()


class _Tile(QFrame):
    """One window's state."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("tile")
        layout = QVBoxLayout(self)
        layout.setSpacing(2)
        self.title = _label("tileTitle", align=Qt.AlignmentFlag.AlignCenter)
        self.name = _label("tileName", align=Qt.AlignmentFlag.AlignCenter)
        self.state = _label("tileState", align=Qt.AlignmentFlag.AlignCenter)
        self.state.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(self.name)
        layout.addWidget(self.state)

    def show_tile(self, tile: WindowTile) -> None:
        self.title.setText(f"{tile.number}号窗口")
        name = _distinct_name(tile)
        self.name.setText(name)
        self.name.setVisible(bool(name))
        self.state.setText(window_text(tile))
        _set_property(self, "mode", tile.mode.value)


class ScreenView(QWidget):
    """The hall screen; ``show_state(state)`` shows a state, ``tick()`` advances the flashing."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
        *,
        blink_ms: int = 400,
        tz: ZoneInfo | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self.setWindowTitle("hallq 叫号大屏")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.clock = clock
        self.tz = tz
        self.state = ScreenState()
        self._scale = 0.0
        self._blink_on = False
        self._page = 0
        self._page_ticks = 0
        self._tiles: list[_Tile] = []
        self._services: list[tuple[QLabel, QLabel, QLabel]] = []
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(blink_ms)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        self.resize(1920, 1080)
        self._apply_scale()
        self.show_state(self.state)

    # --- building -----------------------------------------------------------------------

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # fonts follow the size
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        root.addWidget(self._build_header())
        body = QHBoxLayout()
        body.setContentsMargins(24, 20, 24, 20)
        body.setSpacing(24)
        body.addLayout(self._build_calls(), 3)
        body.addLayout(self._build_side(), 2)
        root.addLayout(body, 1)
        self.marquee = Marquee(self)
        root.addWidget(self.marquee)
        self.banner = _label("banner", align=Qt.AlignmentFlag.AlignCenter)
        self.banner.setParent(self)
        self.banner.hide()

    def _build_header(self) -> QFrame:
        header = QFrame()
        header.setObjectName("header")
        layout = QHBoxLayout(header)
        layout.setContentsMargins(32, 12, 32, 12)
        self.title = _label("title")
        self.clock_label = _label(
            "clock", align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, elide=False
        )
        layout.addWidget(self.title, 1)
        layout.addWidget(self.clock_label)
        return header

    def _build_calls(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(16)
        column.addWidget(_label("caption", "最新叫号"))
        self.hero = QFrame()
        self.hero.setObjectName("hero")
        hero = QVBoxLayout(self.hero)
        self.hero_number = _label("heroNumber", align=Qt.AlignmentFlag.AlignCenter)
        self.hero_text = _label("heroText", align=Qt.AlignmentFlag.AlignCenter)
        self.hero_name = _label("heroName", align=Qt.AlignmentFlag.AlignCenter)
        hero.addWidget(self.hero_number)
        hero.addWidget(self.hero_text)
        hero.addWidget(self.hero_name)
        column.addWidget(self.hero, 5)
        column.addWidget(_label("caption", "叫号记录"))
        grid = QGridLayout()
        grid.setSpacing(12)
        self.rows = [_CallRow() for _ in range(LIST_ROWS * LIST_COLUMNS)]
        for i, row in enumerate(self.rows):
            grid.addWidget(row, i // LIST_COLUMNS, i % LIST_COLUMNS)
        column.addLayout(grid, 4)
        return column

    def _build_side(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(16)
        column.addWidget(_label("caption", "等候情况"))
        services = QFrame()
        services.setObjectName("panel")
        self._service_grid = QGridLayout(services)
        self._service_grid.setContentsMargins(20, 12, 20, 12)
        for col, text in enumerate(("业务", "等候人数", "预计等候")):
            head = _label("svcHead", text, elide=False)
            self._service_grid.addWidget(
                head, 0, col, Qt.AlignmentFlag.AlignCenter if col else Qt.AlignmentFlag.AlignLeft
            )
        self._service_grid.setColumnStretch(0, 1)
        self._service_grid.setHorizontalSpacing(24)
        column.addWidget(services, 4)
        column.addWidget(_label("caption", "窗口状态"))
        windows = QFrame()
        windows.setObjectName("panel")
        self._tile_grid = QGridLayout(windows)
        self._tile_grid.setContentsMargins(16, 16, 16, 16)
        self._tile_grid.setSpacing(12)
        column.addWidget(windows, 5)
        return column

    # --- rendering ----------------------------------------------------------------------

    def show_state(self, state: ScreenState) -> None:
        """Show ``state``."""
        if state.newest != self.state.newest:
            self._blink_on = True  # a new call starts in its bright phase
        self.state = state
        self.title.setText(state.hall_name)
        self._render_services(state.services, state.center_available)
        self._render_windows(state.windows)
        self.marquee.setText(state.notice_line())
        if state.center_available:
            self.banner.hide()
        else:
            self.banner.setText(state.link_message)
            self.banner.show()
            self.banner.raise_()
        self._render_moving()

    def tick(self) -> None:
        """Advance the flashing, the clock and the waiting table's pages (every ``blink_ms``)."""
        self._blink_on = not self._blink_on
        self._page_ticks += 1
        if self._page_ticks >= PAGE_TICKS:
            self._page_ticks = 0
            self._page += 1
            self._render_services(self.state.services, self.state.center_available)
        self._render_moving()

    def _render_moving(self) -> None:
        """What changes with time: the flashing, the highlighted rows, the clock."""
        now = self.clock()
        self._render_hero(self.state.newest, now)
        for i, row in enumerate(self.rows):
            entry = self.state.calls[i + 1] if i + 1 < len(self.state.calls) else None
            row.show_call(entry, entry is not None and entry.flashing(now), self._when(entry))
        self._render_clock()

    def _render_hero(self, entry: CallEntry | None, now: float) -> None:
        if entry is None:
            self.hero_number.setText("—")
            self.hero_text.setText("等待叫号")
            self.hero_name.hide()
            _set_property(self.hero, "phase", "empty")
            return
        who = f" {entry.name}" if entry.name else ""
        self.hero_number.setText(f"{entry.number}{who}")
        again = "（重呼）" if entry.recall else ""
        self.hero_text.setText(f"请到 {entry.window} 号窗口办理{again}")
        tile = self.state.window(entry.window)
        name = _distinct_name(tile) if tile is not None else ""
        self.hero_name.setText(name)
        self.hero_name.setVisible(bool(name))
        phase = ("on" if self._blink_on else "off") if entry.flashing(now) else "steady"
        _set_property(self.hero, "phase", phase)

    def _render_services(self, all_lines: tuple[ServiceLine, ...], fresh: bool) -> None:
        """The waiting table; "—" for figures not known (or not current: the center is away)."""
        lines, _ = service_page(all_lines, self._page)
        while len(self._services) < len(lines):
            row = len(self._services) + 1
            center = Qt.AlignmentFlag.AlignCenter
            cells = (
                _label("svcName"),
                _label("svcCount", align=center, elide=False),
                _label("svcWait", align=center, elide=False),
            )
            for col, cell in enumerate(cells):
                self._service_grid.addWidget(cell, row, col)
            self._services.append(cells)
        for i, cells in enumerate(self._services):
            line = lines[i] if i < len(lines) else None
            for cell in cells:
                cell.setVisible(line is not None)
            if line is not None:
                cells[0].setText(line.name)
                known = fresh and line.waiting is not None
                cells[1].setText(str(line.waiting) if known else "—")
                cells[2].setText(wait_text(line) if known else "—")
        for row in range(self._service_grid.rowCount()):
            self._service_grid.setRowStretch(row, 0)
        self._service_grid.setRowStretch(len(self._services) + 1, 1)

    def _render_windows(self, tiles: tuple[WindowTile, ...]) -> None:
        if len(self._tiles) != len(tiles):
            for old in self._tiles:
                old.setParent(None)
                old.deleteLater()
            self._tiles = [_Tile() for _ in tiles]
            columns = _columns(len(tiles))
            for i, widget in enumerate(self._tiles):
                self._tile_grid.addWidget(widget, i // columns, i % columns)
            for column in range(self._tile_grid.columnCount()):
                self._tile_grid.setColumnStretch(column, 1 if column < columns else 0)
            self._scale = 0.0  # tile fonts depend on how many there are
            self._apply_scale()
        for widget, tile in zip(self._tiles, tiles, strict=True):
            widget.show_tile(tile)

    def _render_clock(self) -> None:
        now = dt.datetime.now(self.tz)
        self.clock_label.setText(
            f"{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]} {now:%H:%M}"
        )

    def _when(self, entry: CallEntry | None) -> str:
        if entry is None or entry.at is None:
            return ""
        at = entry.at.astimezone(self.tz) if self.tz is not None and entry.at.tzinfo else entry.at
        return f"{at:%H:%M}"

    # --- scaling ------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale fonts to the height; keep the banner across the top."""
        super().resizeEvent(event)
        self._apply_scale()

    def _apply_scale(self) -> None:
        scale = round(max(self.height(), 360) / BASE_HEIGHT, 2)
        self.banner.setGeometry(0, 0, self.width(), int(96 * max(scale, 0.5)))
        if scale == self._scale:
            return
        self._scale = scale
        n = max(1, len(self._tiles))
        shrink = 1.0 if n <= 9 else 0.8 if n <= 16 else 0.65
        services = max(1, len(self._services))
        svc = 40 if services <= 6 else 32 if services <= 9 else 26

        def px(size: float) -> int:
            return max(8, round(size * scale))

        sizes = {f"s{n}": px(n) for n in (12, 16, 20, 30, 34, 38, 48, 54, 60, 80, 180)}
        self.setStyleSheet(
            STYLE.format(
                families=", ".join(f'"{f}"' if " " in f else f for f in FONT_FAMILIES),
                svc=px(svc),
                tile_title=px(34 * shrink),
                tile_state=px(30 * shrink),
                tile_name=px(26 * shrink),
                **sizes,
            )
        )
        font = QFont(list(FONT_FAMILIES[:-1]))
        font.setPixelSize(px(42))
        self.marquee.setFont(font)
        self.marquee.setFixedHeight(px(84))

    # --- what a test (or a person) reads off the screen ---------------------------------

    def hero_texts(self) -> tuple[str, str]:
        """The big call: (number, where to go)."""
        return self.hero_number.text(), self.hero_text.text()

    def highlighted(self) -> bool:
        """Is the newest call highlighted (flashing) right now?"""
        return self.hero.property("phase") in ("on", "off")

    def call_rows(self) -> list[str]:
        """The history list, newest first ("A011 → 2号窗口")."""
        return [row.text() for row in self.rows if row.text()]

    def window_texts(self) -> dict[int, str]:
        """Each window tile's state line."""
        return {
            t.number: w.state.text() for t, w in zip(self.state.windows, self._tiles, strict=True)
        }

    def window_modes(self) -> dict[int, WindowMode]:
        """Each window tile's colour (its mode)."""
        return {
            t.number: WindowMode(str(w.property("mode")))
            for t, w in zip(self.state.windows, self._tiles, strict=True)
        }

    def service_rows(self) -> list[tuple[str, str, str]]:
        """The waiting table's visible rows."""
        shown = self._services[: len(service_page(self.state.services, self._page)[0])]
        return [(a.text(), b.text(), c.text()) for a, b, c in shown]

    def banner_text(self) -> str | None:
        """The connection banner, or None when hidden."""
        return None if self.banner.isHidden() else self.banner.text()


def _distinct_name(tile: WindowTile) -> str:
    """The window's name, unless it only says its number ("3号窗口")."""
    return "" if tile.name in ("", f"{tile.number}号窗口") else tile.name


def _columns(n: int) -> int:
    return 2 if n <= 4 else 3 if n <= 9 else 4 if n <= 16 else 5
