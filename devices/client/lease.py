"""The kiosk's leased numbers and the tickets it issued from them, in a local SQLite file.

While online the kiosk holds a small lease of numbers per service (taken from the center,
which skips them when it numbers tickets itself). When the center cannot be reached it
issues the next number of a valid lease: the number is marked used and the ticket recorded
in one local transaction before it is printed, so a number is never issued twice, even
across a crash. The recorded tickets are synced when the center is back; each keeps the
time it was taken, which is where the center puts it in the queue.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devices.client.models import Lease
from devices.client.outbox import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    prefix TEXT NOT NULL,
    digits INTEGER NOT NULL,
    hall_day TEXT NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    next INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS offline_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lease_id INTEGER NOT NULL REFERENCES leases(id),
    service TEXT NOT NULL,
    number INTEGER NOT NULL,
    display TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    priority_class TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    note TEXT,
    UNIQUE (lease_id, number)
);
"""


class NoLease(Exception):
    """No valid leased number is left for the service: the kiosk cannot issue offline."""


@dataclass(frozen=True, slots=True)
class OfflineIssued:
    """A ticket issued from a lease, waiting to be synced."""

    id: int
    service: str
    number: int
    display: str
    issued_at: dt.datetime
    priority_class: str | None

    def body(self) -> dict[str, object]:
        """As the center's sync endpoint expects it."""
        out: dict[str, object] = {
            "service": self.service,
            "number": self.number,
            "issued_at": self.issued_at.isoformat(),
        }
        if self.priority_class:
            out["priority_class"] = self.priority_class
        return out


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LeaseStore:
    """Leases and offline tickets of one kiosk."""

    def __init__(self, path: str | Path, *, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self._db = open_db(path, SCHEMA)
        self._lock = threading.Lock()
        self._clock = clock

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()

    def add(self, lease: Lease) -> None:
        """Keep a lease granted by the center (a lease already known is left as it is)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO leases "
                "(id, service, prefix, digits, hall_day, first, last, next, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    lease.id,
                    lease.service,
                    lease.prefix,
                    lease.digits,
                    lease.hall_day.isoformat(),
                    lease.first,
                    lease.last,
                    lease.first,
                    lease.expires_at.timestamp(),
                ),
            )

    def remaining(self, service: str) -> int:
        """Numbers of ``service`` still available from valid leases."""
        with self._lock:
            row = self._db.execute(
                "SELECT coalesce(sum(last - next + 1), 0) FROM leases "
                "WHERE service = ? AND next <= last AND expires_at > ?",
                (service, self._clock().timestamp()),
            ).fetchone()
        return int(row[0])

    def issue(self, service: str, priority_class: str | None = None) -> OfflineIssued:
        """Take the next leased number of ``service`` and record the ticket; raises NoLease."""
        now = self._clock().astimezone(dt.UTC)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                issued = self._take(service, priority_class, now)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return issued

    def _take(self, service: str, priority_class: str | None, now: dt.datetime) -> OfflineIssued:
        lease = self._db.execute(
            "SELECT id, prefix, digits, next FROM leases "
            "WHERE service = ? AND next <= last AND expires_at > ? ORDER BY first LIMIT 1",
            (service, now.timestamp()),
        ).fetchone()
        if lease is None:
            raise NoLease(f"no leased number left for service {service}")
        lease_id, prefix, digits, number = lease
        display = f"{prefix}{number:0{digits}d}"
        self._db.execute("UPDATE leases SET next = next + 1 WHERE id = ?", (lease_id,))
        cur = self._db.execute(
            "INSERT INTO offline_tickets "
            "(lease_id, service, number, display, issued_at, priority_class) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (lease_id, service, number, display, now.isoformat(), priority_class),
        )
        return OfflineIssued(int(cur.lastrowid or 0), service, number, display, now, priority_class)

    def unsynced(self) -> list[OfflineIssued]:
        """Offline tickets the center has not recorded yet, in the order they were issued."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, service, number, display, issued_at, priority_class "
                "FROM offline_tickets WHERE state = 'pending' ORDER BY id"
            ).fetchall()
        return [
            OfflineIssued(r[0], r[1], r[2], r[3], dt.datetime.fromisoformat(r[4]), r[5])
            for r in rows
        ]

    def mark(self, ids: list[int], state: str, note: str | None = None) -> None:
        """Set the sync state of offline tickets: ``synced`` or ``rejected`` (with why)."""
        with self._lock:
            self._db.executemany(
                "UPDATE offline_tickets SET state = ?, note = ? WHERE id = ?",
                [(state, note, i) for i in ids],
            )

    def drop_expired(self) -> int:
        """Forget leases past their hall day whose tickets are all synced; returns how many."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM leases WHERE expires_at <= ? AND id NOT IN "
                "(SELECT lease_id FROM offline_tickets WHERE state = 'pending')",
                (self._clock().timestamp(),),
            )
            self._db.execute(
                "DELETE FROM offline_tickets WHERE lease_id NOT IN (SELECT id FROM leases)"
            )
        return cur.rowcount
