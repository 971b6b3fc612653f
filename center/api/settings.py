"""Settings of the API service (not of the hall: those are in the hall config)."""

from __future__ import annotations

from dataclasses import dataclass, field

from center.auth.cache import DEFAULT_TTL_SECONDS
from center.auth.staff import PinPolicy

DEFAULT_WORKER_THREADS = 4
MAX_GREEN_SLOTS = 64
"""The PostgreSQL pool holds at most 96 connections (``center.db.connect``: 32, and 64 more
under load); the greenlets must leave some to the worker threads and the event hub. A pool
with none left would block the event loop itself."""


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Limits and policies of the HTTP service."""

    max_body_bytes: int = 64 * 1024
    """Larger request bodies are refused with 413 before they are parsed."""
    pins: PinPolicy = field(default_factory=PinPolicy)
    idempotency_days: int = 7
    """Stored replies older than this are purged at start."""
    auth_cache_seconds: float = DEFAULT_TTL_SECONDS
    """How long a checked token is trusted without a database read (0: check every time).
    A token revoked in another process stops working here within this time."""
    worker_threads: int = DEFAULT_WORKER_THREADS
    """Threads that run the blocking endpoints (database work). anyio's default of 40 lets
    dozens of threads fight over the GIL under load: on 2 cores, 4 threads served 570
    requests/s where 40 served 401 (docs/benchmarks.md)."""
    green_slots: int = 8
    """On PostgreSQL, database endpoints run as greenlets on the event loop
    (``center.db.green``); at most this many at once, each holding a pooled connection.
    On 2 cores 8 served the most requests: 16 made PostgreSQL spend more per request on
    contention, 4 was about as good (docs/benchmarks.md)."""
