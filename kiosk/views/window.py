"""The kiosk window: one stacked widget of screens, kiosk mode, touches feed the idle timer."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QPaintEvent
from PySide6.QtWidgets import QApplication, QStackedWidget, QVBoxLayout, QWidget

from kiosk.presenter import KioskPresenter, Screen
from kiosk.views.admin import AdminView, PinView
from kiosk.views.common import ELDERLY_SCALE, stylesheet
from kiosk.views.home import HomeView
from kiosk.views.identify import CheckinView, IdentifyView
from kiosk.views.info import GreenView, InfoView
from kiosk.views.ticket import FallbackView, MessageView, TicketView, WorkingView

SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
TOUCH_EVENTS = frozenset(
    {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress}
)


class KioskWindow(QWidget):
    """All screens; in kiosk mode it has no frame and cannot be closed but by an admin."""

    first_frame = Signal()
    """Emitted once, after the first paint: the kiosk is interactive."""

    def __init__(
        self, presenter: KioskPresenter, orientation: str = "portrait", *, kiosk_mode: bool = True
    ) -> None:
        super().__init__()
        self.presenter = presenter
        self.orientation = orientation
        self.kiosk_mode = kiosk_mode
        self.allow_close = not kiosk_mode
        self._painted = False
        self.setWindowTitle(presenter.service.cfg.hall.name)
        self.resize(*SIZES.get(orientation, SIZES["portrait"]))
        if kiosk_mode:
            self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.Window)
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        columns = 2 if orientation == "portrait" else 3
        self.home = HomeView(presenter, columns)
        self.info = InfoView(presenter)
        self.identify = IdentifyView(presenter)
        self.green = GreenView(presenter)
        self.checkin = CheckinView(presenter)
        self.working = WorkingView(presenter)
        self.ticket = TicketView(presenter)
        self.fallback = FallbackView(presenter)
        self.message = MessageView(presenter)
        self.pin = PinView(presenter)
        self.admin = AdminView(presenter)
        self.views: dict[Screen, QWidget] = {
            Screen.HOME: self.home,
            Screen.INFO: self.info,
            Screen.IDENTIFY: self.identify,
            Screen.GREEN: self.green,
            Screen.CHECKIN: self.checkin,
            Screen.WORKING: self.working,
            Screen.TICKET: self.ticket,
            Screen.FALLBACK: self.fallback,
            Screen.MESSAGE: self.message,
            Screen.PIN: self.pin,
            Screen.ADMIN: self.admin,
        }
        for view in self.views.values():
            self.stack.addWidget(view)
        self.setStyleSheet(stylesheet())
        presenter.screen_changed.connect(self.show_screen)
        presenter.elderly_changed.connect(self._elderly)
        presenter.exit_requested.connect(self._exit)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # removed by Qt when this window is destroyed
        self.show_screen(presenter.screen)

    @property
    def current(self) -> QWidget:
        """The screen shown now."""
        widget = self.stack.currentWidget()
        assert widget is not None
        return widget

    def show_screen(self, screen: Screen) -> None:
        """Bring ``screen`` to the front."""
        self.stack.setCurrentWidget(self.views[screen])

    def _elderly(self, on: bool) -> None:
        self.setStyleSheet(stylesheet(ELDERLY_SCALE if on else 1.0))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Any touch restarts the idle timer."""
        if event.type() in TOUCH_EVENTS:
            self.presenter.touch()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint; the first time, tell whoever waits for the first frame."""
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_frame.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Escape and the like do nothing in kiosk mode."""
        if not self.kiosk_mode:
            super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Refuse to close in kiosk mode unless an admin asked for it."""
        if self.allow_close:
            event.accept()
        else:
            event.ignore()

    def _exit(self) -> None:
        self.allow_close = True
        self.close()

    def quit(self) -> None:
        """Close this window and end the application (admin exit, ``--quit-after``)."""
        self._exit()
        app = QApplication.instance()
        if app is not None:
            app.quit()
