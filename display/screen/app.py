"""``hallq screen``: the hall's call screen on a TV, full screen until SIGINT or SIGTERM.

    hallq screen --config HALL.toml --center http://center:8470 --token-file display.tokens
                 [--windowed] [--notice TEXT] [--show-names] [--flash-seconds 6]
                 [--state-dir DIR] [--log-level INFO]

The token file is the display controller's (``display/reports.py``): a single bare token or
a ``display TOKEN`` line. The token goes in the event stream's first message and in the
``Authorization`` header, never in a URL. With ``--state-dir`` the stream's last seq is kept
on disk, so a restarted screen replays what it missed instead of starting from the center's
snapshot. Exit status: 0 after a signal or closing the window, 2 for a bad config or token
file, 3 when Qt is not installed.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from config.loader import ConfigError, load
from config.schema import HallConfig
from devices.client import CenterClient, RetryPolicy
from devices.client.stream import EventStream
from display.reports import DeviceTokens, TokenFileError
from display.screen.model import ModelOptions, ScreenModel

if TYPE_CHECKING:
    from display.screen.feed import EventSource, FeedOptions, ScreenFeed, StatusReader
    from display.screen.presenter import ScreenPresenter
    from display.screen.view import ScreenView

log = logging.getLogger(__name__)

FRESH_GAP_S = 60.0
"""A call replayed after the screen lost the center for longer than this does not flash."""
QT_MISSING = "hallq screen needs PySide6: pip install 'hallq[display]'"


@dataclass
class Screen:
    """The screen's parts, wired: feed → presenter → view."""

    model: ScreenModel
    presenter: ScreenPresenter
    feed: ScreenFeed
    view: ScreenView

    def start(self) -> None:
        """Subscribe to the center (the view shows "connecting" until it answers)."""
        self.feed.start()

    def stop(self) -> None:
        """Stop the stream and the refresher."""
        self.feed.stop()


def default_notice(cfg: HallConfig) -> str:
    """The notice line when none is given."""
    return f"欢迎来到{cfg.hall.name}。请留意叫号，听到叫号请到相应窗口办理。"


def build_screen(
    cfg: HallConfig,
    source: EventSource,
    reader: StatusReader,
    *,
    notice: str | None = None,
    model_options: ModelOptions | None = None,
    feed_options: FeedOptions | None = None,
    clock: Callable[[], float] | None = None,
) -> Screen:
    """The screen of ``cfg``'s hall over ``source`` and ``reader`` (nothing started)."""
    import time

    from display.screen.feed import ScreenFeed
    from display.screen.presenter import ScreenPresenter
    from display.screen.view import ScreenView

    clock = clock or time.monotonic
    model = ScreenModel.from_config(
        cfg, notice=default_notice(cfg) if notice is None else notice, options=model_options
    )
    presenter = ScreenPresenter(model, clock)
    feed = ScreenFeed(source, reader, feed_options)
    view = ScreenView(clock, tz=_zone(cfg.hall.timezone))
    presenter.attach(feed)
    presenter.changed.connect(view.show_state)
    view.show_state(presenter.state)
    return Screen(model, presenter, feed, view)


def connect_center(
    center_url: str, token: str, state_dir: Path | None = None
) -> tuple[EventStream, CenterClient]:
    """The event stream and HTTP client of a display device."""
    from display.screen.feed import SCREEN_KINDS

    position = state_dir / "screen-position.json" if state_dir is not None else None
    stream = EventStream(
        center_url,
        token,
        position=position,
        kinds=SCREEN_KINDS,
        fresh_gap_s=FRESH_GAP_S,
        backoff_cap_s=2.0,
    )
    client = CenterClient(center_url, token, timeout=3.0, retry=RetryPolicy(attempts=1))
    return stream, client


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        log.warning("unknown time zone %r: showing times as the center sends them", name)
        return None


def parser() -> argparse.ArgumentParser:
    """Arguments of ``hallq screen``."""
    p = argparse.ArgumentParser(prog="hallq screen", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="the hall file")
    p.add_argument("--center", required=True, help="the center's URL, e.g. http://127.0.0.1:8470")
    p.add_argument("--token-file", required=True, help="the display's token file")
    p.add_argument("--windowed", action="store_true", help="a 1920×1080 window, not full screen")
    p.add_argument("--notice", help="the scrolling notice line (default: a welcome)")
    p.add_argument("--show-names", action="store_true", help="show masked names with calls")
    p.add_argument("--flash-seconds", type=float, default=6.0, help="a new call flashes this long")
    p.add_argument("--state-dir", type=Path, help="keep the stream position here")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hallq screen``; returns the exit status."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a status read every few seconds
    try:
        cfg = load(args.config)
        token = DeviceTokens.load(args.token_file).display
    except (ConfigError, TokenFileError) as exc:
        sys.stderr.write(f"hallq screen: {exc}\n")
        return 2
    try:
        from PySide6.QtCore import Qt, QTimer
        from PySide6.QtWidgets import QApplication
    except ImportError:
        sys.stderr.write(f"{QT_MISSING}\n")
        return 3
    app = QApplication.instance() or QApplication(["hallq-screen"])
    stream, client = connect_center(args.center, token, args.state_dir)
    screen = build_screen(
        cfg,
        stream,
        client,
        notice=args.notice,
        model_options=ModelOptions(flash_s=args.flash_seconds, show_names=args.show_names),
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        QTimer.singleShot(0, app.quit)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    wake = QTimer()  # lets Python run its signal handlers while Qt's loop waits
    wake.timeout.connect(lambda: None)
    wake.start(200)
    if args.windowed:
        screen.view.resize(1920, 1080)
        screen.view.show()
    else:
        QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
        screen.view.showFullScreen()
    screen.start()
    try:
        return int(app.exec())
    finally:
        screen.stop()
        client.close()


if __name__ == "__main__":
    sys.exit(main())
