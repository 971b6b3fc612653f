"""Simulated hallbus devices: what a device's firmware does with each request.

Each device keeps the reply cache (same SEQ, CMD and CRC → the cached reply, not executed
again), a FIFO of latched events numbered 1–255, and a boot id that changes on ``reset()``.
Tests drive them with ``press_key()`` and ``rate()`` and read what they show.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from devices.bus.model import DeviceKind, Effect, Key, Rating
from devices.hallbus.frames import BROADCAST, ERROR_REPLY, Frame, frame_crc
from devices.hallbus.protocol import (
    BY_CODE,
    BY_NAME,
    EFFECTS_BY_CODE,
    FLAG_INVITATION_OPEN,
    FLAG_PAUSED,
    KEY_CODES,
    KIND_CODES,
    PROTOCOL_VERSION,
    RATING_CODES,
    DeviceEvent,
    ErrorCode,
    EventType,
    Identity,
    Message,
    PayloadError,
    Status,
    decode_message,
    frame_of,
    identity_reply,
    status_reply,
)

Clock = Callable[[], float]


class SimDevice:
    """Behaviour common to every hallbus device."""

    kind = DeviceKind.WINDOW_STRIP
    lines = 2
    columns = 16

    def __init__(
        self,
        address: int,
        *,
        fifo_size: int = 16,
        clock: Clock = time.monotonic,
        seed: int | None = None,
    ) -> None:
        self.address = address
        self.fifo_size = fifo_size
        self.lock = threading.RLock()
        self._clock = clock
        self._rng = random.Random(address if seed is None else seed)
        self.boot = self._rng.randrange(1, 0x10000)
        self.executed: list[str] = []
        """Names of the requests executed (not answered from the cache), for tests."""
        self.cache_hits = 0
        self.beeps = 0
        self.brightness = 8
        self._cache: tuple[tuple[int, int, int], Frame] | None = None
        self._events: deque[DeviceEvent] = deque()
        self._counter = 0
        self.reset_outputs()

    def reset(self) -> None:
        """Power-cycle: new boot id, outputs blank, events and reply cache forgotten."""
        with self.lock:
            old = self.boot
            while self.boot == old:
                self.boot = self._rng.randrange(1, 0x10000)
            self._cache = None
            self._events.clear()
            self._counter = 0
            self.reset_outputs()

    def reset_outputs(self) -> None:
        """Blank what the device shows (subclasses)."""

    @property
    def pending_events(self) -> int:
        """Events latched and not yet acknowledged."""
        with self.lock:
            return len(self._events)

    def handle(self, frame: Frame) -> Frame | None:
        """Answer one request frame (None for broadcasts)."""
        with self.lock:
            self.tick()
            if frame.address == BROADCAST:
                command = BY_CODE.get(frame.code)
                if command is not None and command.broadcast:
                    self._execute(frame)
                return None
            body = (
                bytes((frame.address, frame.seq, frame.command, len(frame.payload))) + frame.payload
            )
            key = (frame.seq, frame.command, frame_crc(body))
            if self._cache is not None and self._cache[0] == key:
                self.cache_hits += 1
                return self._cache[1]
            reply = self._execute(frame)
            self._cache = (key, reply)
            return reply

    def _execute(self, frame: Frame) -> Frame:
        try:
            msg = decode_message(frame)
        except PayloadError:
            code = ErrorCode.BAD_PAYLOAD if frame.code in BY_CODE else ErrorCode.UNKNOWN_COMMAND
            return self._error(frame, code)
        if self.kind not in BY_NAME[msg.name].kinds:
            return self._error(frame, ErrorCode.NOT_SUPPORTED)
        self.executed.append(msg.name)
        handler = getattr(self, f"on_{msg.name}")
        fields: dict[str, Any] = handler(msg) or {}
        return frame_of(self.address, frame.seq, Message(msg.name, fields, reply=True))

    def _error(self, frame: Frame, code: ErrorCode) -> Frame:
        payload = bytes((frame.code, int(code)))
        return Frame(self.address, frame.seq, ERROR_REPLY, payload)

    # events -------------------------------------------------------------------------------

    def latch(self, etype: EventType, code: int, arg: int = 0) -> bool:
        """Queue an event; False (and a beep) if the FIFO is full."""
        with self.lock:
            if len(self._events) >= self.fifo_size:
                self.beeps += 1
                return False
            self._counter = self._counter % 255 + 1
            self._events.append(DeviceEvent(self._counter, etype, code, arg))
            return True

    def tick(self) -> None:
        """Advance timers (subclasses)."""

    def flags(self) -> int:
        """Status flags (subclasses)."""
        return 0

    # requests every kind answers ----------------------------------------------------------

    def on_identify(self, msg: Message) -> dict[str, Any]:
        """Who am I."""
        ident = Identity(self.kind, KIND_CODES[self.kind], PROTOCOL_VERSION, self.boot,
                         self.lines, self.columns, "hallq-sim")  # fmt: skip
        return dict(identity_reply(ident).fields)

    def on_poll(self, msg: Message) -> dict[str, Any]:
        """Drop the head event if acknowledged (for this boot); report the next one."""
        ack = msg["ack"]
        if ack and msg["boot"] == self.boot and self._events and self._events[0].number == ack:
            self._events.popleft()
        head = self._events[0] if self._events else None
        pending = min(len(self._events), 255)
        return dict(status_reply(Status(self.boot, self.flags(), pending, head)).fields)

    def on_brightness(self, msg: Message) -> None:
        """Set LED brightness."""
        self.brightness = msg["level"]

    def on_beep(self, msg: Message) -> None:
        """Sound the buzzer."""
        self.beeps += msg["count"]


class SimStrip(SimDevice):
    """A window LED strip (条屏)."""

    kind = DeviceKind.WINDOW_STRIP

    def reset_outputs(self) -> None:
        """Blank."""
        self.shown: tuple[str, ...] = ()
        self.effect = Effect.STEADY

    def on_strip_set(self, msg: Message) -> None:
        """Show new lines."""
        self.shown = tuple(msg["lines"])
        self.effect = EFFECTS_BY_CODE.get(msg["effect"], Effect.STEADY)


class SimBoard(SimDevice):
    """A hall board (综合屏): numbered lines and a scrolling notice."""

    kind = DeviceKind.HALL_BOARD
    lines = 8
    columns = 32

    def reset_outputs(self) -> None:
        """Blank."""
        self._lines: list[str] = []
        self.notice = ""

    @property
    def shown(self) -> tuple[str, ...]:
        """The lines in use."""
        with self.lock:
            return tuple(self._lines)

    def on_board_line(self, msg: Message) -> None:
        """Set one line; ``count`` is the number of lines in use."""
        count, index = msg["count"], msg["index"]
        del self._lines[count:]
        self._lines.extend([""] * (count - len(self._lines)))
        if index < count:
            self._lines[index] = msg["text"]

    def on_board_notice(self, msg: Message) -> None:
        """Set the notice line."""
        self.notice = msg["text"]


class SimEvaluator(SimDevice):
    """An evaluator (评价器): staff on duty, one rating per invitation."""

    kind = DeviceKind.EVALUATOR

    def reset_outputs(self) -> None:
        """Blank, no invitation."""
        self.staff: tuple[str, str, int] | None = None
        self.invitation: tuple[int, float] | None = None
        self.last_invitation = 0
        self.ignored_presses = 0

    @property
    def prompting(self) -> bool:
        """True while an invitation is open."""
        with self.lock:
            self.tick()
            return self.invitation is not None

    def rate(self, rating: Rating) -> bool:
        """A citizen presses a rating key; False if no invitation is open (the press is ignored)."""
        if rating is Rating.NOT_RATED:
            raise ValueError("未评价 is not a key")
        with self.lock:
            self.tick()
            if self.invitation is None:
                self.ignored_presses += 1
                return False
            if not self.latch(EventType.RATING, RATING_CODES[rating], self.invitation[0]):
                return False
            self.invitation = None
            return True

    def tick(self) -> None:
        """Close a timed-out invitation as 未评价."""
        if self.invitation is not None and self._clock() >= self.invitation[1]:
            self._close_unrated()

    def _close_unrated(self) -> None:
        assert self.invitation is not None
        self.latch(EventType.RATING, RATING_CODES[Rating.NOT_RATED], self.invitation[0])
        self.invitation = None

    def flags(self) -> int:
        """Invitation open?"""
        return FLAG_INVITATION_OPEN if self.invitation is not None else 0

    def on_staff_show(self, msg: Message) -> None:
        """Show the staff member on duty."""
        self.staff = (msg["name"], msg["staff_number"], msg["stars"])

    def on_invite(self, msg: Message) -> None:
        """Open an invitation; a still-open one closes as 未评价; a repeated id is a no-op."""
        if msg["invitation"] == self.last_invitation:
            return
        if self.invitation is not None:
            self._close_unrated()
        self.invitation = (msg["invitation"], self._clock() + msg["timeout_s"])
        self.last_invitation = msg["invitation"]

    def on_cancel(self, msg: Message) -> None:
        """Close the invitation without an event."""
        if self.invitation is not None and msg["invitation"] in (0, self.invitation[0]):
            self.invitation = None


class SimKeypad(SimDevice):
    """A caller keypad (呼叫器) with its small display."""

    kind = DeviceKind.KEYPAD

    def reset_outputs(self) -> None:
        """Blank, not paused."""
        self.shown = ""
        self.paused = False

    def press_key(self, key: Key, argument: int = 0) -> bool:
        """A clerk presses a key; False if the event FIFO is full (the keypad beeps)."""
        with self.lock:
            if not self.latch(EventType.KEY, KEY_CODES[key], argument):
                return False
            if key in (Key.PAUSE, Key.RESUME):
                self.paused = key is Key.PAUSE
            return True

    def flags(self) -> int:
        """Paused?"""
        return FLAG_PAUSED if self.paused else 0

    def on_keypad_display(self, msg: Message) -> None:
        """Show a number."""
        self.shown = msg["text"]
