"""vendor68: golden vectors from the public source, parser, and the adapter over a pty."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devices.bus.api import UnsupportedOperation
from devices.bus.model import BusEvent, DeviceKind, DeviceSpec, DeviceState, EventKind, Key, Rating
from devices.bus.simwire import Faults
from devices.vendor68 import protocol as p
from devices.vendor68.driver import Vendor68Master, Vendor68Options
from devices.vendor68.frames import FrameParser, ParseError, V68Frame, encode_frame
from devices.vendor68.sim import SimV68Bus, SimV68Evaluator, SimV68Keypad

Waiter = Callable[..., bool]

# Sums checked by hand (CS = ADDR + FUNC + DATA… mod 256):
#   ticket 123 → 5: 05+02+0A+0A+0A+01+02+03 = 0x2B          (hardware-notes; frmMain.cs SendTicket)
#   waiting 7 → 1: 01+02+00+00+07+0A+0A+0A = 0x28           (frmMain.cs SendWait: count first)
#   beep → 5:      05+03 = 0x08                              (SendBeep)
#   stars 5 → 5:   05+02+05 = 0x0C                           (SendServiceLever)
#   start → 5:     05+01+0B = 0x11                           (SendStartE)
#   rating 1 ← 5:  05+11+01 = 0x17; ack 05+01+01 = 0x07 = 0x17 − 0x10
#   give up ← 3:   03+01+06+0F = 0x19 (key frame, FUNC 01 as our keypads send it)
GOLDEN = [
    (
        "FF 68 08 08 68 05 02 0A 0A 0A 01 02 03 2B 16",
        V68Frame(5, 0x02, bytes([10, 10, 10, 1, 2, 3])),
    ),
    (
        "FF 68 08 08 68 01 02 00 00 07 0A 0A 0A 28 16",
        V68Frame(1, 0x02, bytes([0, 0, 7, 10, 10, 10])),
    ),
    ("FF 68 02 02 68 05 03 08 16", V68Frame(5, 0x03)),
    ("FF 68 03 03 68 05 02 05 0C 16", V68Frame(5, 0x02, b"\x05")),
    ("FF 68 03 03 68 05 01 0B 11 16", V68Frame(5, 0x01, b"\x0b")),
    ("FF 68 03 03 68 05 11 01 17 16", V68Frame(5, 0x11, b"\x01")),
    ("FF 68 03 03 68 05 01 01 07 16", V68Frame(5, 0x01, b"\x01")),
    ("FF 68 04 04 68 03 01 06 0F 19 16", V68Frame(3, 0x01, b"\x06\x0f")),
]


@pytest.mark.parametrize(("wire", "frame"), GOLDEN)
def test_golden_vectors(wire: str, frame: V68Frame) -> None:
    raw = bytes.fromhex(wire)
    assert frame.encode() == raw
    assert FrameParser().feed(raw) == [frame]
    assert raw[2] == raw[3] == 2 + len(frame.data)


def test_host_frames_from_the_api() -> None:
    assert p.display_frame(5, 123).encode() == bytes.fromhex(
        "FF 68 08 08 68 05 02 0A 0A 0A 01 02 03 2B 16"
    )
    assert p.display_frame(5, "A123") == p.display_frame(5, 123)
    assert p.beep_frame(5).encode() == bytes.fromhex("FF 68 02 02 68 05 03 08 16")
    assert p.stars_frame(5, 5).encode() == bytes.fromhex("FF 68 03 03 68 05 02 05 0C 16")
    assert p.start_rating_frame(5).encode() == bytes.fromhex("FF 68 03 03 68 05 01 0B 11 16")
    rating = V68Frame(5, 0x11, b"\x01")
    assert p.rating_ack(rating).encode() == bytes.fromhex("FF 68 03 03 68 05 01 01 07 16")


@pytest.mark.parametrize(
    ("data", "key", "argument"),
    [
        (b"\x0c", Key.CALL_NEXT, 0),
        (b"\x0d", Key.RECALL, 0),
        (b"\x0b", Key.INVITE_EVALUATION, 0),
        (b"\x12", Key.PAUSE, 0),
        (b"\x13", Key.TRANSFER, 0),
        (b"\x04\x13", Key.TRANSFER, 4),
        (b"\x06\x0f", Key.SKIP, 0),
        (b"\x00\x0f", Key.HOLD, 0),
        (b"\x03\x0f", Key.CALL_HELD, 0),
    ],
)
def test_key_codes(data: bytes, key: Key, argument: int) -> None:
    assert p.interpret(V68Frame(3, 0x01, data)) == p.KeyInput(3, key, argument)
    assert p.interpret(p.key_frame(3, key, argument)) == p.KeyInput(3, key, argument)


def test_frames_that_are_not_inputs() -> None:
    assert isinstance(p.interpret(V68Frame(3, 0x02, bytes(6))), p.Other)
    assert isinstance(p.interpret(V68Frame(3, 0x01, b"\x0e")), p.Other)
    assert isinstance(p.interpret(V68Frame(3, 0x01, b"\x09\x0f")), p.Other)
    assert p.interpret(V68Frame(3, 0x11, b"\x03")) == p.RatingInput(3, 3)


def test_parser_resyncs_on_ff_68() -> None:
    good = bytes.fromhex("FF 68 03 03 68 05 11 01 17 16")
    bad = bytearray(good)
    bad[7] = 2
    out = FrameParser().feed(b"\xff\xff\x68\x01" + bytes(bad) + good)
    assert out[-1] == V68Frame(5, 0x11, b"\x01")
    assert all(isinstance(i, ParseError) for i in out[:-1])
    parser = FrameParser()
    assert parser.feed(good[:6]) == [] and parser.pending == 6
    assert parser.feed(good[6:]) == [V68Frame(5, 0x11, b"\x01")]


def test_encode_limits() -> None:
    with pytest.raises(ValueError):
        encode_frame(256, 1)
    with pytest.raises(ValueError):
        encode_frame(1, 1, bytes(254))


# adapter over a pty -------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[BusEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: BusEvent) -> None:
        with self.lock:
            self.events.append(event)


@contextmanager
def vendor_bus(
    tmp_path: Path, faults: Faults | None = None
) -> Iterator[tuple[SimV68Bus, Vendor68Master, Recorder]]:
    bus = SimV68Bus(9600, link_path=tmp_path / "v68", faults=faults)
    bus.add(SimV68Keypad(5))
    bus.add(SimV68Evaluator(6))
    specs = [
        DeviceSpec(5, DeviceKind.KEYPAD, window=2),
        DeviceSpec(6, DeviceKind.EVALUATOR, window=2),
    ]
    with bus:
        master = Vendor68Master(bus.path, 9600, specs, Vendor68Options(refresh_s=0.5))
        rec = Recorder()
        master.set_event_handler(rec)
        master.start()
        try:
            yield bus, master, rec
        finally:
            master.stop()


def test_keys_with_faults_arrive_exactly_once(tmp_path: Path, wait_until: Waiter) -> None:
    """GIVEN 1 % corrupted bytes and 1 % lost frames WHEN a clerk presses 16 keys, each after the
    previous one was acknowledged THEN the host delivers all 16, once each, in order."""
    faults = Faults(corrupt_ratio=0.01, drop_ratio=0.01, rng=random.Random(5))
    keys = [
        Key.CALL_NEXT,
        Key.RECALL,
        Key.SKIP,
        Key.PAUSE,
        Key.HOLD,
        Key.CALL_HELD,
        Key.INVITE_EVALUATION,
        Key.TRANSFER,
    ]
    with vendor_bus(tmp_path, faults) as (bus, master, rec):
        pad = bus.devices[5]
        assert isinstance(pad, SimV68Keypad)
        for key in keys * 2:
            pad.press_key(key, 3 if key is Key.TRANSFER else 0)
            assert wait_until(lambda: pad.idle, timeout=4)
        assert wait_until(lambda: len(rec.events) == 16)
        assert [e.key for e in rec.events] == keys * 2
        assert {e.argument for e in rec.events if e.key is Key.TRANSFER} == {3}
        assert pad.given_up == 0
        assert master.device_states()[5].state is DeviceState.ONLINE


def test_same_key_twice_within_dedupe_window_counts_once(
    tmp_path: Path, wait_until: Waiter
) -> None:
    with vendor_bus(tmp_path) as (bus, _master, rec):
        pad = bus.devices[5]
        assert isinstance(pad, SimV68Keypad)
        pad.press_key(Key.CALL_NEXT)
        assert wait_until(lambda: pad.idle)
        pad.press_key(Key.CALL_NEXT)
        assert wait_until(lambda: pad.idle)
        pad.press_key(Key.RECALL)
        assert wait_until(lambda: len(rec.events) == 2)
        assert [e.key for e in rec.events] == [Key.CALL_NEXT, Key.RECALL]


def test_rating_flow_timeout_and_display(tmp_path: Path, wait_until: Waiter) -> None:
    with vendor_bus(tmp_path) as (bus, master, rec):
        pad, ev = bus.devices[5], bus.devices[6]
        assert isinstance(pad, SimV68Keypad) and isinstance(ev, SimV68Evaluator)
        master.keypad_display(5, "A123")
        master.evaluator_show_staff(6, "张三", "1001", 4)
        assert wait_until(lambda: pad.shown == "123" and ev.stars == 4)
        pad.shown = ""
        assert wait_until(lambda: pad.shown == "123"), "the display is refreshed"
        ev.rate(Rating.SATISFIED)
        assert wait_until(lambda: ev.idle)
        assert rec.events == [], "a rating without an invitation is acknowledged and ignored"
        invitation = master.evaluator_invite(6, 30)
        assert wait_until(lambda: ev.prompting)
        ev.rate(Rating.DISSATISFIED)
        assert wait_until(lambda: ev.idle)
        ev.rate(Rating.VERY_SATISFIED)
        assert wait_until(lambda: ev.idle)
        second = master.evaluator_invite(6, 0.3)
        assert wait_until(lambda: len(rec.events) == 2)
        assert [(e.rating, e.invitation, e.kind) for e in rec.events] == [
            (Rating.DISSATISFIED, invitation, EventKind.RATING),
            (Rating.NOT_RATED, second, EventKind.RATING),
        ]
        with pytest.raises(UnsupportedOperation):
            master.set_strip(5, ["x"])


def test_only_keypads_and_evaluators() -> None:
    with pytest.raises(ValueError):
        Vendor68Master("loop://", 9600, [DeviceSpec(1, DeviceKind.WINDOW_STRIP)])
