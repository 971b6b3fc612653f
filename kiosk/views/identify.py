"""Identification (resident ID card or citizen card) and appointment check-in."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.presenter import IdentifyModel, KioskPresenter
from kiosk.views.common import button, label


class IdentifyView(QWidget):
    """请将身份证放在读卡区: the reader's prompt, its errors, and skip where allowed."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        self.presenter = presenter
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 64, 48, 48)
        outer.setSpacing(24)
        self.title = label("身份识别", "title", center=True)
        self.prompt = label("", "big", center=True)
        self.error = label("", "error", center=True)
        self.hint = label("", "hint", center=True)
        for widget in (self.title, self.prompt, self.error, self.hint):
            outer.addWidget(widget)
        outer.addStretch(1)
        self.skip_button = button("不刷卡，直接取号", "primary", name="skip")
        self.skip_button.clicked.connect(presenter.skip_identify)
        self.back_button = button("返回首页", name="back")
        self.back_button.clicked.connect(presenter.go_home)
        outer.addWidget(self.skip_button)
        outer.addWidget(self.back_button)
        presenter.identify_changed.connect(self.show_model)

    def show_model(self, model: IdentifyModel) -> None:
        """Show ``model``."""
        self.title.setText(model.title)
        self.prompt.setText(model.prompt)
        self.error.setText(model.error)
        self.error.setVisible(bool(model.error))
        self.hint.setText(model.hint)
        self.hint.setVisible(bool(model.hint))
        self.skip_button.setVisible(model.allow_skip)


class CheckinView(QWidget):
    """预约签到: show the appointment QR code to the camera, or place the ID card."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 64, 48, 48)
        outer.setSpacing(24)
        outer.addWidget(label("预约签到", "title", center=True))
        outer.addWidget(label("请将预约二维码对准下方摄像头", "big", center=True))
        outer.addWidget(label("或将居民身份证放在读卡区", "subtitle", center=True))
        outer.addWidget(
            label(
                "预约时段开始前两小时内可签到；迟到超过规定时间将按现场取号排队",
                "hint",
                center=True,
            )
        )
        outer.addStretch(1)
        back = button("返回首页", name="back")
        back.clicked.connect(presenter.go_home)
        outer.addWidget(back)
