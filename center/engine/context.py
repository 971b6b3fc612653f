"""What every engine service shares: the hall's config, the store, the clock, the calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from center.clock import Clock, to_ms
from center.db.tables import persons
from center.engine.store import Store, Tx
from center.errors import Refused
from center.pii import PersonalData
from center.rules.hours import hall_day
from center.rules.priority import Policy
from center.rules.workdays import WorkCalendar
from config.schema import HallConfig


@dataclass(frozen=True, slots=True)
class PersonInput:
    """Identity given at the kiosk or window. Never logged; stored encrypted."""

    id_number: str
    name: str | None = None
    phone: str | None = None

    def __repr__(self) -> str:
        return "PersonInput(<personal data>)"


@dataclass
class Context:
    """Shared state of one hall's engine."""

    cfg: HallConfig
    store: Store
    clock: Clock
    pii: PersonalData | None
    calendar: WorkCalendar = field(init=False)
    policy: Policy = field(init=False)
    windows_by_service: dict[str, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.calendar = WorkCalendar.from_hours(self.cfg.hours)
        p = self.cfg.priority
        self.policy = Policy(
            priority_per_regular=p.priority_per_regular,
            appointment_early_ms=p.appointment_early_minutes * 60_000,
        )
        by_service: dict[str, list[int]] = {s.code: [] for s in self.cfg.services}
        for w in self.cfg.windows:
            for code in w.services:
                by_service.setdefault(code, []).append(w.number)
        self.windows_by_service = by_service

    def now(self) -> tuple[dt.datetime, dt.date, int]:
        """The current time, the hall day it belongs to, and the time in milliseconds."""
        now = self.clock.now()
        return now, hall_day(now, self.cfg.hall), to_ms(now)

    def person_id(self, tx: Tx, person: PersonInput | None, now: dt.datetime) -> int | None:
        """The ``persons`` row of ``person`` (created on first sight), or None."""
        if person is None:
            return None
        if self.pii is None:
            raise Refused("this center has no data key, so it cannot store personal data")
        found = self.known_person_id(tx.conn, person)
        if found is not None:
            return found
        key = self.pii.lookup_hash(person.id_number)
        # Two kiosks may register the same new person at once: insert-or-nothing, then read.
        values: dict[str, Any] = {
            "id_hash": key,
            "id_number_enc": self.pii.encrypt(person.id_number.strip().upper(), "id_number"),
            "name_enc": self.pii.encrypt(person.name, "name") if person.name else None,
            "phone_enc": self.pii.encrypt(person.phone, "phone") if person.phone else None,
            "created_at": now,
        }
        dialect_insert = postgresql.insert if tx.postgres else sqlite.insert
        tx.conn.execute(dialect_insert(persons).values(values).on_conflict_do_nothing())
        return int(
            tx.conn.execute(select(persons.c.id).where(persons.c.id_hash == key)).scalar_one()
        )

    def known_person_id(self, conn: Connection, person: PersonInput) -> int | None:
        """The ``persons`` row of ``person`` by its lookup hash, or None (never creates one)."""
        if self.pii is None:
            return None
        key = self.pii.lookup_hash(person.id_number)
        found = conn.execute(select(persons.c.id).where(persons.c.id_hash == key)).scalar()
        return None if found is None else int(found)

    def person_name(self, conn: Connection, person_id: int | None) -> str | None:
        """The decrypted name of a person (for masking on screens), or None."""
        if person_id is None or self.pii is None:
            return None
        blob = conn.execute(select(persons.c.name_enc).where(persons.c.id == person_id)).scalar()
        return self.pii.decrypt(blob, "name") if blob else None
