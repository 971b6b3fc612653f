"""A durable FIFO of reports (ratings, key presses, device faults) for the center.

Each report is written to a local SQLite file with its idempotency key, made when it is
queued, before any delivery is tried; it is removed only once the center has accepted it.
So a report survives a crash or restart of the device process, is delivered in the order it
was made, and, however often delivery is retried, the center records it once.

Delivery stops at the first report the center cannot take now (unreachable, 5xx, 401/403:
a token problem is fixed by a person, not by dropping reports) and resumes later with a
backoff. A report the center refuses for good (another 4xx) is moved to ``dead`` with the
reason, so one bad report never blocks the ones behind it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.client.client import CenterClient, RetryPolicy, new_key
from devices.client.errors import CenterRefused, CenterUnreachable, NotAuthorized

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS dead (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    key TEXT NOT NULL,
    created_at REAL NOT NULL,
    status INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Report:
    """A queued report."""

    id: int
    path: str
    body: dict[str, Any]
    key: str
    attempts: int


def open_db(path: str | Path, schema: str) -> sqlite3.Connection:
    """A SQLite file for durable device state (WAL, synced on commit, autocommit mode)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    return conn


class Outbox:
    """Reports waiting for the center, on disk, delivered in order."""

    def __init__(
        self,
        path: str | Path,
        client: CenterClient,
        *,
        retry: RetryPolicy | None = None,
        idle_seconds: float = 5.0,
    ) -> None:
        self.client = client
        self.retry = retry or RetryPolicy(attempts=0, base_seconds=1.0, cap_seconds=60.0)
        self.idle_seconds = idle_seconds
        self._db = open_db(path, SCHEMA)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- queueing ------------------------------------------------------------------------

    def put(self, path: str, body: dict[str, Any]) -> str:
        """Queue a POST of ``body`` to ``path``; returns its idempotency key."""
        key = new_key()
        with self._lock:
            self._db.execute(
                "INSERT INTO outbox (path, body, key, created_at) VALUES (?, ?, ?, ?)",
                (path, json.dumps(body, ensure_ascii=False), key, time.time()),
            )
        self._wake.set()
        return key

    def rating(self, window: int, level: int) -> str:
        """Queue a rating from window ``window``'s evaluator."""
        return self.put(f"/api/v1/windows/{int(window)}/rating", {"level": level})

    def key_press(self, window: int, key_name: str, **extra: str) -> str:
        """Queue a key press from window ``window``'s keypad."""
        return self.put(f"/api/v1/windows/{int(window)}/keys", {"key": key_name, **extra})

    def fault(self, code: str, message: str | None = None, **detail: Any) -> str:
        """Queue a fault report of this device."""
        return self.put("/api/v1/devices/fault", _report_body(code, message, detail))

    def recovery(self, code: str, message: str | None = None, **detail: Any) -> str:
        """Queue a recovery report of this device."""
        return self.put("/api/v1/devices/recovery", _report_body(code, message, detail))

    def pending(self) -> list[Report]:
        """Reports not yet delivered, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, path, body, key, attempts FROM outbox ORDER BY id"
            ).fetchall()
        return [Report(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]

    def dead(self) -> list[tuple[str, dict[str, Any], int, str]]:
        """Reports the center refused for good: (path, body, status, error)."""
        with self._lock:
            rows = self._db.execute("SELECT path, body, status, error FROM dead ORDER BY id")
            return [(r[0], json.loads(r[1]), r[2], r[3]) for r in rows.fetchall()]

    # --- delivery ------------------------------------------------------------------------

    def deliver(self) -> bool:
        """Deliver queued reports in order until done or the center cannot take one now.

        Returns True when the queue is empty afterwards."""
        while True:
            head = self._head()
            if head is None:
                return True
            try:
                self.client.request("POST", head.path, json=head.body, idempotency_key=head.key)
            except (CenterUnreachable, NotAuthorized) as exc:
                self._note_failure(head, str(exc))
                return False
            except CenterRefused as exc:
                log.warning("center refused a queued report to %s: %s", head.path, exc.message)
                self._bury(head, exc)
                continue
            self._remove(head)

    def _head(self) -> Report | None:
        with self._lock:
            r = self._db.execute(
                "SELECT id, path, body, key, attempts FROM outbox ORDER BY id LIMIT 1"
            ).fetchone()
        return Report(r[0], r[1], json.loads(r[2]), r[3], r[4]) if r else None

    def _remove(self, report: Report) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE id = ?", (report.id,))

    def _note_failure(self, report: Report, error: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error[:500], report.id),
            )

    def _bury(self, report: Report, exc: CenterRefused) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO dead (id, path, body, key, created_at, status, error, failed_at) "
                "SELECT id, path, body, key, created_at, ?, ?, ? FROM outbox WHERE id = ?",
                (exc.status, f"{exc.code}: {exc.message}"[:500], time.time(), report.id),
            )
            self._db.execute("DELETE FROM outbox WHERE id = ?", (report.id,))
            self._db.execute("COMMIT")

    # --- the delivery thread -------------------------------------------------------------

    def start(self) -> None:
        """Deliver in a background thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hallq-outbox", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                empty = self.deliver()
            except Exception:
                log.exception("outbox delivery failed")
                empty = False
            if empty:
                failures = 0
                self._wake.wait(self.idle_seconds)
            else:
                self._stop.wait(self.retry.delay(min(failures, 16)))
                failures += 1
            self._wake.clear()

    def stop(self) -> None:
        """Stop the delivery thread (queued reports stay on disk)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def close(self) -> None:
        """Stop delivering and close the file."""
        self.stop()
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _report_body(code: str, message: str | None, detail: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "detail": detail}
    if message:
        body["message"] = message
    return body
