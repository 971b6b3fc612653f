"""The feed: stream events and status reads from worker threads, delivered in the GUI thread."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QObject, Slot
from pytestqt.qtbot import QtBot

from config.schema import HallConfig
from devices.client.models import RecentCall, WindowState
from display.screen.feed import FeedOptions, ScreenFeed
from display.screen.model import (
    LINK_DOWN,
    LINK_STARTING,
    ScreenModel,
    ScreenState,
    Snapshot,
    WindowMode,
)
from display.screen.presenter import ScreenPresenter
from tests.center.conftest import MONDAY_9
from tests.screen.conftest import FakeClock, FakeReader, FakeSource, called, ev, hall_status

FAST = FeedOptions(refresh_s=30.0, min_refresh_s=0.02, retry_s=0.05, link_check_s=0.02)


class ThreadCheck(QObject):
    """Records in which thread each event arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.in_main: list[bool] = []

    @Slot(object)
    def seen(self, _event: object) -> None:
        self.in_main.append(threading.current_thread() is threading.main_thread())


class Rig:
    def __init__(
        self, hall: HallConfig, source: FakeSource, reader: FakeReader, clock: FakeClock
    ) -> None:
        self.source, self.reader = source, reader
        self.feed = ScreenFeed(source, reader, FAST)
        self.presenter = ScreenPresenter(ScreenModel.from_config(hall), clock)
        self.presenter.attach(self.feed)
        self.threads = ThreadCheck()
        self.feed.event_received.connect(self.threads.seen)

    @property
    def state(self) -> ScreenState:
        return self.presenter.state


@pytest.fixture
def rig(
    hall: HallConfig, source: FakeSource, reader: FakeReader, clock: FakeClock
) -> Iterator[Rig]:
    r = Rig(hall, source, reader, clock)
    r.feed.start()
    yield r
    r.feed.stop()


def test_before_the_first_connection_the_screen_says_it_is_connecting(
    rig: Rig, qtbot: QtBot
) -> None:
    qtbot.waitUntil(lambda: rig.feed.link is not None, timeout=2000)
    assert rig.state.link_message == LINK_STARTING
    assert not rig.state.center_available
    assert rig.reader.reads == 0, "no status read while the center is not there"


def test_connecting_reads_status_and_recent_calls_tagged_with_the_head(
    rig: Rig, qtbot: QtBot
) -> None:
    rig.reader.status = hall_status(
        windows=[WindowState(2, "2号窗口", "paused", None, "会议")], waiting={"tax": 2}
    )
    rig.reader.recent = [RecentCall("A004", 1, "1号窗口", "next", MONDAY_9)]

    def with_recent(snap: Snapshot) -> bool:
        return snap.recent is not None

    with qtbot.waitSignal(
        rig.feed.snapshot_received, timeout=2000, check_params_cb=with_recent
    ) as got:
        rig.source.connect(head=41)
    snapshot = got.args[0]
    assert isinstance(snapshot, Snapshot)
    assert (snapshot.mark, [c.number for c in snapshot.recent or []]) == (41, ["A004"])
    qtbot.waitUntil(lambda: rig.state.center_available, timeout=2000)
    tile = rig.state.window(2)
    assert tile is not None and (tile.mode, tile.pause_reason) == (WindowMode.PAUSED, "会议")
    assert rig.state.services[0].waiting == 2


def test_events_from_the_stream_thread_reach_the_model_in_the_gui_thread(
    rig: Rig, qtbot: QtBot
) -> None:
    rig.source.connect(head=0)
    rig.source.emit(*(called(i, f"A{i:03d}", 1 + i % 3, minute=i) for i in range(1, 6)))
    qtbot.waitUntil(lambda: rig.state.last_seq == 5, timeout=2000)
    assert [c.number for c in rig.state.calls] == ["A005", "A004", "A003", "A002", "A001"]
    assert rig.threads.in_main == [True] * 5


