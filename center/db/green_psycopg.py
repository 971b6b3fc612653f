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


def open_connection(cargs: Any, cparams: Any) -> GreenConnection:
    """A new pooled connection. Inside a greenlet it is opened on a worker thread: the loop
    keeps serving while the server answers, or while a server that is down times out."""
    if in_greenlet():
        return await_only(asyncio.to_thread(GreenConnection.connect, *cargs, **cparams))
    return GreenConnection.connect(*cargs, **cparams)


class GreenConnection(Connection[Any]):
    """A psycopg connection that, inside ``GreenRunner.run``, waits by yielding to the loop.

    While a greenlet has it checked out, its socket stays registered with the loop for
    reading, rather than once per round trip: each registration costs system calls, and
    those are dear on the test machine (a sandboxed VM). ``release`` (at check-in to the
    pool, on the loop's thread) and ``close`` take it off again, so the loop never watches
    a socket nobody waits on, or one that is closed. Data arriving when nobody waits (a
    notice, the server closing) takes the registration off too; the next wait puts it back.
    """

    _watched_by: asyncio.AbstractEventLoop | None = None
    _watched_fd = -1
    _waiter: asyncio.Future[None] | None = None
    _hallq_prepared: dict[Any, bytes] | None = None

    @property
    def hallq_prepared(self) -> dict[Any, bytes]:
        """The statements ``center.db.pgpipe`` prepared on this session, by query and
        parameter types: psycopg does not know of them."""
        if self._hallq_prepared is None:
            self._hallq_prepared = {}
        return self._hallq_prepared

    def _deallocate(self, name: bytes | None) -> Any:
        # psycopg sends DEALLOCATE ALL after a rollback, a DROP or an ALTER (its own
        # prepared statements may then refer to objects that are gone): that takes ours too.
        if name is None and self._hallq_prepared:
            self._hallq_prepared.clear()
        return super()._deallocate(name)

    def wait(self, gen: Any, interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> Any:
        if not in_greenlet():
            return super().wait(gen, interval, timeout)
        if timeout is not None:  # psycopg's own waits with a deadline (rare: cancels)
            self.release()
            return await_only(
                waiting.wait_async(gen, self.pgconn.socket, interval=interval, timeout=timeout)
            )
        return await_only(self._wait_on_loop(gen))

    async def _wait_on_loop(self, gen: Any) -> Any:
        """Drive psycopg's generator ``gen`` until it returns.

        Where it asks to write, libpq's output buffer is flushed first: when that empties
        it (nearly always) the socket took everything and the generator goes on at once,
        without a poll() to ask whether the socket is writable."""
        pgconn = self.pgconn
        try:
            want = next(gen)
            loop = asyncio.get_running_loop()
            while True:
                if want & _WAIT_W:
                    if pgconn.flush() == 0:
                        want = gen.send(_READY_W)
                    else:  # the socket is full: wait for it the plain way
                        self.release()
                        want = gen.send(await _ready_on_loop(loop, pgconn.socket, want))
                    continue
                if self._watched_by is not loop:
                    self.release()
                    self._watched_fd = pgconn.socket
                    loop.add_reader(self._watched_fd, self._readable)
                    self._watched_by = loop
                waiter = self._waiter = loop.create_future()
                try:
                    await waiter
                finally:
                    self._waiter = None
                want = gen.send(_READY_R)
        except StopIteration as done:
            return done.value
        except OSError as exc:
            raise errors.OperationalError("connection socket closed") from exc

    def _readable(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        elif waiter is None:
            self.release()  # nobody waits: do not let the loop call again and again

    def release(self) -> None:
        """Stop the loop watching the socket (call on the loop's thread).

        By the number it was watched under: libpq may have closed a lost connection's
        socket already, in the same step of the greenlet, before any other code could
        open one under that number."""
        loop, self._watched_by = self._watched_by, None
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self._watched_fd)

    def close(self) -> None:
        self.release()
        super().close()


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
