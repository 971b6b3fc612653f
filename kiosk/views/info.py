"""Service information (八公开 / 十公开) before a ticket is taken, and the green channel."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk.model import ServiceInfo
from kiosk.presenter import KioskPresenter
from kiosk.views.common import button, label, new_body, scroll_area


class InfoView(QWidget):
    """The published facts of the chosen service, with 取号 / 刷卡取号 / 绿色通道."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        self.presenter = presenter
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 24, 32, 24)
        outer.setSpacing(12)
        self.title = label("", "title")
        self.subtitle = label("", "subtitle")
        outer.addWidget(self.title)
        outer.addWidget(self.subtitle)
        self.scroller = scroll_area()
        outer.addWidget(self.scroller, 1)
        self.take_button = button("取号", "primary", name="take")
        self.take_button.clicked.connect(presenter.take_ticket)
        self.identify_button = button("刷身份证取号", name="identify")
        self.identify_button.clicked.connect(presenter.identify)
        self.green_button = button("绿色通道", "green", name="green")
        self.green_button.clicked.connect(presenter.green_channel)
        self.back_button = button("返回", name="back")
        self.back_button.clicked.connect(presenter.go_home)
        outer.addWidget(self.take_button)
        row = QHBoxLayout()
        for widget in (self.identify_button, self.green_button, self.back_button):
            row.addWidget(widget)
        outer.addLayout(row)
        presenter.info_changed.connect(self.show_model)

    def show_model(self, info: ServiceInfo) -> None:
        """Show ``info``."""
        self.title.setText(info.name)
        self.subtitle.setText("　".join(p for p in (info.department, info.item_type) if p))
        self.body, layout = new_body(self.scroller, 4)
        if not info.sections:
            layout.addWidget(label("本业务的办事指南请咨询窗口工作人员", "hint"))
        for title, text in info.sections:
            layout.addWidget(label(title, "section"))
            layout.addWidget(label(text))
        layout.addStretch(1)
        self.take_button.setText("刷身份证取号" if info.id_required else "取号")
        self.identify_button.setVisible(not info.id_required)
        self.green_button.setVisible(bool(info.green_classes))


class GreenView(QWidget):
    """Green-channel classes the citizen may choose (hall policy)."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        self.presenter = presenter
        self.buttons: dict[str, QPushButton] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 48, 48, 48)
        outer.setSpacing(20)
        outer.addWidget(label("绿色通道", "title", center=True))
        outer.addWidget(
            label("以下人员可优先办理，请如实选择，工作人员将核验", "subtitle", center=True)
        )
        self.scroller = scroll_area()
        outer.addWidget(self.scroller, 1)
        back = button("返回", name="back")
        back.clicked.connect(presenter.go_home)
        outer.addWidget(back)
        presenter.green_changed.connect(self.show_model)

    def show_model(self, classes: list[tuple[str, str]]) -> None:
        """One button per class."""
        self.buttons = {}
        _body, layout = new_body(self.scroller, 16)
        for code, name in classes:
            widget = button(name, "green", name=f"green-{code}")
            widget.clicked.connect(lambda _=False, c=code: self.presenter.choose_green(c))
            self.buttons[code] = widget
            layout.addWidget(widget)
