"""The Qt binding keeps Python's reference counts right when signals are emitted.

PySide6 6.12.0 drops a reference to ``True`` on every ``Signal.emit`` and one to ``None`` on
slot calls. Python 3.12+ does not mind (``True`` and ``None`` are immortal there); on Python
3.11, Debian 12's, the process aborts with "Fatal Python error: bool_dealloc" after a few
hundred signals: a hall screen would die within minutes of opening. Use PySide6 < 6.12.
"""

from __future__ import annotations

import sys
import threading

import pytest

pytest.importorskip("PySide6.QtCore")

import PySide6
from PySide6.QtCore import QObject, Signal, Slot
from pytestqt.qtbot import QtBot


class Sender(QObject):
    fired = Signal(object)


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @Slot(object)
    def take(self, _value: object) -> None:
        self.count += 1


def test_emitting_signals_leaves_true_and_none_counted_right(qtbot: QtBot) -> None:
    sender, receiver = Sender(), Receiver()
    sender.fired.connect(receiver.take)
    before = sys.getrefcount(True), sys.getrefcount(None)

    def emit_from_a_thread() -> None:
        for i in range(20):
            sender.fired.emit(i)

    worker = threading.Thread(target=emit_from_a_thread)
    worker.start()
    worker.join(5)
    for i in range(20):
        sender.fired.emit(i)
    qtbot.waitUntil(lambda: receiver.count == 40, timeout=2000)
    after = sys.getrefcount(True), sys.getrefcount(None)
    lost = (before[0] - after[0], before[1] - after[1])
    assert max(lost) < 10, (
        f"PySide6 {PySide6.__version__} loses references on Signal.emit (True: {lost[0]}, "
        f"None: {lost[1]} in 40 signals); on Python {sys.version_info[0]}.{sys.version_info[1]} "
        "this aborts the process after a few hundred signals: use PySide6 < 6.12"
    )
