"""Commits of every center process, heard through PostgreSQL LISTEN/NOTIFY.

The writing transaction itself queues ``pg_notify('hallq_events', '<newest seq>')`` in the
statement that takes the event-ordering lock and inserts the events (``center.engine.store``):
PostgreSQL delivers it at commit, to every session LISTENing on the channel, and never for a
rolled-back transaction. It is only a wake-up: receivers read the rows with
``Store.events_after``, unless the notification comes from their own store (whose commits
reach its hub directly) or they have published that seq already, so the 8000-byte payload limit never matters and a lost
notification costs latency, not events. An empty or unreadable payload means "look anyway".

``NotifyListener`` keeps one dedicated connection in a thread of its own (psycopg, autocommit)
and reconnects with backoff; after every (re)connect it reports ``(None, None)`` ("look anyway"), as
notifications sent while it was away are gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import URL

from center.engine.store import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

APPLICATION_NAME = "hallq-listen"
WAIT_SECONDS = 0.25  # how often the thread checks whether it was told to stop
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 10.0


def conninfo(url: URL) -> str:
    """A libpq connection string for a SQLAlchemy ``postgresql+psycopg://`` URL."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    return make_conninfo("", **{k: str(v) for k, v in params.items()})


def parse_payload(payload: str) -> tuple[int | None, str | None]:
    """The seq and origin a notification carries (``"<seq> <origin>"``); None for either
    that it does not carry."""
    seq_text, _, origin = payload.partition(" ")
    try:
        seq: int | None = int(seq_text)
    except ValueError:
        seq = None
    return seq, origin or None


class NotifyListener:
    """LISTENs on the event channel in a thread and calls ``on_notify(seq, origin)``."""

    def __init__(
        self,
        url: URL,
        on_notify: Callable[[int | None, str | None], None],
        *,
        channel: str = NOTIFY_CHANNEL,
        application_name: str = APPLICATION_NAME,
    ) -> None:
        self.url = url
        self.on_notify = on_notify
        self.channel = channel
        self.application_name = application_name
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hallq-event-listen", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (it notices within ``WAIT_SECONDS``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        delay = BACKOFF_FIRST
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:
                if self.connected.is_set():  # it had been working: start the backoff afresh
                    delay = BACKOFF_FIRST
                self.connected.clear()
                log.warning("LISTEN %s lost (%s); reconnecting in %.1f s", self.channel, exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        info = conninfo(self.url)
        with psycopg.connect(info, autocommit=True, application_name=self.application_name) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.connected.set()
            log.info("listening for commits on channel %s", self.channel)
            self.on_notify(None, None)
            while not self._stop.is_set():
                for note in conn.notifies(timeout=WAIT_SECONDS):
                    self.on_notify(*parse_payload(note.payload))
        self.connected.clear()
