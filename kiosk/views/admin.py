"""The admin PIN pad and the admin screen: device status, test ticket, exit."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.ports import DeviceState
from kiosk.presenter import KioskPresenter
from kiosk.views.common import button, label

DEVICE_NAMES = (
    ("printer", "号票打印机"),
    ("id_reader", "身份证阅读器"),
    ("card_reader", "市民卡读卡器"),
    ("camera", "摄像头（预约码）"),
    ("center", "中心连接"),
)
MAX_PIN = 12


class PinView(QWidget):
    """A numeric pad; the PIN shows as dots and is checked off the GUI thread."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        self.presenter = presenter
        self.pin = ""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(160, 64, 160, 64)
        outer.setSpacing(16)
        self.message = label("请输入管理员密码", "subtitle", center=True)
        self.dots = label("", "big", center=True)
        outer.addWidget(self.message)
        outer.addWidget(self.dots)
        grid = QGridLayout()
        self.keys: dict[str, QPushButton] = {}
        for i, key in enumerate("123456789C0✓"):
            text = {"C": "清除", "✓": "确定"}.get(key, key)
            widget = button(text, "primary" if key == "✓" else "key", name=f"key-{key}")
            widget.clicked.connect(lambda _=False, k=key: self.press(k))
            self.keys[key] = widget
            grid.addWidget(widget, i // 3, i % 3)
        outer.addLayout(grid)
        back = button("返回首页", name="back")
        back.clicked.connect(presenter.go_home)
        outer.addWidget(back)
        presenter.pin_message.connect(self._message)
        presenter.screen_changed.connect(lambda _s: self._reset())

    def _reset(self) -> None:
        self.pin = ""
        self.dots.setText("")

    def _message(self, text: str) -> None:
        self.message.setText(text)
        self._reset()

    def press(self, key: str) -> None:
        """A key of the pad."""
        self.presenter.touch()
        if key == "C":
            self._reset()
        elif key == "✓":
            pin, self.pin = self.pin, ""
            self.dots.setText("")
            self.message.setText("正在验证…")
            self.presenter.submit_pin(pin)
        elif len(self.pin) < MAX_PIN:
            self.pin += key
            self.dots.setText("●" * len(self.pin))


class AdminView(QWidget):
    """Device status, a test ticket, and the way out of kiosk mode."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        self.presenter = presenter
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 48, 48, 48)
        outer.setSpacing(16)
        outer.addWidget(label("设备状态（管理员）", "title"))
        grid = QGridLayout()
        grid.setVerticalSpacing(18)
        grid.setColumnStretch(2, 1)
        self.rows: dict[str, tuple[QLabel, QLabel]] = {}
        for row, (key, name) in enumerate(DEVICE_NAMES):
            state, detail = label("—", "big"), label("", "hint")
            grid.addWidget(label(name, "subtitle"), row, 0)
            grid.addWidget(state, row, 1)
            grid.addWidget(detail, row, 2)
            self.rows[key] = (state, detail)
        outer.addLayout(grid)
        self.message = label("", "subtitle")
        outer.addWidget(self.message)
        outer.addStretch(1)
        bar = QHBoxLayout()
        self.test_button = button("打印测试票", "primary", name="test")
        self.test_button.clicked.connect(presenter.print_test)
        self.refresh_button = button("刷新", name="refresh")
        self.refresh_button.clicked.connect(presenter.poll_devices)
        bar.addWidget(self.test_button)
        bar.addWidget(self.refresh_button)
        outer.addLayout(bar)
        bar2 = QHBoxLayout()
        self.exit_button = button("退出程序", name="exit")
        self.exit_button.clicked.connect(presenter.exit_kiosk)
        self.back_button = button("返回首页", name="back")
        self.back_button.clicked.connect(presenter.go_home)
        bar2.addWidget(self.exit_button)
        bar2.addWidget(self.back_button)
        outer.addLayout(bar2)
        presenter.devices_changed.connect(self.show_model)
        presenter.admin_message.connect(self.message.setText)

    def show_model(self, states: dict[str, DeviceState]) -> None:
        """One row per device: 正常 / 故障 and what the driver says."""
        for key, (state, detail) in self.rows.items():
            s = states.get(key)
            if s is None:
                state.setText("—")
                detail.setText("")
                continue
            state.setText("正常" if s.available else ("未配置" if s.state == "missing" else "故障"))
            state.setStyleSheet("color: #1e8e3e;" if s.available else "color: #c0392b;")
            detail.setText(f"{s.state}  {s.detail}".strip())
