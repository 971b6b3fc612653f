"""vendor68 messages (pure): what a frame means, and the frames the host sends.

Device → host:
  * keypad: any FUNC except 0x11 (and the host commands 0x02/0x03); the last DATA byte is
    the key: 0x0C call, 0x0D recall, 0x0B invite evaluation, 0x12 pause, 0x13 transfer;
    0x0F confirms a digit before it (06 0F give up = skip, 00 0F hold, 03 0F call back).
    The host acknowledges by echoing the frame.
  * evaluator: FUNC 0x11, DATA[0] the rating key; the host acknowledges with FUNC 0x01 and the
    same DATA byte (so its CS is the device's CS − 0x10).
Host → device: FUNC 0x02 + six digit bytes (0x0A blank) on a keypad; FUNC 0x03 beep;
FUNC 0x02 + 0x05 five stars on an evaluator; FUNC 0x01 + 0x0B start a rating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devices.bus.model import Key, Rating
from devices.vendor68.frames import V68Frame

FUNC_START_OR_ACK = 0x01
FUNC_DISPLAY = 0x02
FUNC_BEEP = 0x03
FUNC_RATING = 0x11
KEY_FUNC = 0x01
"""FUNC the simulated keypads send (the public source does not say; the host accepts any)."""
START_RATING = 0x0B
CONFIRM = 0x0F
BLANK_DIGIT = 0x0A
DISPLAY_DIGITS = 6

KEYS: Mapping[int, Key] = {
    0x0C: Key.CALL_NEXT,
    0x0D: Key.RECALL,
    0x0B: Key.INVITE_EVALUATION,
    0x12: Key.PAUSE,
    0x13: Key.TRANSFER,
}
CONFIRMED_DIGITS: Mapping[int, Key] = {0x06: Key.SKIP, 0x00: Key.HOLD, 0x03: Key.CALL_HELD}
KEY_CODES: Mapping[Key, int] = {v: k for k, v in KEYS.items()}
DIGIT_KEYS: Mapping[Key, int] = {v: k for k, v in CONFIRMED_DIGITS.items()}

DEFAULT_RATING_MAP: Mapping[int, Rating] = {
    0: Rating.VERY_SATISFIED,
    1: Rating.SATISFIED,
    2: Rating.BASICALLY_SATISFIED,
    3: Rating.DISSATISFIED,
    4: Rating.VERY_DISSATISFIED,
}
"""Rating key value → level. An assumption: configure the map per device model."""


@dataclass(frozen=True)
class KeyInput:
    """A keypad key frame."""

    address: int
    key: Key
    argument: int = 0


@dataclass(frozen=True)
class RatingInput:
    """An evaluator rating frame."""

    address: int
    value: int


@dataclass(frozen=True)
class Other:
    """A frame the host does not act on (host commands, unknown keys)."""

    address: int
    description: str


Meaning = KeyInput | RatingInput | Other


def interpret(frame: V68Frame) -> Meaning:
    """What a frame from a device means."""
    if frame.func == FUNC_RATING:
        if not frame.data:
            return Other(frame.address, "rating without a value")
        return RatingInput(frame.address, frame.data[0])
    if frame.func in (FUNC_DISPLAY, FUNC_BEEP) or not frame.data:
        return Other(frame.address, f"host command 0x{frame.func:02X}")
    last = frame.data[-1]
    if last == CONFIRM:
        digit = frame.data[-2] if len(frame.data) >= 2 else None
        key = CONFIRMED_DIGITS.get(digit) if digit is not None else None
        return (
            KeyInput(frame.address, key) if key else Other(frame.address, f"confirm after {digit}")
        )
    key = KEYS.get(last)
    if key is None:
        return Other(frame.address, f"key 0x{last:02X} not used")
    argument = frame.data[-2] if key is Key.TRANSFER and len(frame.data) >= 2 else 0
    return KeyInput(frame.address, key, argument if 0 <= argument <= 9 else 0)


def key_ack(frame: V68Frame) -> V68Frame:
    """The host's acknowledgement of a keypad frame: the frame itself, echoed."""
    return frame


def rating_ack(frame: V68Frame) -> V68Frame:
    """The host's acknowledgement of a rating frame: FUNC 0x01, same DATA byte."""
    return V68Frame(frame.address, FUNC_START_OR_ACK, frame.data[:1])


def display_frame(address: int, number: str | int) -> V68Frame:
    """Six digit bytes, right-aligned, 0x0A blank; non-digits are dropped ("A012" → 012)."""
    digits = [int(c) for c in str(number) if c.isdigit()][-DISPLAY_DIGITS:]
    data = [BLANK_DIGIT] * (DISPLAY_DIGITS - len(digits)) + digits
    return V68Frame(address, FUNC_DISPLAY, bytes(data))


def beep_frame(address: int) -> V68Frame:
    """Sound a keypad's buzzer."""
    return V68Frame(address, FUNC_BEEP)


def stars_frame(address: int, stars: int) -> V68Frame:
    """Set an evaluator's service stars (0–5)."""
    if not 0 <= stars <= 5:
        raise ValueError(f"stars must be 0–5, got {stars}")
    return V68Frame(address, FUNC_DISPLAY, bytes((stars,)))


def start_rating_frame(address: int) -> V68Frame:
    """Start a rating on an evaluator."""
    return V68Frame(address, FUNC_START_OR_ACK, bytes((START_RATING,)))


def key_frame(address: int, key: Key, argument: int = 0, func: int = KEY_FUNC) -> V68Frame:
    """The frame a keypad sends for ``key`` (used by the simulator and tests)."""
    if key in DIGIT_KEYS:
        return V68Frame(address, func, bytes((DIGIT_KEYS[key], CONFIRM)))
    code = KEY_CODES.get(key)
    if code is None:
        raise ValueError(f"{key} has no vendor68 code")
    data = bytes((argument, code)) if key is Key.TRANSFER and argument else bytes((code,))
    return V68Frame(address, func, data)


def to_json(frame: V68Frame) -> dict[str, Any]:
    """JSON-able description of a frame."""
    meaning = interpret(frame)
    out: dict[str, Any] = {
        "address": frame.address,
        "func": frame.func,
        "data": frame.data.hex(" "),
    }
    if isinstance(meaning, KeyInput):
        out["key"] = meaning.key.value
        out["argument"] = meaning.argument
    elif isinstance(meaning, RatingInput):
        rating = DEFAULT_RATING_MAP.get(meaning.value)
        out["rating_value"] = meaning.value
        out["rating"] = rating.value if rating else None
    else:
        out["note"] = meaning.description
    host = _host_meaning(frame)
    if host:
        out["if_from_host"] = host
    return out


def _host_meaning(frame: V68Frame) -> str:
    """What the frame means if the host sent it (a capture does not show the direction)."""
    data = frame.data
    if frame.func == FUNC_DISPLAY and len(data) == DISPLAY_DIGITS:
        return "display " + "".join("_" if d == BLANK_DIGIT else str(d) for d in data)
    if frame.func == FUNC_DISPLAY and len(data) == 1:
        return f"stars {data[0]}"
    if frame.func == FUNC_BEEP and not data:
        return "beep"
    if frame.func == FUNC_START_OR_ACK and data == bytes((START_RATING,)):
        return "start rating (or key echo)"
    if frame.func == FUNC_START_OR_ACK and len(data) == 1:
        return f"rating {data[0]} acknowledged (or key echo)"
    return ""
