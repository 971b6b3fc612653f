"""Render the hall screen with a scripted hall and take real screenshots of the X display.

    DISPLAY=:N QT_QPA_PLATFORM=xcb python -m tests.screen.shot --out hall_screen.png \
        [--offline-out hall_screen_offline.png]

Shows the screen full screen, grabs the whole X screen (what a person would see on the TV),
and prints a JSON line: the font family Qt resolved for the screen's text and the characters
on screen that this font cannot draw (should be none).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from PySide6.QtGui import QFontInfo, QFontMetrics, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from devices.client.models import HallStatus, RecentCall, ServiceStatus, WindowState
from devices.client.stream import StreamEvent, StreamState, StreamStatus
from display.screen.app import build_screen
from display.screen.model import LINK_DOWN, Link, ModelOptions, Snapshot
from display.screen.view import ScreenView
from tests.center.conftest import MONDAY_9, hall_dict

NOTICE = "办理不动产登记、社保业务请携带身份证原件；老年人、残疾人、军人、孕妇可走绿色通道。"


class Idle:
    """A source and reader that are never started: the script feeds the presenter itself."""

    status = StreamStatus(StreamState.STOPPED, None, 0)

    def start(self, *_args: object) -> None:
        pass

    def stop(self) -> None:
        pass

    def hall_status(self) -> HallStatus:
        raise NotImplementedError

    def recent_calls(self, limit: int = 10) -> list[RecentCall]:
        raise NotImplementedError

    def heartbeat(self) -> None:
        pass


def scripted_hall() -> tuple[HallStatus, list[StreamEvent]]:
    """A morning in the hall: six windows, a few calls, one paused, one absent."""
    services = [
        ServiceStatus("tax", "税务", 6, 80, 2, 6 * 600 / 2),
        ServiceStatus("hukou", "户籍", 0, 90, 1, 0.0),
        ServiceStatus("estate", "不动产登记", 3, 2, 0, None),
    ]
    windows = [
        WindowState(1, "1号窗口", "open", "A011", None),
        WindowState(2, "2号窗口", "open", "B004", None),
        WindowState(3, "3号窗口", "paused", None, "临时离岗 10分钟"),
        WindowState(4, "4号窗口", "open", None, None),
        WindowState(5, "5号窗口", "closed", None, None),
        WindowState(6, "6号窗口", "open", "C002", None),
    ]
    calls = [("A009", 1), ("B003", 2), ("C002", 6), ("A010", 4), ("B004", 2), ("A011", 1)]
    events = [
        StreamEvent(
            100 + i,
            "ticket.called",
            MONDAY_9 + dt.timedelta(minutes=3 * i),
            w,
            None,
            {"number": n, "service": "tax"},
            stale=i < len(calls) - 1,
        )
        for i, (n, w) in enumerate(calls)
    ]
    return HallStatus(MONDAY_9, True, "", services, windows), events


def missing_glyphs(view: ScreenView) -> tuple[str, list[str]]:
    """The font family of the screen's labels and the characters it cannot draw."""
    labels = view.findChildren(QLabel)
    family = QFontInfo(labels[0].font()).family()
    missing: set[str] = set()
    for label in labels:
        metrics = QFontMetrics(label.font())
        missing |= {
            ch for ch in label.text() if ord(ch) > 0x2E80 and not metrics.inFontUcs4(ord(ch))
        }
    return family, sorted(missing)


def grab(path: Path) -> None:
    """The whole X screen, as a person would see it."""
    screen = QGuiApplication.primaryScreen()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not screen.grabWindow(0).save(str(path)):
        raise SystemExit(f"could not save {path}")


def settle(view: ScreenView, ms: int = 300) -> None:
    """Let the X server show what was drawn (bounded)."""
    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        QApplication.processEvents()
        QTest.qWait(20)
    view.repaint()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--offline-out", type=Path)
    args = p.parse_args()
    app = QApplication(sys.argv[:1])
    from config.schema import HallConfig

    data = hall_dict()
    data["windows"] += [
        {"number": n, "name": f"{n}号窗口", "window_class": "specialist", "services": ["tax"]}
        for n in (4, 5, 6)
    ]
    cfg = HallConfig.model_validate(data)
    idle = Idle()
    screen = build_screen(cfg, idle, idle, notice=NOTICE, model_options=ModelOptions(flash_s=3600))
    view = screen.view
    view._timer.stop()  # the shot shows one phase of the flashing: keep it still
    status, events = scripted_hall()
    screen.presenter.on_snapshot(Snapshot(99, status))
    for event in events:
        screen.presenter.on_event(event)
    screen.presenter.on_link(Link(True))
    while view.hero.property("phase") != "on":
        view.tick()
    view.showFullScreen()
    if not QTest.qWaitForWindowExposed(view, 5000):
        raise SystemExit("the window was never shown")
    settle(view)
    grab(args.out)
    if args.offline_out is not None:
        screen.presenter.on_link(Link(False, LINK_DOWN))
        settle(view)
        grab(args.offline_out)
    family, missing = missing_glyphs(view)
    size = view.screen().size()
    sys.stdout.write(json.dumps({"family": family, "missing": missing,
                                 "screen": [size.width(), size.height()]}) + "\n")  # fmt: skip
    view.close()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
