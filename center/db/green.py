"""Database work on the event loop: blocking engine code whose PostgreSQL waits yield.

The engine is plain blocking code over SQLAlchemy and psycopg. Run on worker threads, each
request pays a hand-off to a thread and back, and the threads then contend for the GIL with
the event loop; on the 2-core test machine the center's system CPU, most of it those
hand-offs, was a third of its CPU per request. Here the
same code runs in a greenlet on the event loop's thread instead: whenever psycopg would
block on the socket (``center.db.green_psycopg``), the greenlet parks and the loop runs
other requests until PostgreSQL answers. SQLAlchemy's own asyncio layer works the same way
(``greenlet_spawn`` and ``await_only`` are its).

What this asks of code run here, which the engine keeps:

- no blocking call other than a database wait: no ``time.sleep``, no waiting for another
  thread. Locks are taken only around work that does not touch the database, so two
  greenlets on the one thread never wait for each other's lock;
- per-request state lives in context variables, not thread-locals: every greenlet has its
  own context, all greenlets share the thread.

A connection used outside a greenlet (the event hub's thread, the maintenance thread, a
worker thread) waits the ordinary blocking way. A greenlet that needs a new connection has
it opened on a worker thread, so a database server that is slow to answer, or down, does not
stop the loop. The pool (``center.db.connect``) has room for more connections than the
greenlets may hold at once (``ApiSettings.green_slots``) plus the threads: a greenlet never
waits for the pool, which would block the loop.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.util.concurrency import greenlet_spawn

T = TypeVar("T")
log = logging.getLogger(__name__)


class GreenRunner:
    """Runs blocking database functions as greenlets, at most ``slots`` at a time."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._sems: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        sem = self._sems.get(loop)
        if sem is None:  # one per loop: a test client may run the app on more than one
            sem = self._sems[loop] = asyncio.Semaphore(self.slots)
        await sem.acquire()
        try:
            task = asyncio.ensure_future(greenlet_spawn(fn, *args, **kwargs))
        except BaseException:
            sem.release()
            raise
        # The slot is the greenlet's until it ends, even if its request leaves first.
        task.add_done_callback(lambda _: sem.release())
        # Like a worker thread, the work is not abandoned half-way if the request is
        # cancelled: it runs to its commit or rollback.
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_log_failure)
            raise


def _log_failure(task: asyncio.Future[Any]) -> None:
    """The outcome of work whose request was cancelled: nobody else will look at it."""
    if not task.cancelled() and task.exception() is not None:
        log.error("database work of a cancelled request failed", exc_info=task.exception())
