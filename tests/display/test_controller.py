"""The controller against the simulated bus over real ptys, with an in-process event source.

GIVEN a hall of three windows on one simulated hallbus bus, WHEN center events are fed in,
THEN the right frames reach the right addresses; key presses and ratings on the simulated
devices become reports; a port pulled out and put back is driven again within 2 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.schema import HallConfig
from devices.bus import DeviceKind, Effect, Key, PortState, Rating
from devices.hallbus.sim import SimBus
from display.announcer import Announcer, WavFileSink
from display.cli import build_buses
from display.controller import ControllerOptions, DisplayController
from display.simbus import SimHall
from display.voice import AnnouncementBuilder
from tests.display.conftest import (
    FakeReader,
    FakeSource,
    RecordingReports,
    ToneSynthesizer,
    event_time,
    wait_for,
)


@dataclass
class Rig:
    sim: SimHall
    controller: DisplayController
    source: FakeSource
    reports: RecordingReports
    reader: FakeReader
    announcer: Announcer
    voice_dir: Path

    def strip(self, window: int):  # type: ignore[no-untyped-def]
        return self.sim.device(DeviceKind.WINDOW_STRIP, window)

    def board(self):  # type: ignore[no-untyped-def]
        return self.sim.device(DeviceKind.HALL_BOARD)


@pytest.fixture
def rig(hall_cfg: HallConfig, sim_dir: Path, tmp_path: Path) -> Iterator[Rig]:
    sim = SimHall(hall_cfg, sim_dir)
    source, reports = FakeSource(), RecordingReports()
    reader = FakeReader(queues=[("税务", 4), ("户籍", 0)])
    voice_dir = tmp_path / "voice"
    announcer = Announcer(AnnouncementBuilder(ToneSynthesizer(), repeat=1), WavFileSink(voice_dir))
    options = ControllerOptions(
        flash_s=0.3, waiting_interval_s=0.05, housekeeping_s=0.05, offline_grace_s=0.3
    )
    controller = DisplayController(
        hall_cfg,
        build_buses(hall_cfg, sim_dir, reprobe_s=0.3),
        source,
        reports,
        reader,
        announcer,
        options,
    )
    with sim:
        controller.start()
        try:
            assert wait_for(lambda: controller.status().ports["hall"] is PortState.OPEN)
            yield Rig(sim, controller, source, reports, reader, announcer, voice_dir)
        finally:
            controller.stop()


def test_a_call_shows_on_its_strip_keypad_and_the_hall_board(rig: Rig) -> None:
    rig.source.emit("window.opened", 3, staff="1005")
    rig.source.emit("ticket.called", 3, number="A012", service="tax", staff="1005")
    strip = rig.strip(3)
    assert wait_for(lambda: strip.shown == ("A012 请到3号窗口", "税务"))
    assert strip.effect is Effect.FLASH
    assert wait_for(lambda: rig.board().shown == ("A012 请到3号窗口",))
    assert wait_for(lambda: rig.sim.device(DeviceKind.KEYPAD, 3).shown == "A012")
    assert wait_for(lambda: rig.sim.device(DeviceKind.EVALUATOR, 3).staff == ("员工5", "1005", 5))
    # the flash settles; the other strips never showed the call
    assert wait_for(lambda: strip.effect is Effect.STEADY, timeout=3)
    assert rig.strip(1).shown == ("1号窗口", "暂停服务")
    assert rig.strip(2).shown == ("2号窗口", "暂停服务")
    # the board's notice carries the queue lengths read from the center
    assert wait_for(lambda: rig.board().notice == "等候人数: 税务 4人")


def test_the_board_keeps_the_latest_calls_newest_first(rig: Rig) -> None:
    for window, number in [(1, "A001"), (2, "B001"), (3, "C001"), (1, "A002"), (2, "B002")]:
        rig.source.emit("ticket.called", window, number=number, service="tax")
    rig.source.emit("ticket.recalled", 3, number="C001", service="estate")
    expected = ("C001 请到3号窗口", "B002 请到2号窗口", "A002 请到1号窗口", "B001 请到2号窗口")
    assert wait_for(lambda: rig.board().shown == expected)


def test_pause_close_and_handover_show_on_the_strip(rig: Rig) -> None:
    strip = rig.strip(2)
    rig.source.emit("window.opened", 2, staff="1003")
    assert wait_for(lambda: strip.shown == ("2号窗口", "2号窗口"))
    rig.source.emit("window.paused", 2, reason="取材料")
    assert wait_for(lambda: strip.shown == ("2号窗口", "暂停: 取材料"))
    rig.source.emit("window.resumed", 2)
    rig.source.emit("window.handover", 2, from_staff="1003", to_staff="1004", covering_for="1003")
    assert wait_for(lambda: strip.shown == ("2号窗口", "A岗外出 B岗代办"))
    assert wait_for(lambda: rig.sim.device(DeviceKind.EVALUATOR, 2).staff == ("员工4", "1004", 5))
    rig.source.emit("window.closed", 2, staff="1004")
    assert wait_for(lambda: strip.shown == ("2号窗口", "暂停服务"))


def test_calls_are_announced_once_each_and_stale_ones_not(rig: Rig) -> None:
    rig.source.emit("ticket.called", 1, number="A001", service="tax")
    rig.source.emit("ticket.called", 2, number="B001", service="hukou", stale=True)
    assert wait_for(lambda: len(rig.announcer.history) == 1)
    rig.source.emit("ticket.recalled", 1, number="A001", service="tax")
    assert wait_for(lambda: len(rig.announcer.history) == 2)
    assert rig.announcer.wait_idle(5)
    assert wait_for(lambda: rig.strip(2).shown[:1] == ("B001 请到2号窗口",))
    played = rig.announcer.history
    assert [p.announcement.text for p in played] == ["请A零零一号到一号窗口办理"] * 2
    assert all(p.error == "" and p.latency is not None and p.latency < 1 for p in played)
    assert len(list(rig.voice_dir.glob("*.wav"))) == 2


def test_keypad_keys_become_center_key_presses(rig: Rig) -> None:
    rig.sim.press(2, Key.CALL_NEXT)
    assert wait_for(lambda: rig.reports.of("key") == [("key", 2, "next", {})])
    rig.source.emit("ticket.called", 2, number="B003", service="hukou")
    assert wait_for(lambda: rig.controller.view.window(2).current == "B003")
    for key in (Key.RECALL, Key.PAUSE, Key.RESUME, Key.INVITE_EVALUATION, Key.SKIP, Key.CALL_NEXT):
        rig.sim.press(2, key)
    names = ["next", "recall", "pause", "resume", "evaluate", "skip", "finish", "next"]
    assert wait_for(lambda: [c[2] for c in rig.reports.of("key")] == names)
    assert {c[1] for c in rig.reports.of("key")} == {2}


def test_keys_the_center_cannot_take_beep_and_report_nothing(rig: Rig) -> None:
    pad = rig.sim.device(DeviceKind.KEYPAD, 1)
    rig.sim.press(1, Key.TRANSFER, 4)
    assert wait_for(lambda: pad.beeps == 2)
    assert rig.reports.of("key") == []


def test_a_rating_is_reported_for_the_window_of_its_evaluator(rig: Rig) -> None:
    evaluator = rig.sim.device(DeviceKind.EVALUATOR, 3)
    expires = event_time(minutes=1).isoformat()
    rig.source.emit("evaluation.invited", 3, number="A012", staff="1005", expires_at=expires)
    assert wait_for(lambda: evaluator.prompting)
    assert rig.sim.rate(3, Rating.SATISFIED)
    assert wait_for(lambda: rig.reports.of("rating") == [("rating", 3, 4)])
    # a second press finds no invitation on the device: nothing more is reported
    assert not rig.sim.rate(3, Rating.VERY_DISSATISFIED)
    rig.source.emit("evaluation.rated", 3, number="A012", level=4)
    rig.source.emit("evaluation.invited", 3, number="A013", expires_at=expires)
    assert wait_for(lambda: evaluator.prompting)
    rig.source.emit("evaluation.rated", 3, number="A013", level=5, channel="qr")
    assert wait_for(lambda: not evaluator.prompting)
    assert rig.reports.of("rating") == [("rating", 3, 4)]


def test_unplugged_port_is_driven_again_within_two_seconds(rig: Rig) -> None:
    bus = rig.sim.buses["hall"].sim
    rig.source.emit("ticket.called", 1, number="A001", service="tax")
    assert wait_for(lambda: rig.strip(1).shown[:1] == ("A001 请到1号窗口",))
    bus.unplug()
    assert wait_for(lambda: rig.controller.status().ports["hall"] is PortState.REOPENING)
    assert wait_for(lambda: rig.reports.of("fault") == [("fault", "bus.port_lost", {})])
    rig.source.emit("ticket.called", 1, number="A002", service="tax")
    rig.sim.press(1, Key.RECALL)
    bus.replug()
    start = time.monotonic()
    assert wait_for(lambda: rig.strip(1).shown[:1] == ("A002 请到1号窗口",), timeout=3)
    assert time.monotonic() - start < 2.0
    assert wait_for(lambda: rig.reports.of("key") == [("key", 1, "recall", {})])
    assert wait_for(lambda: rig.reports.of("recovery") == [("recovery", "bus.port_lost", {})]), (
        rig.reports.calls
    )
    assert rig.reports.of("fault") == [("fault", "bus.port_lost", {})]


def test_a_silent_device_is_reported_offline_then_back(rig: Rig) -> None:
    bus = rig.sim.buses["hall"].sim
    assert isinstance(bus, SimBus)
    assert wait_for(lambda: rig.controller.status().devices[("hall", 202)].available)
    pad = bus.devices.pop(202)
    detail = {"bus": "hall", "address": 202, "kind": "keypad", "window": 2}
    assert wait_for(lambda: rig.reports.of("fault") == [("fault", "bus.device_offline", detail)])
    bus.devices[202] = pad
    assert wait_for(
        lambda: rig.reports.of("recovery") == [("recovery", "bus.device_offline", detail)],
        timeout=5,
    )


def test_reconnecting_reads_the_hall_from_the_center(rig: Rig) -> None:
    rig.reader.rows = [
        {"number": 1, "name": "1号窗口", "status": "open", "current": "A007", "staff": "1001"},
        {"number": 2, "name": "2号窗口", "status": "paused", "pause_reason": "会议"},
    ]
    rig.reader.calls = []
    from display.view import Call

    rig.reader.calls = [Call("A007", 1), Call("B002", 2)]
    assert rig.source.on_connect is not None
    from devices.client.stream import Connected

    rig.source.on_connect(Connected(10, 12, 3.0))
    assert wait_for(lambda: rig.strip(1).shown == ("A007 请到1号窗口", "税务"))
    assert wait_for(lambda: rig.strip(2).shown == ("2号窗口", "暂停: 会议"))
    assert wait_for(lambda: rig.board().shown == ("A007 请到1号窗口", "B002 请到2号窗口"))
