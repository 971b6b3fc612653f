"""Vocabulary shared by every bus protocol: device kinds, keys, ratings, events, states.

Pure data: no I/O, no threads. Wire codes live in each protocol's own module; the names
here are what the display controller and the center see, whatever the bus speaks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class DeviceKind(enum.StrEnum):
    """What a device on a bus is (the names used by ``config.schema.BusDevice.kind``)."""

    WINDOW_STRIP = "window_strip"
    HALL_BOARD = "hall_board"
    EVALUATOR = "evaluator"
    KEYPAD = "keypad"


class Protocol(enum.StrEnum):
    """The wire protocol of a bus (``config.schema.BusDevice.protocol``)."""

    HALLBUS = "hallbus"
    VENDOR68 = "vendor68"
    LEDCHAIN = "ledchain"


class DeviceState(enum.Enum):
    """What the bus master knows about a device."""

    UNKNOWN = "unknown"
    """Not heard from yet (start-up, or a protocol that cannot ask)."""
    ONLINE = "online"
    OFFLINE = "offline"
    """Stopped answering after bounded retries; re-probed at a slower pace."""


class PortState(enum.Enum):
    """State of the serial port a bus master owns."""

    CLOSED = "closed"
    OPEN = "open"
    REOPENING = "reopening"
    """The port went away; the master tries to reopen it every ``reopen_s``."""


class Effect(enum.Enum):
    """How an LED strip shows its text."""

    STEADY = "steady"
    FLASH = "flash"
    SCROLL = "scroll"


class Key(enum.Enum):
    """A key action from a caller keypad (呼叫器)."""

    CALL_NEXT = "call_next"  # 叫号
    RECALL = "recall"  # 重呼
    SKIP = "skip"  # 过号 / 弃号
    PAUSE = "pause"  # 暂停
    RESUME = "resume"  # 恢复
    TRANSFER = "transfer"  # 转移; BusEvent.argument is the target service number
    INVITE_EVALUATION = "invite_evaluation"  # 请评价
    HOLD = "hold"  # 挂起 (vendor68 keypads only)
    CALL_HELD = "call_held"  # 回呼 (vendor68 keypads only)


class Rating(enum.Enum):
    """The national five levels (国办发〔2019〕51号), plus 未评价 when an invitation times out."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"
    NOT_RATED = "not_rated"

    @property
    def label(self) -> str:
        """The Chinese label a citizen reads."""
        return _RATING_LABELS[self]

    @property
    def is_bad(self) -> bool:
        """True for 差评 (不满意 and 非常不满意), which are followed up."""
        return self in (Rating.DISSATISFIED, Rating.VERY_DISSATISFIED)


_RATING_LABELS = {
    Rating.VERY_SATISFIED: "非常满意",
    Rating.SATISFIED: "满意",
    Rating.BASICALLY_SATISFIED: "基本满意",
    Rating.DISSATISFIED: "不满意",
    Rating.VERY_DISSATISFIED: "非常不满意",
    Rating.NOT_RATED: "未评价",
}


class EventKind(enum.Enum):
    """What a BusEvent reports."""

    KEY = "key"
    RATING = "rating"
    INVITE_FAILED = "invite_failed"
    """An invitation could not be shown or its outcome was lost (device offline or reset)."""


@dataclass(frozen=True)
class DeviceSpec:
    """One configured device on a bus."""

    address: int
    kind: DeviceKind
    window: int | None = None
    lines: int = 2
    protocol: Protocol = Protocol.HALLBUS

    @classmethod
    def from_config(cls, device: Any) -> DeviceSpec:
        """Build from a ``config.schema.BusDevice`` (duck-typed: devices does not import config)."""
        return cls(
            address=int(device.address),
            kind=DeviceKind(device.kind),
            window=device.window,
            lines=int(device.lines),
            protocol=Protocol(device.protocol),
        )


@dataclass(frozen=True)
class BusEvent:
    """A key press, a rating or a failed invitation, delivered once to the event handler."""

    address: int
    kind: EventKind
    device_kind: DeviceKind
    key: Key | None = None
    argument: int = 0
    """For Key.TRANSFER: the target service number; otherwise 0."""
    rating: Rating | None = None
    invitation: int | None = None
    counter: int = 0
    """The device's event counter (1–255); 0 for events the master itself generates."""
    window: int | None = None
    protocol: Protocol = Protocol.HALLBUS

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "address": self.address,
            "kind": self.kind.value,
            "device_kind": self.device_kind.value,
            "key": self.key.value if self.key else None,
            "argument": self.argument,
            "rating": self.rating.value if self.rating else None,
            "invitation": self.invitation,
            "counter": self.counter,
            "window": self.window,
            "protocol": self.protocol.value,
        }


@dataclass(frozen=True)
class DeviceStatus:
    """Immutable snapshot of one device, as published by a bus master."""

    address: int
    kind: DeviceKind
    state: DeviceState
    synced: bool
    """True when the device has confirmed everything the master wants it to show."""
    boot: int | None = None
    last_seen: float | None = None
    """``time.monotonic()`` of the last good frame from the device."""
    failures: int = 0
    """Requests that got no reply since the last good one."""
    detail: str = ""

    @property
    def available(self) -> bool:
        """What a screen shows: False means "unavailable"."""
        return self.state is DeviceState.ONLINE