def test_a_window_event_makes_the_feed_read_the_status_soon(rig: Rig, qtbot: QtBot) -> None:
    rig.source.connect(head=0)
    qtbot.waitUntil(lambda: rig.reader.recent_reads == 1, timeout=2000)
    reads = rig.reader.reads
    rig.reader.status = hall_status(waiting={"hukou": 3})
    rig.source.emit(ev(1, "window.opened", 2, staff="1003"))
    qtbot.waitUntil(lambda: rig.state.services[1].waiting == 3, timeout=2000)
    assert rig.reader.reads > reads
    assert rig.reader.recent_reads == 1, "recent calls are read once per connection"


def test_a_lost_connection_shows_the_banner_and_a_new_one_clears_it(rig: Rig, qtbot: QtBot) -> None:
    rig.source.connect(head=0)
    qtbot.waitUntil(lambda: rig.state.center_available, timeout=2000)
    rig.source.drop()
    qtbot.waitUntil(lambda: not rig.state.center_available, timeout=2000)
    assert rig.state.link_message == LINK_DOWN
    rig.source.connect(head=3)
    qtbot.waitUntil(lambda: rig.state.center_available, timeout=2000)
    qtbot.waitUntil(lambda: rig.reader.recent_reads == 2, timeout=2000)  # read again


def test_a_failing_status_read_is_retried_and_never_raises(
    rig: Rig, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    rig.reader.failing = True
    rig.source.connect(head=0)
    qtbot.waitUntil(lambda: rig.reader.reads >= 3, timeout=2000)
    assert caplog.text.count("reading the hall status failed") == 1, "logged once per outage"
    rig.reader.status = hall_status(waiting={"estate": 5})
    rig.reader.failing = False
    qtbot.waitUntil(lambda: rig.state.services[2].waiting == 5, timeout=2000)
    assert rig.reader.recent_reads >= 1


def test_replayed_events_after_a_reconnect_are_applied_once(rig: Rig, qtbot: QtBot) -> None:
    """GIVEN calls 1..3 shown, WHEN the source reconnects and repeats 2..3 before 4,
    THEN the screen lists 1..4 once each."""
    rig.source.connect(head=0)
    rig.source.emit(*(called(i, f"A{i:03d}", 1, minute=i) for i in (1, 2, 3)))
    rig.source.drop()
    rig.source.connect(head=4)
    rig.source.emit(*(called(i, f"A{i:03d}", 1, minute=i) for i in (2, 3, 4)))
    qtbot.waitUntil(lambda: rig.state.last_seq == 4, timeout=2000)
    assert [c.number for c in rig.state.calls] == ["A004", "A003", "A002", "A001"]
    assert rig.presenter.model.counters.ignored == 2


def test_stop_ends_the_refresher_and_the_stream(
    hall: HallConfig, source: FakeSource, reader: FakeReader, clock: FakeClock
) -> None:
    rig = Rig(hall, source, reader, clock)
    rig.feed.start()
    rig.feed.stop()
    assert source.stopped
    assert not any(t.name == "hallq-screen-feed" for t in threading.enumerate())


def test_status_times_are_kept_as_the_center_sends_them(rig: Rig, qtbot: QtBot) -> None:
    at = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
    rig.reader.status = hall_status()
    object.__setattr__(rig.reader.status, "at", at)
    rig.source.connect(head=0)
    qtbot.waitUntil(lambda: rig.state.status_at == at, timeout=2000)


def test_while_the_center_is_away_the_refresher_checks_at_its_pace(rig: Rig, qtbot: QtBot) -> None:
    """GIVEN a status read due (none made yet) and no link (the center is down at start),
    THEN the refresher does not spin: ten rounds take at least ten ``link_check_s``."""
    start, checks = time.monotonic(), rig.feed.checks
    qtbot.waitUntil(lambda: rig.feed.checks >= checks + 10, timeout=2000)
    assert time.monotonic() - start >= 9 * FAST.link_check_s
