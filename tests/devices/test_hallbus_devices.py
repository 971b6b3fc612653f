"""Simulated hallbus devices and the master's per-device bookkeeping, fed directly (no pty)."""

from __future__ import annotations

import random

import pytest

from devices.bus.model import DeviceKind, DeviceSpec, Effect, Key, Rating
from devices.hallbus.frames import Frame
from devices.hallbus.protocol import (
    EventType,
    Message,
    decode_message,
    frame_of,
    request,
    status_of,
)
from devices.hallbus.simdevices import SimBoard, SimEvaluator, SimKeypad, SimStrip
from devices.hallbus.state import DeviceRuntime, EventDecision


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def ask(device: object, seq: int, message: Message) -> Message:
    reply = device.handle(frame_of(device.address, seq, message))  # type: ignore[attr-defined]
    assert isinstance(reply, Frame)
    return decode_message(reply)


def test_repeated_sequence_number_resends_the_cached_reply_without_executing() -> None:
    """GIVEN an invite whose reply was lost WHEN the master retries with the same SEQ
    THEN the evaluator answers from its cache and does not re-open (re-execute) the invitation."""
    clock = FakeClock()
    ev = SimEvaluator(7, clock=clock)
    invite = request("invite", invitation=5, timeout_s=30)
    first = ev.handle(frame_of(7, 40, invite))
    assert ev.rate(Rating.SATISFIED)
    again = ev.handle(frame_of(7, 40, invite))
    assert again == first
    assert ev.executed.count("invite") == 1 and ev.cache_hits == 1
    assert not ev.prompting
    ev.handle(frame_of(7, 41, invite))
    assert ev.executed.count("invite") == 2


def test_an_invite_sent_again_after_a_link_failure_is_not_executed_twice() -> None:
    """GIVEN an invite executed but never confirmed (the master gave up and re-sends it with a new
    SEQ after the device came back) THEN the same invitation id does not re-open the rating."""
    ev = SimEvaluator(7)
    ask(ev, 1, request("invite", invitation=9, timeout_s=30))
    assert ev.rate(Rating.SATISFIED)
    ask(ev, 2, request("invite", invitation=9, timeout_s=30))
    assert not ev.prompting
    ev.reset()
    ask(ev, 3, request("invite", invitation=9, timeout_s=30))
    assert ev.prompting, "after a reset the device has forgotten the id and shows it again"


def test_event_fifo_is_acknowledged_one_by_one() -> None:
    pad = SimKeypad(3)
    assert pad.press_key(Key.CALL_NEXT)
    assert pad.press_key(Key.TRANSFER, 4)
    status = status_of(ask(pad, 1, request("poll", boot=pad.boot, ack=0)))
    assert status.pending == 2 and status.event is not None
    assert (status.event.number, status.event.key) == (1, Key.CALL_NEXT)
    status = status_of(ask(pad, 2, request("poll", boot=pad.boot, ack=7)))
    assert status.event is not None and status.event.number == 1
    status = status_of(ask(pad, 3, request("poll", boot=pad.boot, ack=1)))
    assert status.event is not None
    assert (status.event.number, status.event.key, status.event.arg) == (2, Key.TRANSFER, 4)
    status = status_of(ask(pad, 4, request("poll", boot=pad.boot, ack=2)))
    assert status.event is None and status.pending == 0


def test_an_ack_for_another_boot_pops_nothing() -> None:
    """GIVEN a master that acknowledged event #1 just before the keypad was reset
    WHEN the keypad's first new event is also #1 THEN the stale ack does not drop it."""
    pad = SimKeypad(3)
    pad.press_key(Key.CALL_NEXT)
    old_boot = pad.boot
    pad.reset()
    pad.press_key(Key.RECALL)
    status = status_of(ask(pad, 1, request("poll", boot=old_boot, ack=1)))
    assert status.event is not None and status.event.key is Key.RECALL
    assert status.boot == pad.boot != old_boot


def test_full_fifo_refuses_a_press() -> None:
    pad = SimKeypad(3, fifo_size=2)
    assert pad.press_key(Key.RECALL) and pad.press_key(Key.RECALL)
    assert not pad.press_key(Key.RECALL)
    assert pad.beeps == 1


def test_event_counter_wraps_from_255_to_1() -> None:
    pad = SimKeypad(3, fifo_size=300)
    for _ in range(256):
        pad.press_key(Key.SKIP)
    numbers = []
    for seq in range(256):
        status = status_of(
            ask(pad, seq & 0xFF, request("poll", boot=pad.boot, ack=numbers[-1] if numbers else 0))
        )
        assert status.event is not None
        numbers.append(status.event.number)
    assert numbers[254:] == [255, 1]


