"""Watching PC/SC readers for citizen cards: insert and remove events with the card identity.

One thread owns a PC/SC context and blocks in SCardGetStatusChange (at most ``poll_s`` at
a time, or until ``stop()`` cancels it). When a card appears it reads the identity
(``reader.read_identity``) and reports ``INSERTED`` (or ``READ_FAILED``); when it goes,
``REMOVED``. If pcscd goes away the monitor reports ``UNAVAILABLE``, retries every
``retry_s`` and reports ``AVAILABLE`` when it is back. Callbacks run on the monitor's thread;
the kiosk turns them into Qt signals. The monitor never raises into its owner.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from devices.citizencard.errors import CardError, CitizenCardError, NoReader, PcscUnavailable
from devices.citizencard.pcsc import PcscContext
from devices.citizencard.reader import CardIdentity, CitizenCardConfig, read_identity

log = logging.getLogger(__name__)


class CardEventKind(enum.Enum):
    """What happened."""

    INSERTED = "inserted"
    REMOVED = "removed"
    READ_FAILED = "read_failed"
    UNAVAILABLE = "unavailable"
    """PC/SC is down (pcscd stopped, pyscard missing) or no reader is attached."""
    AVAILABLE = "available"


@dataclass(frozen=True)
class CardEvent:
    """One event; ``identity`` for INSERTED and REMOVED, ``error`` for failures."""

    kind: CardEventKind
    reader: str = ""
    identity: CardIdentity | None = None
    error: CitizenCardError | None = None


@dataclass(frozen=True)
class MonitorSnapshot:
    """The monitor's view, immutable."""

    available: bool
    readers: tuple[str, ...] = ()
    cards: dict[str, CardIdentity] = field(default_factory=dict)
    error: str = ""


class CitizenCardMonitor:
    """Reports card insertions and removals on every matching PC/SC reader."""

    def __init__(
        self,
        on_event: Callable[[CardEvent], None],
        config: CitizenCardConfig | None = None,
        *,
        poll_s: float = 0.2,
        retry_s: float = 1.0,
        read_attempts: int = 3,
        read_retry_s: float = 0.3,
        context_factory: Callable[[], PcscContext] = PcscContext,
    ) -> None:
        self.config = config or CitizenCardConfig()
        self._on_event = on_event
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.read_attempts = read_attempts
        self.read_retry_s = read_retry_s
        self._context_factory = context_factory
        self._context: PcscContext | None = None
        self._states: dict[str, int] = {}
        self._cards: dict[str, CardIdentity] = {}
        self._present: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._snapshot = MonitorSnapshot(False)
        self._reported: bool | None = None

    @property
    def snapshot(self) -> MonitorSnapshot:
        """Readers, the cards in them, and whether PC/SC works."""
        return self._snapshot

    def start(self) -> None:
        """Start watching."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="citizencard", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching and release the PC/SC context."""
        self._stop.set()
        with self._lock:
            if self._context is not None:
                self._context.cancel()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> CitizenCardMonitor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ thread

    def _emit(self, event: CardEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("citizen card callback failed")

    def _publish(self, available: bool, error: CitizenCardError | None = None) -> None:
        self._snapshot = MonitorSnapshot(
            available, tuple(self._states), dict(self._cards), str(error or "")
        )
        if available != self._reported:
            self._reported = available
            kind = CardEventKind.AVAILABLE if available else CardEventKind.UNAVAILABLE
            self._emit(CardEvent(kind, error=error))

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._step()
                except (PcscUnavailable, NoReader) as exc:
                    self._lost(exc)
                    self._stop.wait(self.retry_s)
        finally:
            self._close()

    def _close(self) -> None:
        with self._lock:
            context, self._context = self._context, None
        if context is not None:
            context.close()

    def _lost(self, exc: CitizenCardError) -> None:
        log.warning("citizen card readers unavailable: %s", exc)
        self._close()
        for reader in sorted(self._present):
            self._removed(reader)
        self._states.clear()
        self._publish(False, exc)

    def _step(self) -> None:
        if self._context is None:
            context = self._context_factory()
            with self._lock:
                self._context = context
        context = self._context
        readers = [r for r in context.readers() if self.config.reader_name in r]
        if not readers:
            raise NoReader("no PC/SC reader is attached")
        self._sync_readers(readers)
        self._publish(True)
        changes = context.wait_change(self._states, self.poll_s)
        for status in changes or ():
            self._states[status.reader] = status.event_state & ~context.scard.SCARD_STATE_CHANGED
            present = status.present(context.scard)
            if present and status.reader not in self._present:
                self._inserted(context, status.reader, status.atr)
            elif not present and status.reader in self._present:
                self._removed(status.reader)
        if changes:
            self._publish(True)

    def _sync_readers(self, readers: list[str]) -> None:
        for gone in [r for r in self._states if r not in readers]:
            if gone in self._present:
                self._removed(gone)
            del self._states[gone]
        for new in readers:
            self._states.setdefault(new, 0)  # SCARD_STATE_UNAWARE: report the current state

    def _inserted(self, context: PcscContext, reader: str, atr: bytes) -> None:
        self._present.add(reader)
        for attempt in range(1, self.read_attempts + 1):
            try:
                identity = read_identity(context, reader, self.config, atr)
                break
            except CardError as exc:
                # A card refusing an APDU (sw set) answers the same again; a transport error
                # (card still settling, or pulled and pushed back within pcscd's 0.4 s poll)
                # is worth another try.
                if exc.sw is not None or attempt == self.read_attempts or self._stop.is_set():
                    log.info("citizen card in %s unreadable: %s", reader, exc)
                    self._emit(CardEvent(CardEventKind.READ_FAILED, reader, error=exc))
                    return
                self._stop.wait(self.read_retry_s)
        self._cards[reader] = identity
        self._emit(CardEvent(CardEventKind.INSERTED, reader, identity))

    def _removed(self, reader: str) -> None:
        self._present.discard(reader)
        identity = self._cards.pop(reader, None)
        self._emit(CardEvent(CardEventKind.REMOVED, reader, identity))
