"""The psycopg side of ``center.db.green``: connections whose waits yield to the loop.

Kept apart from ``center.db.green`` because psycopg is the postgres extra's: a SQLite-only
install never imports it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg import Connection, errors, waiting
from psycopg.connection import _WAIT_INTERVAL
from psycopg.waiting import Ready, Wait
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

_WAIT_R = Wait.R
_WAIT_W = Wait.W
_READY_R = Ready.R
_READY_W = Ready.W


class GreenConnection(Connection[Any]):
    """A psycopg connection that, inside ``GreenRunner.run``, waits by yielding to the loop."""

    def wait(self, gen: Any, interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> Any:
        if not in_greenlet():
            return super().wait(gen, interval, timeout)
        if timeout is not None:  # psycopg's own waits with a deadline (rare: cancels)
            return await_only(
                waiting.wait_async(gen, self.pgconn.socket, interval=interval, timeout=timeout)
            )
        return await_only(wait_on_loop(gen, self.pgconn.socket))


async def wait_on_loop(gen: Any, fileno: int) -> Any:
    """Drive psycopg's generator ``gen`` on socket ``fileno`` until it returns.

    ``psycopg.waiting.wait_async`` without what a server loop does not need: its timer per
    wait (there for Ctrl-C and deadlines) and its busy-loop checks; about 10 µs of CPU per
    round trip on the test machine. A socket asked for writing is tried at once with a
    zero-timeout poll, as psycopg does: it is nearly always writable."""
    try:
        want = next(gen)
        loop = asyncio.get_running_loop()
        while True:
            ready = waiting._ready(fileno, want) if want & _WAIT_W else 0
            if not ready:
                ready = await _ready_on_loop(loop, fileno, want)
            want = gen.send(ready)
    except StopIteration as done:
        return done.value
    except OSError as exc:
        raise errors.OperationalError("connection socket closed") from exc


async def _ready_on_loop(loop: asyncio.AbstractEventLoop, fileno: int, want: int) -> int:
    got = 0
    fut = loop.create_future()

    def wakeup(state: Ready) -> None:
        nonlocal got
        got |= state
        if not fut.done():
            fut.set_result(None)

    reader = want & _WAIT_R
    writer = want & _WAIT_W
    if reader:
        loop.add_reader(fileno, wakeup, _READY_R)
    if writer:
        loop.add_writer(fileno, wakeup, _READY_W)
    try:
        await fut
    finally:
        if reader:
            loop.remove_reader(fileno)
        if writer:
            loop.remove_writer(fileno)
    return got
