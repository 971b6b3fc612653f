"""Home: services grouped by window class, with people waiting and the estimated wait."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.model import HomeModel, ServiceTile
from kiosk.presenter import KioskPresenter
from kiosk.views.common import button, label, new_body, scroll_area

ELDERLY_TILES = 6
"""Elderly mode shows this many services, the busiest first (fewer, bigger choices)."""


class _TapLabel(QWidget):
    """The hall name; touches count towards the hidden admin gesture."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        self.presenter = presenter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = label("", "title", center=True)
        layout.addWidget(self.text)

    def mousePressEvent(self, event: object) -> None:
        self.presenter.admin_tap()


class TileButton(QPushButton):
    """A service tile: the name (wrapped) and a line of figures or why it is closed."""

    def __init__(self, name: str, detail: str, code: str, enabled: bool = True) -> None:
        super().__init__()
        self.setProperty("role", "tile")
        self.setObjectName(f"tile-{code}")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 12, 20, 12)
        self.name = label(name, "tile" if enabled else "tileoff")
        self.detail = label(detail, "tilenote")
        for part in (self.name, self.detail):
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            part.setStyleSheet("background: transparent;")
            layout.addWidget(part)
        self.detail.setVisible(bool(detail))
        self.setEnabled(enabled)

    def text(self) -> str:  # the button's text, as a plain QPushButton would have it
        return "\n".join(w.text() for w in (self.name, self.detail) if w.text())

    def sizeHint(self) -> QSize:
        layout = self.layout()
        hint = layout.sizeHint() if layout is not None else QSize(300, 140)
        return QSize(max(300, hint.width()), max(self.minimumHeight(), hint.height()))


class HomeView(QWidget):
    """The home screen."""

    def __init__(self, presenter: KioskPresenter, columns: int = 2) -> None:
        super().__init__()
        self.presenter = presenter
        self.columns = columns
        self.buttons: dict[str, QPushButton] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 24, 32, 24)
        outer.setSpacing(16)
        self.hall = _TapLabel(presenter)
        outer.addWidget(self.hall)
        self.subtitle = label("请选择您要办理的业务", "subtitle", center=True)
        outer.addWidget(self.subtitle)
        self.notice = label("", "notice", center=True)
        self.notice.hide()
        outer.addWidget(self.notice)
        self.scroller = scroll_area()
        outer.addWidget(self.scroller, 1)
        bar = QHBoxLayout()
        self.checkin_button = button("预约签到", "primary", name="checkin")
        self.checkin_button.clicked.connect(presenter.check_in)
        self.elderly_button = button("长者模式", "green", name="elderly")
        self.elderly_button.clicked.connect(lambda: presenter.set_elderly(not presenter.elderly))
        bar.addWidget(self.checkin_button)
        bar.addWidget(self.elderly_button)
        outer.addLayout(bar)
        presenter.home_changed.connect(self.show_model)
        presenter.elderly_changed.connect(lambda _on: self.show_model(presenter.home_model))
        self.show_model(presenter.home_model)

    def tile_button(self, code: str) -> QPushButton:
        """The button of service ``code`` (for tests)."""
        return self.buttons[code]

    def show_model(self, model: HomeModel) -> None:
        """Show ``model``."""
        elderly = self.presenter.elderly
        self.hall.text.setText(model.hall_name)
        self.elderly_button.setText("退出长者模式" if elderly else "长者模式")
        self.checkin_button.setVisible(not elderly)
        notice = model.notice if not model.open_for_tickets else ""
        self.notice.setText(notice)
        self.notice.setVisible(bool(notice))
        self.buttons = {}
        _body, layout = new_body(self.scroller)
        if elderly:
            tiles = sorted((t for t in model.tiles if t.enabled), key=lambda t: -(t.waiting or 0))
            self._grid(layout, tiles[:ELDERLY_TILES], 1)
            layout.addWidget(
                label("更多业务请退出长者模式，或咨询导办台工作人员", "hint", center=True)
            )
        else:
            for group in model.groups:
                layout.addWidget(label(group.name, "group"))
                self._grid(layout, list(group.tiles), self.columns)
        layout.addStretch(1)

    def _grid(self, layout: QVBoxLayout, tiles: list[ServiceTile], columns: int) -> None:
        grid = QGridLayout()
        grid.setSpacing(12)
        for i, tile in enumerate(tiles):
            widget = self._tile(tile)
            grid.addWidget(widget, i // columns, i % columns)
        layout.addLayout(grid)

    def _tile(self, tile: ServiceTile) -> QPushButton:
        detail = tile.summary if tile.enabled else ""
        if tile.note:
            detail = f"{detail}　{tile.note}" if detail else tile.note
        widget = TileButton(tile.name, detail, tile.code, tile.enabled)
        widget.clicked.connect(lambda _=False, code=tile.code: self.presenter.choose_service(code))
        self.buttons[tile.code] = widget
        return widget
