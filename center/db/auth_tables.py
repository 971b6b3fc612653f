"""Tables of the service layer: device tokens, staff sessions, PIN throttling, idempotent
replies and kiosk number leases.

They share ``metadata`` with ``center.db.tables`` (so Alembic sees one schema) and are created
by migration 0002. Tokens are never stored: only their SHA-256 hex digest.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from center.db.tables import metadata
from center.db.types import BigId, UTCDateTime

devices = Table(
    "devices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("window", Integer, nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_seen_at", UTCDateTime, nullable=True),
    # The device's last reported condition: "ok" or "fault" (None: never reported).
    Column("state", String(16), nullable=True),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("staff", String(16), nullable=False),
    Column("role", String(16), nullable=False),
    Column("window", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index("ix_staff_sessions_staff_ended", "staff", "ended_at"),
)

pin_attempts = Table(
    "pin_attempts",
    metadata,
    Column("staff", String(16), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(80), nullable=False),
    Column("key", String(128), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("principal", "key"),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

number_leases = Table(
    "number_leases",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device", String(64), nullable=False),
    Column("hall_day", Date, nullable=False),
    Column("service", String(24), nullable=False),
    Column("first_number", Integer, nullable=False),
    Column("last_number", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_number_leases_device_day", "device", "hall_day", "service"),
)
