"""ledchain: golden vectors, parser, and the adapter's pacing and repair over a pty."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from devices.bus.api import UnsupportedOperation
from devices.bus.model import DeviceKind, DeviceSpec, Effect
from devices.bus.simwire import Faults
from devices.ledchain.driver import LedChainMaster, LedChainOptions
from devices.ledchain.frames import FrameParser, LedFrame, ParseError, compose, encode_frame
from devices.ledchain.sim import SimLedChain

Waiter = Callable[..., bool]


def test_golden_vectors() -> None:
    # 请 C7EB 到 B5BD 3 33 号 BAC5 窗 B4B0 口 BFDA
    assert encode_frame(3, "A012 请到3号窗口") == bytes.fromhex(
        "01 03 41 30 31 32 20 C7 EB B5 BD 33 BA C5 B4 B0 BF DA 07"
    )
    assert encode_frame(1, "暂停服务") == bytes.fromhex("01 01 D4 DD CD A3 B7 FE CE F1 07")
    assert encode_frame(7, "") == bytes.fromhex("01 07 07")


def test_parser() -> None:
    raw = bytes.fromhex("01 03 41 30 31 32 20 C7 EB B5 BD 33 BA C5 B4 B0 BF DA 07")
    assert FrameParser().feed(raw) == [LedFrame(3, raw[2:-1])]
    assert FrameParser().feed(raw)[0].text == "A012 请到3号窗口"  # type: ignore[union-attr]
    out = FrameParser().feed(b"xx\x01\x02AB\x01\x07\x07")
    assert isinstance(out[0], ParseError) and out[-1] == LedFrame(7, b"")
    assert FrameParser().feed(b"\x01\x00A\x07") == [
        ParseError("outside a command", b"\x01\x00A\x07")
    ]
    parser = FrameParser()
    assert parser.feed(raw[:5]) == [] and parser.pending == 5


def test_encoding_rules() -> None:
    with pytest.raises(ValueError):
        encode_frame(1, "a\x07b")
    with pytest.raises(ValueError):
        encode_frame(0, "a")
    with pytest.raises(ValueError):
        LedChainOptions(pacing_s=0.1)
    assert compose(["A012 → 3", "", "B007 → 5"], "欢迎") == "A012 → 3  B007 → 5  欢迎"


def test_paced_writes_and_repair_after_corruption(tmp_path: Path, wait_until: Waiter) -> None:
    """GIVEN three chained boards WHEN texts change THEN commands are ≥ 300 ms apart (no overrun);
    GIVEN corrupted commands WHEN the noise stops THEN the periodic refresh repairs every board."""
    faults = Faults(rng=random.Random(2))
    chain = SimLedChain(9600, link_path=tmp_path / "chain", faults=faults)
    boards = [chain.add(a) for a in (1, 2, 3)]
    specs = [
        DeviceSpec(1, DeviceKind.WINDOW_STRIP),
        DeviceSpec(2, DeviceKind.WINDOW_STRIP),
        DeviceSpec(3, DeviceKind.HALL_BOARD),
    ]
    want = {1: "A012 请到1号窗口", 2: "暂停服务", 3: "A012 → 1  B003 → 2  欢迎光临"}
    with chain:
        master = LedChainMaster(chain.path, 9600, specs, LedChainOptions(refresh_s=0.9))
        master.start()
        try:
            master.set_strip(1, ["A012 请到1号窗口"], Effect.FLASH)
            master.set_strip(2, ["暂停服务"])
            master.set_board(3, ["A012 → 1", "B003 → 2"], "欢迎光临")
            assert wait_until(lambda: all(b.shown == want[b.address] for b in boards), timeout=4)
            assert all(s.synced for s in master.device_states().values())
            faults.corrupt_ratio = 0.05
            assert wait_until(lambda: any(b.shown != want[b.address] for b in boards), timeout=6)
            faults.corrupt_ratio = 0.0
            assert wait_until(lambda: all(b.shown == want[b.address] for b in boards), timeout=4)
            gaps = [b - a for a, b in zip(master.sent_at, master.sent_at[1:], strict=False)]
            assert min(gaps) >= 0.3
            assert chain.overruns == 0
            with pytest.raises(UnsupportedOperation):
                master.keypad_display(1, 3)
        finally:
            master.stop()
