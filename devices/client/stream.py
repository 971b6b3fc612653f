"""The center's live events, over its WebSocket, resumed by sequence number (docs/events.md).

    ws[s]://HOST/api/v1/events/stream
    client → {"token": "hqd_…", "since": 123 | null, "kinds": ["ticket.", …]}
    server → {"type": "hello", "since", "head"}, then {"type": "event", "seq", "kind", "at",
             "hall_day", "window", "ticket_id", "actor", "data"}…, {"type": "live", "seq"},
             {"type": "heartbeat", "seq"} when idle

``EventStream`` runs one thread: connect, send the token as the first message with the last
seq seen, hand every event to the callback in order, and on any failure reconnect with an
exponential backoff (full jitter) from the last seq. Events at or below the last seq are
dropped, so none is delivered twice; the server replays whatever was missed. The last seq
is kept in a small JSON file (``PositionFile``) so a restarted process resumes where it left.

Events that arrive while the server replays (before ``live``) are marked ``replayed``; those
replayed after a gap longer than ``fresh_gap_s`` are also ``stale``: a display updates its
state from them but does not announce a call made minutes ago. No Qt here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

log = logging.getLogger(__name__)

STREAM_PATH = "/api/v1/events/stream"
CLOSE_UNAUTHORIZED = 4401
CLOSE_RESYNC = 4409
WARN_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event of the center's log."""

    seq: int
    kind: str
    at: dt.datetime | None
    window: int | None = None
    ticket_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    replayed: bool = False
    """Sent while the server replayed the log (not as it happened)."""
    stale: bool = False
    """Replayed after a gap longer than the stream's ``fresh_gap_s``."""

    @classmethod
    def parse(
        cls, msg: dict[str, Any], *, replayed: bool = False, stale: bool = False
    ) -> StreamEvent:
        """From a stream message; ValueError if it is not an event."""
        try:
            at = msg.get("at")
            return cls(
                seq=int(msg["seq"]),
                kind=str(msg["kind"]),
                at=dt.datetime.fromisoformat(at) if isinstance(at, str) else None,
                window=msg.get("window"),
                ticket_id=msg.get("ticket_id"),
                data=dict(msg.get("data") or {}),
                actor=msg.get("actor"),
                replayed=replayed,
                stale=stale,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not an event message: {exc}") from exc


class StreamState(enum.Enum):
    """Where the stream stands."""

    STOPPED = "stopped"
    CONNECTING = "connecting"
    REPLAYING = "replaying"
    LIVE = "live"
    RETRYING = "retrying"
    """Waiting before the next connection attempt."""


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """Immutable snapshot of the stream."""

    state: StreamState
    last_seq: int | None
    connects: int
    """Successful subscriptions so far."""
    last_error: str = ""
    unauthorized: bool = False
    """The center refused the token at the last attempt."""

    @property
    def available(self) -> bool:
        """Connected and subscribed."""
        return self.state in (StreamState.REPLAYING, StreamState.LIVE)


@dataclass(frozen=True, slots=True)
class Connected:
    """Told to ``on_connect`` when a subscription starts, before its first event."""

    since: int | None
    head: int | None
    gap_s: float | None
    """Seconds since the last contact with the center (None: unknown, e.g. first start)."""


class PositionFile:
    """The last seq handled, kept in a JSON file replaced atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> tuple[int | None, float | None]:
        """(seq, wall-clock time it was saved); (None, None) if absent or unreadable."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            seq = data["seq"]
            saved = data.get("saved_at")
            if isinstance(seq, int) and seq >= 0:
                return seq, float(saved) if isinstance(saved, int | float) else None
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable stream position %s: %s", self.path, exc)
        return None, None

    def save(self, seq: int, when: float | None = None) -> None:
        """Record ``seq``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        payload = {"seq": seq, "saved_at": time.time() if when is None else when}
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(tmp, self.path)


def stream_url(base_url: str) -> str:
    """``http://host:8000`` → ``ws://host:8000/api/v1/events/stream`` (https → wss)."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss"):
        raise ValueError(f"not an http(s) or ws(s) URL: {base_url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(STREAM_PATH):
        path += STREAM_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


EventCallback = Callable[[StreamEvent], None]
ConnectCallback = Callable[[Connected], None]


class _Retry(Exception):
    """End this connection and try again (after ``delay`` seconds, None: the backoff)."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class EventStream:
    """A resumable subscription to the center's events, run by one thread."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        position: PositionFile | str | os.PathLike[str] | None = None,
        kinds: Sequence[str] = (),
        fresh_gap_s: float = 15.0,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 5.0,
        unauthorized_retry_s: float = 30.0,
        open_timeout_s: float = 5.0,
        idle_timeout_s: float = 45.0,
    ) -> None:
        self.url = stream_url(base_url)
        self._token = token
        self._position = (
            position if isinstance(position, PositionFile) or position is None
            else PositionFile(position)
        )  # fmt: skip
        self.kinds = list(kinds)
        self.fresh_gap_s = fresh_gap_s
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.unauthorized_retry_s = unauthorized_retry_s
        self.open_timeout_s = open_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ws: ClientConnection | None = None
        self._on_event: EventCallback | None = None
        self._on_connect: ConnectCallback | None = None
        self._last_seq: int | None = None
        self._last_contact: float | None = None
        """Wall-clock time of the last message from the center."""
        self._stale = True
        self._subscribed = False
        self._status = StreamStatus(StreamState.STOPPED, None, 0)

    # lifecycle -------------------------------------------------------------------------------

    def start(self, on_event: EventCallback, on_connect: ConnectCallback | None = None) -> None:
        """Subscribe in a background thread; events go to ``on_event`` in seq order."""
        if self._thread is not None:
            return
        self._on_event, self._on_connect = on_event, on_connect
        if self._position is not None:
            self._last_seq, self._last_contact = self._position.load()
        self._stop.clear()
        self._update(state=StreamState.CONNECTING, last_seq=self._last_seq)
        self._thread = threading.Thread(target=self._run, name="hallq-event-stream", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the connection and stop the thread (the position is saved)."""
        self._stop.set()
        with self._lock:
            ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._save()
        self._update(state=StreamState.STOPPED)

    @property
    def status(self) -> StreamStatus:
        """Snapshot of the stream's state."""
        with self._lock:
            return self._status

    # the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        warned_at = -WARN_EVERY_S
        while not self._stop.is_set():
            self._update(state=StreamState.CONNECTING)
            self._subscribed = False
            delay: float | None = None
            try:
                self._session()
            except _Retry as retry:
                delay = retry.delay
                self._update(last_error=str(retry))
                now = time.monotonic()
                # One warning when the trouble starts, then one a minute while it lasts.
                loud = retry.delay != 0 and (self._subscribed or now - warned_at >= WARN_EVERY_S)
                if loud:
                    warned_at = now
                log.log(logging.WARNING if loud else logging.DEBUG,
                        "event stream %s: %s", self.url, retry)  # fmt: skip
            if self._stop.is_set():
                return
            if self._subscribed:
                failures = 0
            if delay is None:
                delay = random.uniform(
                    0, min(self.backoff_cap_s, self.backoff_base_s * 2**failures)
                )
                failures = min(failures + 1, 16)
            self._update(state=StreamState.RETRYING)
            self._stop.wait(delay)

    def _session(self) -> None:
        try:
            with connect(
                self.url,
                open_timeout=self.open_timeout_s,
                close_timeout=2,
                proxy=None,
                user_agent_header="hallq-display",
            ) as ws:
                with self._lock:
                    self._ws = ws
                if self._stop.is_set():
                    return
                self._subscribe(ws)
                while not self._stop.is_set():
                    self._handle(ws.recv(timeout=self.idle_timeout_s))
        except ConnectionClosed as exc:
            if self._stop.is_set():
                return
            raise self._closed(exc) from None
        except TimeoutError:
            raise _Retry(f"nothing heard for {self.idle_timeout_s:.0f} s") from None
        except (OSError, InvalidURI, InvalidHandshake) as exc:
            raise _Retry(f"cannot connect: {exc}") from None
        finally:
            with self._lock:
                self._ws = None

    def _closed(self, exc: ConnectionClosed) -> _Retry:
        code = exc.rcvd.code if exc.rcvd is not None else None
        reason = exc.rcvd.reason if exc.rcvd is not None else "connection lost"
        if code == CLOSE_UNAUTHORIZED:
            self._update(unauthorized=True)
            log.error("the center refused the display token; retrying in %.0f s",
                      self.unauthorized_retry_s)  # fmt: skip
            return _Retry(f"unauthorized: {reason}", self.unauthorized_retry_s)
        if code == CLOSE_RESYNC:
            return _Retry(f"resync: {reason}", 0)
        return _Retry(f"closed ({code}): {reason}")

    def _subscribe(self, ws: ClientConnection) -> None:
        hello: dict[str, Any] = {"token": self._token, "since": self._last_seq}
        if self.kinds:
            hello["kinds"] = self.kinds
        ws.send(json.dumps(hello))
        reply = self._decode(ws.recv(timeout=self.open_timeout_s))
        if reply.get("type") != "hello":
            raise _Retry(f"expected hello, got {reply.get('type')!r}")
        now = time.time()
        gap = now - self._last_contact if self._last_contact is not None else None
        self._stale = gap is None or gap > self.fresh_gap_s
        self._last_contact = now
        since = reply.get("since")
        if self._last_seq is None and isinstance(since, int):
            self._last_seq = since
        head = reply.get("head")
        self._subscribed = True
        self._update(
            state=StreamState.REPLAYING,
            connects=self.status.connects + 1,
            last_error="",
            unauthorized=False,
            last_seq=self._last_seq,
        )
        log.info("event stream subscribed after seq %s (center at %s)", self._last_seq, head)
        if self._on_connect is not None:
            try:
                self._on_connect(
                    Connected(self._last_seq, head if isinstance(head, int) else None, gap)
                )
            except Exception:
                log.exception("event stream: on_connect failed")

    def _handle(self, raw: str | bytes) -> None:
        msg = self._decode(raw)
        self._last_contact = time.time()
        kind = msg.get("type")
        if kind == "event":
            self._deliver(msg)
        elif kind in ("live", "heartbeat"):
            seq = msg.get("seq")
            if isinstance(seq, int) and (self._last_seq is None or seq > self._last_seq):
                self._last_seq = seq
            if kind == "live":
                self._update(state=StreamState.LIVE, last_seq=self._last_seq)
            self._save()

    def _deliver(self, msg: dict[str, Any]) -> None:
        replaying = self.status.state is StreamState.REPLAYING
        try:
            event = StreamEvent.parse(msg, replayed=replaying, stale=replaying and self._stale)
        except ValueError as exc:
            log.error("event stream: %s", exc)
            return
        if self._last_seq is not None and event.seq <= self._last_seq:
            return
        callback = self._on_event
        if callback is not None:
            try:
                callback(event)
            except Exception:
                log.exception("event stream: handler failed on %s #%d", event.kind, event.seq)
        self._last_seq = event.seq
        self._update(last_seq=event.seq)
        self._save()

    @staticmethod
    def _decode(raw: str | bytes) -> dict[str, Any]:
        try:
            msg = json.loads(raw)
        except ValueError:
            raise _Retry("the center sent something that is not JSON") from None
        if not isinstance(msg, dict):
            raise _Retry("the center sent a JSON value that is not an object")
        return msg

    def _save(self) -> None:
        if self._position is not None and self._last_seq is not None:
            try:
                self._position.save(self._last_seq, self._last_contact)
            except OSError as exc:
                log.warning("cannot save the stream position to %s: %s", self._position.path, exc)

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)


__all__ = [
    "Connected",
    "EventStream",
    "PositionFile",
    "StreamEvent",
    "StreamState",
    "StreamStatus",
    "stream_url",
]
