"""The owner of one ID card reader: a thread that keeps it open, waits for cards, reports.

The kiosk wraps this in a QObject and turns the callbacks into signals; this module knows
nothing of Qt. Callbacks run on the service's thread. A reader that fails shows as
``available = False`` in the snapshot and is reopened every ``reopen_s``; the service never
raises into its owner.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from devices.bus.port import SerialFactory
from devices.idcard.driver import DEFAULT_BAUDRATE, IdCardReader, ReaderState, ReaderTiming
from devices.idcard.errors import IdCardError, NoCard
from devices.idcard.protocol import IdCard

log = logging.getLogger(__name__)
T = TypeVar("T")

READY_PROMPT = NoCard.prompt


def _call(callback: Callable[[T], object], value: T) -> None:
    """Run an owner's callback; its bugs are logged, never allowed to stop the thread."""
    try:
        callback(value)
    except Exception:
        log.exception("ID card callback failed")


@dataclass(frozen=True)
class ReaderSnapshot:
    """What a screen shows about the reader (no personal data)."""

    state: ReaderState
    available: bool
    prompt: str
    """Chinese text for the citizen: the ready prompt or the last error's prompt."""
    error: str = ""
    """English text of the last error, for staff; "" when fine."""


class IdCardService:
    """Keeps a reader open on its own thread and reports cards, errors and state changes."""

    def __init__(
        self,
        url: str,
        baudrate: int = DEFAULT_BAUDRATE,
        *,
        on_card: Callable[[IdCard], None],
        on_error: Callable[[IdCardError], None] | None = None,
        on_state: Callable[[ReaderSnapshot], None] | None = None,
        timing: ReaderTiming | None = None,
        poll_s: float = 0.5,
        reopen_s: float = 2.0,
        today: Callable[[], dt.date] = dt.date.today,
        factory: SerialFactory | None = None,
    ) -> None:
        self.reader = IdCardReader(url, baudrate, timing=timing, factory=factory)
        self._on_card = on_card
        self._on_error = on_error
        self._on_state = on_state
        self.poll_s = poll_s
        self.reopen_s = reopen_s
        self._today = today
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._snapshot = ReaderSnapshot(ReaderState.CLOSED, False, READY_PROMPT)

    @property
    def snapshot(self) -> ReaderSnapshot:
        """The latest state (immutable)."""
        return self._snapshot

    def start(self) -> None:
        """Start the thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idcard", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the port."""
        self._stop.set()
        self.reader.cancel()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.reader.close()

    def _publish(self, prompt: str = READY_PROMPT, error: str = "") -> None:
        snap = ReaderSnapshot(self.reader.state, self.reader.available, prompt, error)
        if snap != self._snapshot:
            self._snapshot = snap
            if self._on_state is not None:
                _call(self._on_state, snap)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.reader.available and not self._reopen():
                self._stop.wait(self.reopen_s)
                continue
            try:
                card = self.reader.read_card(self.poll_s, today=self._today())
            except NoCard:
                self._publish()
                continue
            except IdCardError as exc:
                log.warning("ID card read failed: %s", exc)
                self._publish(exc.prompt, str(exc))
                if self._on_error is not None:
                    _call(self._on_error, exc)
                continue
            self._publish()
            _call(self._on_card, card)

    def _reopen(self) -> bool:
        self.reader.close()
        try:
            self.reader.open()
        except IdCardError as exc:
            self._publish(exc.prompt, str(exc))
            return False
        self._publish()
        return True
