"""What the display controller tells the center: key presses, ratings, device faults.

The center admits a key press only with that window's keypad token and a rating only with its
evaluator's token (``center/api/windows.py``), so the controller holds one token per device
it speaks for, read from a token file::

    # hallq display tokens: "display TOKEN", "keypad WINDOW TOKEN", "evaluator WINDOW TOKEN"
    display   hqd_…
    keypad    3 hqd_…
    evaluator 3 hqd_…

A file holding a single bare token is the display token alone. A key press or rating from a
window without its own token is sent with the display token (the center refuses it, and the
refusal is kept in the outbox's ``dead`` table, logged, rather than lost silently).

Every report goes through a durable ``Outbox`` (one SQLite file per token under
``directory``): it is on disk before the device is acknowledged, delivered in order at once
when the center answers, and kept while it does not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from devices.client import CenterClient, Outbox, RetryPolicy

log = logging.getLogger(__name__)


class TokenFileError(ValueError):
    """The token file is malformed."""


@dataclass(frozen=True)
class DeviceTokens:
    """The tokens of the display controller and of the window devices it speaks for."""

    display: str
    keypads: Mapping[int, str] = field(default_factory=dict)
    evaluators: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, source: str = "<tokens>") -> DeviceTokens:
        """From the token file's text."""
        rows = [
            (number, line.split())
            for number, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if len(rows) == 1 and len(rows[0][1]) == 1:
            return cls(rows[0][1][0])
        display: str | None = None
        found: dict[str, dict[int, str]] = {"keypad": {}, "evaluator": {}}
        for number, words in rows:
            where = f"{source}:{number}"
            if words[0] == "display" and len(words) == 2:
                display = words[1]
            elif words[0] in found and len(words) == 3 and words[1].isdigit():
                found[words[0]][int(words[1])] = words[2]
            else:
                raise TokenFileError(
                    f"{where}: expected 'display TOKEN' or 'keypad|evaluator WINDOW TOKEN'"
                )
        if display is None:
            raise TokenFileError(f"{source}: no 'display TOKEN' line")
        return cls(display, found["keypad"], found["evaluator"])

    @classmethod
    def load(cls, path: str | Path) -> DeviceTokens:
        """Read a token file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TokenFileError(f"{path}: {exc.strerror or exc}") from None
        return cls.parse(text, str(path))


class Reports(Protocol):
    """Where the controller sends what happened at the windows and on the buses."""

    def start(self) -> None:
        """Begin delivering."""

    def stop(self) -> None:
        """Stop delivering (what is queued stays queued)."""

    def key(self, window: int, key: str, **extra: str) -> None:
        """A key pressed on window ``window``'s keypad (center key name: next, recall…)."""

    def rating(self, window: int, level: int) -> None:
        """A rating (5 very satisfied … 1 very dissatisfied) from the window's evaluator."""

    def fault(self, code: str, message: str, **detail: Any) -> None:
        """A fault of a device the controller owns."""

    def recovery(self, code: str, message: str, **detail: Any) -> None:
        """A fault is over."""

    def pending(self) -> int:
        """Reports not yet delivered."""


class OutboxReports:
    """Reports through one durable outbox per token."""

    def __init__(
        self,
        base_url: str,
        tokens: DeviceTokens,
        directory: str | Path,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 3.0,
    ) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self.directory = Path(directory)
        self._transport = transport
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._outboxes: dict[str, Outbox] = {}
        self._started = False

    def _outbox(self, name: str, token: str) -> Outbox:
        with self._lock:
            box = self._outboxes.get(name)
            if box is None:
                client = CenterClient(
                    self.base_url,
                    token,
                    timeout=self._timeout_s,
                    retry=RetryPolicy(attempts=1),
                    transport=self._transport,
                )
                retry = RetryPolicy(attempts=0, base_seconds=0.5, cap_seconds=10.0)
                box = Outbox(self.directory / f"outbox-{name}.db", client, retry=retry)
                self._outboxes[name] = box
                if self._started:
                    box.start()
            return box

    def _window_box(self, role: str, window: int) -> Outbox:
        own = (self.tokens.keypads if role == "keypad" else self.tokens.evaluators).get(window)
        if own is None:
            log.warning("no %s token for window %d: sending with the display token", role, window)
            return self._outbox("display", self.tokens.display)
        return self._outbox(f"{role}-{window}", own)

    def start(self) -> None:
        """Open the outboxes of every known token and deliver in the background."""
        self._outbox("display", self.tokens.display)
        for window, token in self.tokens.keypads.items():
            self._outbox(f"keypad-{window}", token)
        for window, token in self.tokens.evaluators.items():
            self._outbox(f"evaluator-{window}", token)
        with self._lock:
            self._started = True
            boxes = list(self._outboxes.values())
        for box in boxes:
            box.start()

    def stop(self) -> None:
        """Stop delivering and close the files (undelivered reports stay on disk)."""
        with self._lock:
            boxes, self._outboxes = list(self._outboxes.values()), {}
            self._started = False
        for box in boxes:
            box.client.close()
            box.close()

    def key(self, window: int, key: str, **extra: str) -> None:
        """Queue a key press."""
        self._window_box("keypad", window).key_press(window, key, **extra)

    def rating(self, window: int, level: int) -> None:
        """Queue a rating."""
        self._window_box("evaluator", window).rating(window, level)

    def fault(self, code: str, message: str, **detail: Any) -> None:
        """Queue a fault report with the display token."""
        self._outbox("display", self.tokens.display).fault(code, message, **detail)

    def recovery(self, code: str, message: str, **detail: Any) -> None:
        """Queue a recovery report with the display token."""
        self._outbox("display", self.tokens.display).recovery(code, message, **detail)

    def pending(self) -> int:
        """Reports not yet delivered, over every outbox."""
        with self._lock:
            boxes = list(self._outboxes.values())
        return sum(len(box.pending()) for box in boxes)

    def dead(self) -> list[tuple[str, dict[str, Any], int, str]]:
        """Reports the center refused for good, over every outbox."""
        with self._lock:
            boxes = list(self._outboxes.values())
        return [row for box in boxes for row in box.dead()]
