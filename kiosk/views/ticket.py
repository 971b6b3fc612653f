"""Printing, "take your ticket", the on-screen fallback ticket, and refusals."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk.model import PrintOutcome
from kiosk.presenter import KioskPresenter
from kiosk.views.common import button, label, pil_to_pixmap

QR_MODULE_PX = 10


class WorkingView(QWidget):
    """正在出票，请稍候."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        self.text = label("正在出票，请稍候…", "big", center=True)
        outer.addWidget(self.text)
        outer.addStretch(1)
        presenter.working_changed.connect(self.text.setText)


class TicketView(QWidget):
    """请取走您的号票, with the number and the queue ahead."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 64, 48, 48)
        outer.setSpacing(16)
        outer.addWidget(label("请取走您的号票", "title", center=True))
        self.service = label("", "subtitle", center=True)
        self.number = label("", "number", center=True)
        self.ahead = label("", "big", center=True)
        self.extra = label("", "hint", center=True)
        for widget in (self.service, self.number, self.ahead, self.extra):
            outer.addWidget(widget)
        outer.addStretch(1)
        done = button("完成", "primary", name="done")
        done.clicked.connect(presenter.go_home)
        outer.addWidget(done)
        presenter.ticket_changed.connect(self.show_model)

    def show_model(self, outcome: PrintOutcome) -> None:
        """Show the printed ticket's number."""
        t = outcome.ticket
        self.service.setText(t.service_name)
        self.number.setText(t.number)
        wait = f"，预计等候约 {t.wait_minutes} 分钟" if t.wait_minutes else ""
        self.ahead.setText(f"您前面还有 {t.ahead} 人{wait}")
        extra = [
            p for p in (t.priority_name and f"绿色通道：{t.priority_name}", t.masked_name) if p
        ]
        if t.appointment:
            extra = ["预约签到成功", *(p for p in extra if "预约" not in p)]
        self.extra.setText("　".join(extra))


class FallbackView(QWidget):
    """The printer failed: the number and QR on screen, to photograph or note down."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 48, 48, 48)
        outer.setSpacing(12)
        self.message = label("", "error", center=True)
        outer.addWidget(self.message)
        self.service = label("", "subtitle", center=True)
        self.number = label("", "number", center=True)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.lines = label("", "body", center=True)
        # Landscape: number and text on the left, the QR code on the right.
        wide = presenter.service.kiosk.orientation == "landscape"
        body = QHBoxLayout() if wide else QVBoxLayout()
        column = QVBoxLayout()
        for widget in (self.service, self.number, self.lines):
            column.addWidget(widget)
        column.addStretch(1)
        body.addLayout(column)
        body.addWidget(self.qr)
        outer.addLayout(body)
        outer.addStretch(1)
        done = button("我已记下号码", "primary", name="done")
        done.clicked.connect(presenter.go_home)
        outer.addWidget(done)
        presenter.ticket_changed.connect(self.show_model)

    def show_model(self, outcome: PrintOutcome) -> None:
        """Show the ticket that could not be printed."""
        from devices.ticket.render import qr_image

        t = outcome.ticket
        self.message.setText(outcome.message)
        self.service.setText(t.service_name)
        self.number.setText(t.number)
        self.qr.setPixmap(pil_to_pixmap(qr_image(t.qr_payload, QR_MODULE_PX)))
        skip = {t.number, t.service_name}
        self.lines.setText("\n".join(line for line in outcome.lines[1:] if line not in skip))


class MessageView(QWidget):
    """Why the kiosk cannot do what was asked, and the way back."""

    def __init__(self, presenter: KioskPresenter) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 64, 48, 48)
        outer.addStretch(1)
        self.text = label("", "big", center=True)
        outer.addWidget(self.text)
        outer.addStretch(1)
        back = button("返回首页", "primary", name="back")
        back.clicked.connect(presenter.go_home)
        outer.addWidget(back)
        presenter.message_changed.connect(self.text.setText)
