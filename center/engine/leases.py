"""Kiosk number leases: numbers a kiosk may hand out while it cannot reach the center.

Taking a lease advances the service's daily counter by N inside one transaction, so online
issuing skips the leased range and no number is ever handed out twice. The lease is valid
for the hall day it was taken on. Tickets issued offline from it are synced later with the
time the kiosk took them: their queue key is that time, so they are called in the order
their holders arrived. Lease numbers never used are simply never issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from center.clock import to_ms
from center.db.auth_tables import number_leases
from center.db.tables import number_counters, tickets
from center.engine.context import Context
from center.engine.states import Lane, TicketState
from center.engine.store import Tx
from center.errors import LimitReached, NotFound, Refused
from center.rules.hours import hall_day
from center.rules.numbering import capacity, format_number
from center.rules.priority import priority_key, regular_key
from config.schema import Service

OFFLINE_SOURCE = "kiosk_offline"
"""``tickets.source`` of a ticket issued from a lease."""
CLOCK_SKEW = dt.timedelta(minutes=10)
"""How far a kiosk's clock may be ahead of the center's for an offline ticket to be accepted."""


@dataclass(frozen=True, slots=True)
class Lease:
    """Numbers ``first``..``last`` of ``service`` on ``hall_day``, for one kiosk."""

    id: int
    service: str
    prefix: str
    digits: int
    hall_day: dt.date
    first: int
    last: int
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class OfflineTicket:
    """A ticket a kiosk issued from its lease while the center was unreachable."""

    service: str
    number: int
    issued_at: dt.datetime
    priority_class: str | None = None


@dataclass(frozen=True, slots=True)
class SyncedTicket:
    """An offline ticket as the center recorded it."""

    id: int
    display: str
    service: str
    issued_at: dt.datetime
    already: bool
    """True when this ticket had been synced before (a retried sync)."""


class LeaseDesk:
    """Grants number leases to kiosks and takes in the tickets issued from them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _service(self, code: str) -> Service:
        svc = self.ctx.cfg.services_by_code.get(code)
        if svc is None:
            raise NotFound(f"unknown service {code!r}", zh="没有这项业务")
        return svc

    def day_end(self, day: dt.date) -> dt.datetime:
        """When hall day ``day`` ends (the next day boundary), in UTC."""
        hall = self.ctx.cfg.hall
        local = dt.datetime.combine(
            day + dt.timedelta(days=1), hall.day_boundary, tzinfo=ZoneInfo(hall.timezone)
        )
        return local.astimezone(dt.UTC)

    def take(self, device: str, service: str, count: int) -> Lease:
        """Reserve the next ``count`` numbers of ``service`` today for kiosk ``device``."""
        svc = self._service(service)
        if svc.id_required:
            raise Refused(
                f"service {svc.code} needs an ID card, so it is never issued offline",
                zh="此业务需刷身份证，不能离线取号",
            )
        if not 1 <= count <= 1000:
            raise Refused("a lease holds 1 to 1000 numbers")
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            last = self._advance(tx, svc, day, count)
            first = last - count + 1
            cap = capacity(svc.number_digits, svc.daily_max)
            if first > cap:
                raise LimitReached(
                    f"service {svc.code} has issued all of today's numbers", zh="今日号已取完"
                )
            last = min(last, cap)
            expires = self.day_end(day)
            lease_id = tx.conn.execute(
                insert(number_leases)
                .values(
                    device=device,
                    hall_day=day,
                    service=svc.code,
                    first_number=first,
                    last_number=last,
                    created_at=now,
                    expires_at=expires,
                )
                .returning(number_leases.c.id)
            ).scalar_one()
            tx.emit(
                "lease.taken",
                at=now,
                hall_day=day,
                actor=f"kiosk:{device}",
                service=svc.code,
                first=format_number(svc.prefix, first, svc.number_digits),
                last=format_number(svc.prefix, last, svc.number_digits),
            )
        return Lease(
            int(lease_id), svc.code, svc.prefix, svc.number_digits, day, first, last, expires
        )

    def _advance(self, tx: Tx, svc: Service, day: dt.date, count: int) -> int:
        dialect_insert = postgresql.insert if tx.postgres else sqlite.insert
        stmt = (
            dialect_insert(number_counters)
            .values(hall_day=day, service=svc.code, last_number=count)
            .on_conflict_do_update(
                index_elements=[number_counters.c.hall_day, number_counters.c.service],
                set_={"last_number": number_counters.c.last_number + count},
            )
            .returning(number_counters.c.last_number)
        )
        return int(tx.conn.execute(stmt).scalar_one())

    def sync(self, device: str, items: Sequence[OfflineTicket]) -> list[SyncedTicket]:
        """Record tickets kiosk ``device`` issued offline; all or none.

        A ticket synced before by the same kiosk is reported again, not recorded twice. A
        number outside the kiosk's leases, or already used, refuses the whole batch, naming
        the item (``tickets[i]``)."""
        now, today, _ = self.ctx.now()
        done: list[SyncedTicket] = []
        with self.ctx.store.write() as tx:
            for i, item in enumerate(items):
                try:
                    done.append(self._sync_one(tx, device, item, now, today))
                except (Refused, NotFound) as exc:
                    raise type(exc)(f"tickets[{i}]: {exc.message}", zh=exc.zh) from None
        return done

    def _sync_one(
        self, tx: Tx, device: str, item: OfflineTicket, now: dt.datetime, today: dt.date
    ) -> SyncedTicket:
        svc = self._service(item.service)
        display = _display(svc, item.number)
        day = hall_day(item.issued_at, self.ctx.cfg.hall)
        if item.issued_at > now + CLOCK_SKEW:
            raise Refused(f"{display} was issued in the future ({item.issued_at.isoformat()})")
        lease = tx.conn.execute(
            select(number_leases.c.id, number_leases.c.created_at).where(
                number_leases.c.device == device,
                number_leases.c.hall_day == day,
                number_leases.c.service == svc.code,
                number_leases.c.first_number <= item.number,
                number_leases.c.last_number >= item.number,
            )
        ).first()
        if lease is None:
            raise Refused(
                f"{display} of {day.isoformat()} is not in a lease of this kiosk",
                zh=f"{display}号不在本机的离线号段内",
            )
        existing = tx.conn.execute(
            select(tickets).where(
                tickets.c.hall_day == day,
                tickets.c.original_service == svc.code,
                tickets.c.number == item.number,
            )
        ).first()
        if existing is not None:
            same = existing.source == OFFLINE_SOURCE and existing.source_ref == device
            if same and existing.issued_at == item.issued_at:
                return SyncedTicket(existing.id, display, svc.code, existing.issued_at, True)
            raise Refused(f"{display} of {day.isoformat()} is already used", zh="该号已被使用")
        if day != today:
            raise Refused(
                f"{display} belongs to hall day {day.isoformat()}, which has ended",
                zh="该号所属的办事日已结束",
            )
        if item.issued_at < lease.created_at - CLOCK_SKEW:
            raise Refused(f"{display} was issued before its lease was taken")
        return self._insert(tx, device, svc, item, display, day, now)

    def _insert(
        self,
        tx: Tx,
        device: str,
        svc: Service,
        item: OfflineTicket,
        display: str,
        day: dt.date,
        now: dt.datetime,
    ) -> SyncedTicket:
        taken_ms = to_ms(item.issued_at)
        lane, key = Lane.REGULAR, regular_key(taken_ms)
        if item.priority_class is not None:
            spec = self.ctx.cfg.priority.classes.get(item.priority_class)
            if spec is None:
                raise NotFound(f"unknown priority class {item.priority_class!r}")
            if not svc.green_channel:
                raise Refused(f"service {svc.code} has no green channel")
            lane, key = Lane.PRIORITY, priority_key(taken_ms, spec.head_start_minutes)
        row: dict[str, Any] = {
            "hall_day": day,
            "service": svc.code,
            "number": item.number,
            "display": display,
            "source": OFFLINE_SOURCE,
            "source_ref": device,
            "lane": lane.value,
            "priority_class": item.priority_class,
            "queue_key": key,
            "state": TicketState.WAITING.value,
            "original_service": svc.code,
            "issued_at": item.issued_at,
        }
        ticket_id = int(
            tx.conn.execute(insert(tickets).values(row).returning(tickets.c.id)).scalar_one()
        )
        tx.emit(
            "ticket.issued",
            at=now,
            hall_day=day,
            actor=f"kiosk:{device}",
            ticket_id=ticket_id,
            number=display,
            service=svc.code,
            lane=lane.value,
            priority_class=item.priority_class,
            offline=True,
            issued_at=item.issued_at.isoformat(),
        )
        return SyncedTicket(ticket_id, display, svc.code, item.issued_at, False)


def _display(svc: Service, number: int) -> str:
    try:
        return format_number(svc.prefix, number, svc.number_digits)
    except ValueError as exc:
        raise Refused(str(exc)) from None
