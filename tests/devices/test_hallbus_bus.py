"""hallbus master against the simulator over real pseudo-terminals, with faults injected."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devices.bus.model import (
    BusEvent,
    DeviceKind,
    DeviceSpec,
    DeviceState,
    Effect,
    EventKind,
    Key,
    PortState,
    Rating,
)
from devices.bus.simwire import Faults
from devices.hallbus.driver import HallbusMaster, MasterOptions
from devices.hallbus.sim import SimBus
from devices.hallbus.simdevices import SimBoard, SimDevice, SimEvaluator, SimKeypad, SimStrip

Waiter = Callable[..., bool]

BAUD = 115200
KEYS = [
    Key.CALL_NEXT,
    Key.RECALL,
    Key.SKIP,
    Key.PAUSE,
    Key.RESUME,
    Key.TRANSFER,
    Key.INVITE_EVALUATION,
]
LEVELS = [r for r in Rating if r is not Rating.NOT_RATED]


class Recorder:
    """Event handler that records accepted events; can refuse the first delivery of each."""

    def __init__(self, refuse_first: bool = False) -> None:
        self.events: list[BusEvent] = []
        self.calls = 0
        self.refuse_first = refuse_first
        self._seen: set[tuple[int, int, int | None]] = set()
        self._lock = threading.Lock()

    def __call__(self, event: BusEvent) -> bool:
        with self._lock:
            self.calls += 1
            key = (event.address, event.counter, event.invitation)
            if self.refuse_first and key not in self._seen:
                self._seen.add(key)
                raise RuntimeError("database busy")
            self.events.append(event)
            return True

    def of(self, address: int) -> list[BusEvent]:
        with self._lock:
            return [e for e in self.events if e.address == address]


def spec_of(device: SimDevice, window: int | None = None) -> DeviceSpec:
    return DeviceSpec(device.address, device.kind, window=window)


@contextmanager
def running(
    tmp_path: Path, devices: list[SimDevice], faults: Faults | None = None, extra: list[DeviceSpec] | None = None,
    recorder: Recorder | None = None,
) -> Iterator[tuple[SimBus, HallbusMaster, Recorder]]:  # fmt: skip
    bus = SimBus(BAUD, link_path=tmp_path / "bus", faults=faults)
    for device in devices:
        bus.add(device)
    options = MasterOptions(reprobe_s=0.2, output_poll_s=0.1, seed=5)
    specs = [spec_of(d, window=d.address) for d in devices] + (extra or [])
    with bus:
        master = HallbusMaster(bus.path, BAUD, specs, options)
        rec = recorder or Recorder()
        master.set_event_handler(rec)
        master.start()
        try:
            yield bus, master, rec
        finally:
            master.stop()


def all_online(master: HallbusMaster, addresses: list[int] | None = None) -> bool:
    states = master.device_states()
    return all(
        s.state is DeviceState.ONLINE
        for a, s in states.items()
        if addresses is None or a in addresses
    )


def all_synced(master: HallbusMaster) -> bool:
    return all(s.synced and s.state is DeviceState.ONLINE for s in master.device_states().values())


def test_calls_ratings_and_displays_end_to_end(tmp_path: Path, wait_until: Waiter) -> None:
    pad, ev, strip, board = SimKeypad(3), SimEvaluator(7), SimStrip(1), SimBoard(2)
    with running(tmp_path, [pad, ev, strip, board]) as (_bus, master, rec):
        assert wait_until(lambda: all_online(master))
        master.set_strip(1, ["A012 请到3号窗口", "请准备材料"], Effect.FLASH)
        master.set_board(2, ["A012 → 3号窗口", "B007 → 5号窗口"], "今日办件请携带身份证")
        master.keypad_display(3, "A012")
        master.evaluator_show_staff(7, "张晓明", "1001", 5)
        assert pad.press_key(Key.TRANSFER, 4)
        invitation = master.evaluator_invite(7, 30)
        assert wait_until(lambda: ev.prompting)
        assert ev.rate(Rating.BASICALLY_SATISFIED)
        assert not ev.rate(Rating.VERY_SATISFIED), "a repeated press is ignored"
        assert wait_until(lambda: len(rec.events) == 2 and all_synced(master))
        assert strip.shown == ("A012 请到3号窗口", "请准备材料") and strip.effect is Effect.FLASH
        assert (
            board.shown == ("A012 → 3号窗口", "B007 → 5号窗口")
            and board.notice == "今日办件请携带身份证"
        )
        assert pad.shown == "A012" and ev.staff == ("张晓明", "1001", 5)
        key, rating = sorted(rec.events, key=lambda e: e.address)
        assert (key.kind, key.key, key.argument, key.window) == (EventKind.KEY, Key.TRANSFER, 4, 3)
        assert (rating.rating, rating.invitation, rating.window) == (
            Rating.BASICALLY_SATISFIED,
            invitation,
            7,
        )
        master.set_board(2, ["A013 → 3号窗口"], "")
        assert wait_until(lambda: board.shown == ("A013 → 3号窗口",) and board.notice == "")


def test_one_percent_corruption_and_loss_exactly_once_and_convergence(
    tmp_path: Path, wait_until: Waiter
) -> None:
    """GIVEN 1 % of bytes corrupted and 1 % of replies dropped
    WHEN clerks press keys, citizens rate and texts change
    THEN every key and rating arrives exactly once, none wrong, and every LED converges."""
    faults = Faults(corrupt_ratio=0.01, drop_ratio=0.01, rng=random.Random(7))
    pads = [SimKeypad(a) for a in (11, 12, 13, 14)]
    evs = [SimEvaluator(a) for a in (21, 22, 23)]
    strips, board = [SimStrip(1), SimStrip(2)], SimBoard(5)
    rng = random.Random(11)
    expected_keys: dict[int, list[tuple[Key, int]]] = {p.address: [] for p in pads}
    expected_ratings: dict[int, tuple[int, Rating]] = {}
    with running(tmp_path, [*pads, *evs, *strips, board], faults) as (_bus, master, rec):
        assert wait_until(lambda: all_online(master))
        for rnd in range(24):
            for pad in pads:
                key = rng.choice(KEYS)
                arg = rng.randrange(1, 10) if key is Key.TRANSFER else 0
                if pad.press_key(key, arg):
                    expected_keys[pad.address].append((key, arg))
            for strip in strips:
                master.set_strip(
                    strip.address,
                    [f"A{rnd:03d} 请到{strip.address}号窗口", "暂停服务"],
                    Effect.SCROLL,
                )
            master.set_board(5, [f"A{rnd:03d} → 1号窗口", f"等候 {rnd} 人"], f"公告 {rnd}")
            if rnd % 6 == 0:
                for ev in evs:
                    inv = master.evaluator_invite(ev.address, 30)
                    assert wait_until(
                        lambda ev=ev, inv=inv: ev.invitation is not None and ev.invitation[0] == inv
                    )
                    level = rng.choice(LEVELS)
                    assert ev.rate(level)
                    assert not ev.rate(rng.choice(LEVELS))
                    expected_ratings[inv] = (ev.address, level)
            assert wait_until(lambda: all(p.pending_events < 6 for p in pads))
        total = sum(map(len, expected_keys.values())) + len(expected_ratings)
        assert wait_until(lambda: len(rec.events) >= total, timeout=20)
        assert wait_until(all_synced_and_shown(master, strips, board, rnd), timeout=10)
        for pad in pads:
            assert [(e.key, e.argument) for e in rec.of(pad.address)] == expected_keys[pad.address]
        ratings = {
            e.invitation: (e.address, e.rating) for e in rec.events if e.kind is EventKind.RATING
        }
        assert ratings == expected_ratings
        assert len(rec.events) == total
        assert faults.corrupted > 20 and master.stats.timeouts > 0


def all_synced_and_shown(
    master: HallbusMaster, strips: list[SimStrip], board: SimBoard, rnd: int
) -> object:
    def check() -> bool:
        return (
            all_synced(master)
            and all(s.shown == (f"A{rnd:03d} 请到{s.address}号窗口", "暂停服务") for s in strips)
            and board.shown == (f"A{rnd:03d} → 1号窗口", f"等候 {rnd} 人")
            and board.notice == f"公告 {rnd}"
        )

    return check


def test_late_replies_and_refusing_handler(tmp_path: Path, wait_until: Waiter) -> None:
    """GIVEN replies later than the timeout and a handler that refuses every first delivery
    THEN each event is still accepted exactly once, in order."""
    faults = Faults(late_reply=0.04, late_ratio=0.25, drop_ratio=0.05, rng=random.Random(3))
    pads = [SimKeypad(3), SimKeypad(4)]
    rec = Recorder(refuse_first=True)
    with running(tmp_path, pads, faults, recorder=rec) as (bus, master, _):
        assert wait_until(lambda: all_online(master))
        sent = {
            3: [Key.CALL_NEXT, Key.RECALL, Key.SKIP, Key.PAUSE],
            4: [Key.RESUME, Key.CALL_NEXT, Key.SKIP],
        }
        for address, keys in sent.items():
            for key in keys:
                assert bus.keypad(address).press_key(key)
        assert wait_until(lambda: len(rec.events) == 7, timeout=10)
        for address, keys in sent.items():
            assert [e.key for e in rec.of(address)] == keys
        assert rec.calls == 14
        assert master.stats.stale > 0 and bus.stats.lost_replies > 0


def test_device_reset_rewrites_state_and_counts_events_afresh(
    tmp_path: Path, wait_until: Waiter
) -> None:
    pad, strip, ev = SimKeypad(3), SimStrip(1), SimEvaluator(7)
    with running(tmp_path, [pad, strip, ev]) as (bus, master, rec):
        assert wait_until(lambda: all_online(master))
        master.set_strip(1, ["A012 请到3号窗口"], Effect.STEADY)
        master.keypad_display(3, "12")
        pad.press_key(Key.CALL_NEXT)
        assert wait_until(lambda: len(rec.events) == 1 and all_synced(master))
        invitation = master.evaluator_invite(7, 30)
        assert wait_until(lambda: ev.prompting)
        for address in (1, 3, 7):
            bus.reset(address)
        assert strip.shown == () and pad.shown == "" and not ev.prompting
        pad.press_key(Key.RECALL)
        assert wait_until(lambda: strip.shown == ("A012 请到3号窗口",) and pad.shown == "12")
        assert wait_until(lambda: ev.prompting), (
            "the open invitation is shown again after the reset"
        )
        assert ev.rate(Rating.VERY_SATISFIED)
        assert wait_until(lambda: len(rec.events) == 3)
        keys = [(e.key, e.counter) for e in rec.of(3)]
        assert keys == [(Key.CALL_NEXT, 1), (Key.RECALL, 1)]
        (rating,) = rec.of(7)
        assert (rating.rating, rating.invitation) == (Rating.VERY_SATISFIED, invitation)


def test_unplug_and_replug_back_within_two_seconds(tmp_path: Path, wait_until: Waiter) -> None:
    pad, strip = SimKeypad(3), SimStrip(1)
    with running(tmp_path, [pad, strip]) as (bus, master, rec):
        assert wait_until(lambda: all_online(master))
        bus.unplug()
        assert wait_until(lambda: master.port_state is PortState.REOPENING, timeout=2)
        assert wait_until(lambda: not any(s.available for s in master.device_states().values()))
        master.set_strip(1, ["暂停服务"], Effect.FLASH)
        pad.press_key(Key.PAUSE)
        bus.replug()
        start = time.monotonic()
        assert wait_until(
            lambda: strip.shown == ("暂停服务",) and len(rec.events) == 1 and all_synced(master), 3
        )
        assert time.monotonic() - start < 2.0
        assert master.port_state is PortState.OPEN
        assert rec.events[0].key is Key.PAUSE


def test_invitation_timeout_gives_not_rated(tmp_path: Path, wait_until: Waiter) -> None:
    ev = SimEvaluator(7)
    with running(tmp_path, [ev]) as (_bus, master, rec):
        assert wait_until(lambda: all_online(master))
        invitation = master.evaluator_invite(7, 1)
        assert wait_until(lambda: len(rec.events) == 1, timeout=4)
        assert (rec.events[0].rating, rec.events[0].invitation) == (Rating.NOT_RATED, invitation)
        assert rec.events[0].rating.label == "未评价"


def test_unreachable_evaluator_reports_invite_failed(tmp_path: Path, wait_until: Waiter) -> None:
    ghost = DeviceSpec(30, DeviceKind.EVALUATOR, window=30)
    with running(tmp_path, [SimKeypad(3)], extra=[ghost]) as (_bus, master, rec):
        assert wait_until(lambda: master.device_states()[30].state is DeviceState.OFFLINE)
        invitation = master.evaluator_invite(30, 1)
        assert wait_until(lambda: len(rec.events) == 1, timeout=4)
        assert (rec.events[0].kind, rec.events[0].invitation) == (
            EventKind.INVITE_FAILED,
            invitation,
        )
        assert "no reply from evaluator at address 30" in master.device_states()[30].detail


def test_broadcast_and_cancel(tmp_path: Path, wait_until: Waiter) -> None:
    ev, strip = SimEvaluator(7), SimStrip(1)
    with running(tmp_path, [ev, strip]) as (_bus, master, rec):
        assert wait_until(lambda: all_online(master))
        master.set_brightness(3)
        assert wait_until(lambda: ev.brightness == 3 and strip.brightness == 3)
        master.evaluator_invite(7, 30)
        assert wait_until(lambda: ev.prompting)
        master.evaluator_cancel(7)
        assert wait_until(lambda: not ev.prompting)
        assert not ev.rate(Rating.SATISFIED)
        master.beep(7, 2)
        assert wait_until(lambda: ev.beeps == 2)
        assert rec.events == []


def test_setters_validate_in_the_callers_thread(tmp_path: Path) -> None:
    master = HallbusMaster(
        str(tmp_path / "nowhere"), BAUD, [DeviceSpec(1, DeviceKind.WINDOW_STRIP)]
    )
    with pytest.raises(KeyError):
        master.keypad_display(1, "1")
    with pytest.raises(ValueError):
        master.set_strip(1, ["x" * 300])
    master.set_strip(1, ["张喆"])
    assert master.device_states()[1].synced is False


def test_writes_go_before_polls(tmp_path: Path, wait_until: Waiter) -> None:
    """GIVEN 20 keypads polled back to back at 9600 baud (a cycle of about 0.6 s)
    WHEN a call text is set THEN the strip shows it after one exchange, not after a cycle."""
    bus = SimBus(9600, link_path=tmp_path / "slow")
    pads = [bus.add(SimKeypad(a)) for a in range(10, 30)]
    strip = bus.add(SimStrip(1))
    specs = [spec_of(d) for d in [*pads, strip]]
    with bus:
        master = HallbusMaster(bus.path, 9600, specs, MasterOptions(input_poll_s=0.0, seed=1))
        master.start()
        try:
            assert wait_until(lambda: all_online(master))
            before = bus.stats.requests
            assert wait_until(lambda: bus.stats.requests - before >= 25), "the bus is busy polling"
            start = time.monotonic()
            master.set_strip(1, ["A012 请到1号窗口"])
            assert wait_until(lambda: strip.shown == ("A012 请到1号窗口",), timeout=2)
            assert time.monotonic() - start < 0.2
        finally:
            master.stop()
