"""Tables of the case database (SQLAlchemy Core).

Times are aware UTC (:class:`UTCDateTime`); ``hall_day`` is the hall's local business date
(numbers reset per hall day). States are stored as the ``value`` of the enums in
``center.engine.states``. The ``events`` table is the append-only event log (全过程留痕): its
``seq`` grows monotonically in commit order and is what live subscribers resume from.
Personal data lives only in ``persons``, encrypted (see ``center.pii``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from center.db.types import BigId, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

WAITING = text("state = 'waiting'")

persons = Table(
    "persons",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("id_hash", String(64), nullable=False, unique=True),
    Column("name_enc", LargeBinary, nullable=True),
    Column("id_number_enc", LargeBinary, nullable=False),
    Column("phone_enc", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

number_counters = Table(
    "number_counters",
    metadata,
    Column("hall_day", Date, primary_key=True),
    Column("service", String(24), primary_key=True),
    Column("last_number", Integer, nullable=False),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("service", String(24), nullable=False),
    Column("person_id", ForeignKey("persons.id"), nullable=True),
    Column("slot_start", UTCDateTime, nullable=False),
    Column("slot_end", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("ticket_id", BigId, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("hall_day", Date, nullable=False),
    Column("service", String(24), nullable=False),
    Column("number", Integer, nullable=False),
    Column("display", String(8), nullable=False),
    Column("source", String(16), nullable=False),
    Column("source_ref", String(64), nullable=True),
    Column("lane", String(16), nullable=False),
    Column("priority_class", String(24), nullable=True),
    Column("queue_key", BigId, nullable=False),
    Column("state", String(16), nullable=False),
    Column("person_id", ForeignKey("persons.id"), nullable=True),
    Column("appointment_id", ForeignKey("appointments.id"), nullable=True),
    Column("original_service", String(24), nullable=False),
    Column("window", Integer, nullable=True),
    Column("target_window", Integer, nullable=True),
    Column("staff", String(16), nullable=True),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("first_called_at", UTCDateTime, nullable=True),
    Column("called_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("recalls", Integer, nullable=False, server_default="0"),
    Column("transfers", Integer, nullable=False, server_default="0"),
    Column("requeues", Integer, nullable=False, server_default="0"),
    UniqueConstraint("hall_day", "original_service", "number"),
    # Call-next reads only the head of each lane: these partial indexes keep that an
    # index seek whatever the queue length.
    Index(
        "ix_tickets_waiting_lane",
        "hall_day",
        "service",
        "lane",
        "queue_key",
        "id",
        sqlite_where=WAITING,
        postgresql_where=WAITING,
    ),
    Index(
        "ix_tickets_waiting_direct",
        "target_window",
        "queue_key",
        "id",
        sqlite_where=text("state = 'waiting' AND target_window IS NOT NULL"),
        postgresql_where=text("state = 'waiting' AND target_window IS NOT NULL"),
    ),
    Index("ix_tickets_person_day", "person_id", "hall_day"),
    Index("ix_tickets_day_state", "hall_day", "state"),
)

calls = Table(
    "calls",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False, index=True),
    Column("window", Integer, nullable=False),
    Column("staff", String(16), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False, index=True),
    Column("hall_day", Date, nullable=False),
    Column("service", String(24), nullable=False),
    Column("window", Integer, nullable=False),
    Column("staff", String(16), nullable=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("outcome", String(16), nullable=True),
    Index("ix_sessions_service_ended", "service", "ended_at"),
)

windows = Table(
    "windows",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    Column("staff", String(16), nullable=True),
    Column("covering_for", String(16), nullable=True),
    Column("current_ticket_id", BigId, nullable=True),
    Column("pause_reason", String(200), nullable=True),
    Column("status_since", UTCDateTime, nullable=True),
    Column("priority_streak", Integer, nullable=False, server_default="0"),
)

post_events = Table(
    "post_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("staff", String(16), nullable=False),
    Column("window", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", String(200), nullable=True),
    Column("covering_for", String(16), nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_post_events_staff_at", "staff", "at"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_no", String(32), nullable=False, unique=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=True, index=True),
    Column("session_id", ForeignKey("sessions.id"), nullable=True),
    Column("service", String(24), nullable=False),
    Column("item", String(200), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("status", String(24), nullable=False),
    Column("person_id", ForeignKey("persons.id"), nullable=True),
    Column("window", Integer, nullable=True),
    Column("staff", String(16), nullable=True),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("clock_start", Date, nullable=True),
    Column("working_days", Integer, nullable=True),
    Column("due", Date, nullable=True),
    Column("due_provisional", Boolean, nullable=False, server_default=false()),
    Column("pending_documents", JSON, nullable=True),
    Column("documents_due", Date, nullable=True),
    Column("special_procedure", String(40), nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("result", Text, nullable=True),
    Index("ix_cases_status_due", "status", "due"),
)

case_history = Table(
    "case_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("status", String(24), nullable=False),
    Column("actor", String(40), nullable=False),
    Column("note", Text, nullable=True),
    Column("at", UTCDateTime, nullable=False),
)

notices = Table(
    "notices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("content", JSON, nullable=False),
    Column("staff", String(16), nullable=True),
    Column("issued_at", UTCDateTime, nullable=False),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False, unique=True),
    Column("case_id", ForeignKey("cases.id"), nullable=True),
    Column("hall_day", Date, nullable=False),
    Column("service", String(24), nullable=False),
    Column("window", Integer, nullable=False),
    Column("staff", String(16), nullable=True),
    Column("status", String(16), nullable=False),
    Column("level", Integer, nullable=True),
    Column("channel", String(16), nullable=True),
    Column("comment", Text, nullable=True),
    Column("invited_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("rated_at", UTCDateTime, nullable=True),
    Column("followup", String(8), nullable=True),
    Column("followup_status", String(16), nullable=True),
    Index("ix_evaluations_status_expires", "status", "expires_at"),
    Index("ix_evaluations_window_status", "window", "status"),
)

device_reports = Table(
    "device_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("detail", JSON, nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_device_reports_device_at", "device", "at"),
)

events = Table(
    "events",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("hall_day", Date, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("ticket_id", BigId, nullable=True),
    Column("window", Integer, nullable=True),
    Column("data", JSON, nullable=False),
    Index("ix_events_ticket", "ticket_id"),
)
