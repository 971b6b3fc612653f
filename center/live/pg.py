"""Commits of every center process, heard through PostgreSQL LISTEN/NOTIFY.

The writing transaction itself queues ``pg_notify('hallq_events', '<newest seq>')`` in the
statement that takes the event-ordering lock and inserts the events (``center.engine.store``):
PostgreSQL delivers it at commit, to every session LISTENing on the channel, and never for a
rolled-back transaction. It is only a wake-up: receivers read the rows with
``Store.events_after``, unless the notification comes from their own store (whose commits
reach its hub directly) or they have published that seq already, so the 8000-byte payload limit never matters and a lost
notification costs latency, not events. An empty or unreadable payload means "look anyway".

``NotifyListener`` keeps one dedicated connection (psycopg, autocommit, asyncio) and
reconnects with backoff; after every (re)connect it reports ``(None, None)`` ("look anyway"),
as notifications sent while it was away are gone. In the server it listens on the server's
own event loop: every commit of the process NOTIFYs its own listener too, and a thread woken
for each of them (hundreds a second under load) took the GIL from the loop each time.
Without a loop to join (tests, tools) it runs a loop in a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import URL

from center.engine.store import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

APPLICATION_NAME = "hallq-listen"
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
    """LISTENs on the event channel and calls ``on_notify(seq, origin)`` on its loop."""

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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Listen on the running event loop ``loop`` (callable from any thread), or, without
        one, on a loop in a daemon thread of its own."""
        self._ended.clear()
        if loop is not None:
            self._loop = loop
            loop.call_soon_threadsafe(self._begin)
            return
        ready = threading.Event()

        async def hosted() -> None:
            self._loop = asyncio.get_running_loop()
            self._begin()
            ready.set()
            assert self._task is not None
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

        self._thread = threading.Thread(
            target=asyncio.run, args=(hosted(),), name="hallq-event-listen", daemon=True
        )
        self._thread.start()
        ready.wait()

    def close(self) -> None:
        """Stop listening and close the connection; from another thread than the loop's, wait
        until it is closed."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: so is everything on it
            loop.call_soon_threadsafe(self._cancel)
        if not _on_thread_of(loop):
            self._ended.wait(10)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _begin(self) -> None:
        task = self._task = asyncio.get_running_loop().create_task(self._run())
        task.add_done_callback(self._done)

    def _done(self, _task: asyncio.Task[None]) -> None:
        self.connected.clear()
        self._ended.set()

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        while True:
            try:
                await self._listen()
            except Exception as exc:  # not CancelledError: that ends the task
                if self.connected.is_set():  # it had been working: start the backoff afresh
                    delay = BACKOFF_FIRST
                self.connected.clear()
                log.warning("LISTEN %s lost (%s); reconnecting in %.1f s", self.channel, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    async def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        info = conninfo(self.url)
        conn = await psycopg.AsyncConnection.connect(
            info, autocommit=True, application_name=self.application_name
        )
        async with conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.connected.set()
            log.info("listening for commits on channel %s", self.channel)
            self.on_notify(None, None)
            async for note in conn.notifies():
                self.on_notify(*parse_payload(note.payload))
        raise psycopg.OperationalError("the LISTEN connection ended")


def _on_thread_of(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
