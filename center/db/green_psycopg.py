"""The psycopg side of ``center.db.green``: connections whose waits yield to the loop.

Kept apart from ``center.db.green`` because psycopg is the postgres extra's: a SQLite-only
install never imports it.
"""

from __future__ import annotations

from typing import Any

from psycopg import Connection, waiting
from psycopg.connection import _WAIT_INTERVAL
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet


class GreenConnection(Connection[Any]):
    """A psycopg connection that, inside ``GreenRunner.run``, waits by yielding to the loop."""

    def wait(self, gen: Any, interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> Any:
        if in_greenlet():
            return await_only(
                waiting.wait_async(gen, self.pgconn.socket, interval=interval, timeout=timeout)
            )
        return super().wait(gen, interval, timeout)