def test_evaluator_rating_rules() -> None:
    """Ratings only while invited, one per invitation, timeout gives 未评价, cancel gives nothing."""
    clock = FakeClock()
    ev = SimEvaluator(7, clock=clock)
    assert not ev.rate(Rating.SATISFIED)
    ask(ev, 1, request("invite", invitation=11, timeout_s=10))
    assert ev.rate(Rating.VERY_DISSATISFIED)
    assert not ev.rate(Rating.SATISFIED)
    ask(ev, 2, request("invite", invitation=12, timeout_s=10))
    clock.now += 10
    ask(ev, 3, request("invite", invitation=13, timeout_s=10))
    ask(ev, 4, request("cancel", invitation=13))
    events = []
    ack = 0
    for seq in range(10, 14):
        status = status_of(ask(ev, seq, request("poll", boot=ev.boot, ack=ack)))
        if status.event:
            events.append((status.event.type, status.event.rating, status.event.arg))
            ack = status.event.number
    assert events == [
        (EventType.RATING, Rating.VERY_DISSATISFIED, 11),
        (EventType.RATING, Rating.NOT_RATED, 12),
    ]
    assert ev.ignored_presses == 2


def test_reset_changes_boot_blanks_and_restarts_counting() -> None:
    strip = SimStrip(1)
    ask(strip, 1, request("strip_set", effect=2, lines=("暂停服务",)))
    assert strip.shown == ("暂停服务",) and strip.effect is Effect.SCROLL
    boot = strip.boot
    strip.reset()
    assert strip.boot != boot and strip.shown == ()


def test_board_lines_follow_count() -> None:
    board = SimBoard(2)
    ask(board, 1, request("board_line", index=2, count=3, text="C"))
    assert board.shown == ("", "", "C")
    ask(board, 2, request("board_line", index=0, count=1, text="A"))
    assert board.shown == ("A",)


def test_wrong_kind_gets_an_error_reply() -> None:
    reply = ask(SimKeypad(3), 1, request("strip_set", effect=0, lines=()))
    assert reply.name == "error" and reply["error"] == 3


def test_runtime_event_decisions() -> None:
    dev = DeviceRuntime(DeviceSpec(3, DeviceKind.KEYPAD), random.Random(1))
    dev.observe_boot(0x1111)
    from devices.hallbus.protocol import DeviceEvent

    ev1 = DeviceEvent(1, EventType.KEY, 1, 0)
    assert dev.on_event(ev1, 0.0) is EventDecision.DELIVER
    assert dev.on_event(ev1, 0.0) is EventDecision.WAIT
    assert dev.handled(0x1111, 1, False, 0.0) is False
    assert dev.on_event(ev1, 0.1) is EventDecision.WAIT
    assert dev.on_event(ev1, 0.6) is EventDecision.DELIVER
    assert dev.handled(0x1111, 1, True, 0.6) is True and dev.delivered == 1
    assert dev.on_event(ev1, 0.7) is EventDecision.DUPLICATE
    assert dev.observe_boot(0x2222) is True
    assert dev.delivered == 0
    assert dev.on_event(ev1, 0.8) is EventDecision.DELIVER
    assert dev.handled(0x1111, 1, True, 0.9) is False


def test_runtime_slots_and_reset_rewrites() -> None:
    dev = DeviceRuntime(DeviceSpec(2, DeviceKind.HALL_BOARD), random.Random(1))
    a = request("board_line", index=0, count=2, text="A")
    b = request("board_line", index=1, count=2, text="B")
    dev.set_slots("", {"line:00": a, "line:01": b})
    assert dev.dirty_slot() == "line:00"
    dev.confirm("line:00", a)
    dev.confirm("line:01", b)
    assert not dev.has_writes
    dev.set_slots("", {"line:00": request("board_line", index=0, count=1, text="A")})
    assert list(dev.desired) == ["line:00"]
    dev.observe_boot(1)
    dev.confirm("line:00", dev.desired["line:00"])
    dev.observe_boot(2)
    assert dev.dirty_slot() == "line:00"


@pytest.mark.parametrize("rating", [Rating.NOT_RATED])
def test_not_rated_is_not_a_key(rating: Rating) -> None:
    with pytest.raises(ValueError):
        SimEvaluator(7).rate(rating)
