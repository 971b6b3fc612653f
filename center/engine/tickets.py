"""Issuing tickets: numbers, limits, priority classes, appointments and wait estimates."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from center.clock import to_ms
from center.db.tables import appointments, sessions, tickets, windows
from center.engine import pgraw, sql
from center.engine.context import Context, PersonInput
from center.engine.states import AppointmentStatus, Lane, SessionOutcome, TicketState, WindowStatus
from center.engine.store import Event, Tx
from center.errors import InvalidState, LimitReached, NotFound, OutsideHours, Refused
from center.rules.estimate import estimate_wait_seconds, mean_handling_seconds
from center.rules.hours import hall_day, hall_day_end, ticket_window_state
from center.rules.numbering import capacity, format_number
from center.rules.priority import priority_key, regular_key
from config.schema import Service
from devices.camera.appointment import (
    PREFIX,
    AppointmentCodeError,
    AppointmentToken,
    ExpiredCode,
    sign,
    verify,
)

RECENT_SESSIONS = 20
ESTIMATE_TTL = 5.0
"""Seconds a service's open-window count and mean handling time are reused for estimates."""


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    """What the kiosk prints."""

    id: int
    display: str
    service: str
    service_name: str
    lane: Lane
    priority_class: str | None
    ahead: int
    wait_seconds: float | None
    issued_at: dt.datetime
    hall_day: dt.date


APPOINTMENT_KEY_PURPOSE = "appointment"
"""The data key derives the key that signs appointment codes under this purpose."""


@dataclass(frozen=True, slots=True)
class Appointment:
    """A booked slot; ``code`` goes into the appointment QR code.

    With a data key the code is signed (``hallq1.<payload>.<signature>``, see
    ``devices.camera.appointment``) and expires at the end of the slot's hall day; without
    one it is the plain random code.
    """

    id: int
    code: str
    service: str
    slot_start: dt.datetime
    slot_end: dt.datetime


class TicketDesk:
    """Issues tickets and checks in appointments."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # Open windows per service change only when a window opens, pauses or closes: kept
        # here, dropped on this process's window events and after ESTIMATE_TTL (which also
        # bounds how stale the mean handling time is, and lets other processes' changes in).
        self._estimates: dict[str, tuple[float, int, float]] = {}
        self._estimates_lock = threading.Lock()
        self._appointment_key = (
            ctx.pii.derive_key(APPOINTMENT_KEY_PURPOSE) if ctx.pii is not None else None
        )
        ctx.store.subscribe(self._on_events)

    def _on_events(self, committed: list[Event]) -> None:
        if any(e.kind.startswith("window.") for e in committed):
            with self._estimates_lock:
                self._estimates.clear()

    def service(self, code: str) -> Service:
        """The configured service ``code``, or NotFound."""
        svc = self.ctx.cfg.services_by_code.get(code)
        if svc is None:
            raise NotFound(f"unknown service {code!r}", zh="没有这项业务")
        return svc

    def issue(
        self,
        service: str,
        *,
        source: str = "kiosk",
        source_ref: str | None = None,
        priority_class: str | None = None,
        person: PersonInput | None = None,
    ) -> IssuedTicket:
        """Take a ticket for ``service``; refuses outside hours and past any limit."""
        svc = self.service(service)
        now, day, now_ms = self.ctx.now()
        self._check_open(now)
        if svc.id_required and person is None:
            raise Refused(f"service {svc.code} needs an ID card", zh="办理此业务需刷身份证")
        lane, key = Lane.REGULAR, regular_key(now_ms)
        if priority_class is not None:
            key = self._priority_key(svc, priority_class, now_ms)
            lane = Lane.PRIORITY
        with self.ctx.store.write() as tx:
            return self._insert(
                tx, svc, now, day, lane, key, priority_class, person, source, source_ref
            )

    def _check_open(self, now: dt.datetime) -> None:
        state = ticket_window_state(now, self.ctx.cfg.hall, self.ctx.cfg.hours, self.ctx.calendar)
        if not state.open:
            raise OutsideHours(f"tickets are not issued now ({state.reason})", zh=state.message)

    def _priority_key(self, svc: Service, cls: str, now_ms: int) -> int:
        spec = self.ctx.cfg.priority.classes.get(cls)
        if spec is None:
            raise NotFound(f"unknown priority class {cls!r}", zh="没有这种优先类别")
        if not svc.green_channel:
            raise Refused(f"service {svc.code} has no green channel", zh="此业务不设绿色通道")
        return priority_key(now_ms, spec.head_start_minutes)

    def _insert(
        self,
        tx: Tx,
        svc: Service,
        now: dt.datetime,
        day: dt.date,
        lane: Lane,
        key: int,
        priority_class: str | None,
        person: PersonInput | None,
        source: str,
        source_ref: str | None,
        appointment_id: int | None = None,
    ) -> IssuedTicket:
        person_id = self.ctx.person_id(tx, person, now)
        if person_id is not None and svc.per_person_daily:
            self._check_person_limit(tx, svc, day, person_id)
        if tx.postgres:
            ticket_id, display, ahead = self._insert_pg(
                tx,
                svc,
                now,
                day,
                lane,
                key,
                priority_class,
                person_id,
                source,
                source_ref,
                appointment_id,
            )
            wait = self._wait(tx, svc, ahead)
        else:
            ticket_id, display, ahead, wait = self._insert_sqlite(
                tx,
                svc,
                now,
                day,
                lane,
                key,
                priority_class,
                person_id,
                source,
                source_ref,
                appointment_id,
            )
        actor = f"{source}:{source_ref}" if source_ref else source
        tx.emit(
            "ticket.issued",
            at=now,
            hall_day=day,
            actor=actor,
            ticket_id=ticket_id,
            number=display,
            service=svc.code,
            lane=lane.value,
            priority_class=priority_class,
            ahead=ahead,
        )
        return IssuedTicket(
            ticket_id, display, svc.code, svc.name, lane, priority_class, ahead, wait, now, day
        )

    def _insert_pg(
        self,
        tx: Tx,
        svc: Service,
        now: dt.datetime,
        day: dt.date,
        lane: Lane,
        key: int,
        priority_class: str | None,
        person_id: int | None,
        source: str,
        source_ref: str | None,
        appointment_id: int | None,
    ) -> tuple[int, str, int]:
        """Number, ticket and people ahead in one round trip (see ``sql.ISSUE_PG``)."""
        params = {
            "day": day,
            "service": svc.code,
            "prefix": svc.prefix,
            "digits": svc.number_digits,
            "source": source,
            "source_ref": source_ref,
            "lane": lane.value,
            "priority_class": priority_class,
            "key": key,
            "person_id": person_id,
            "appointment_id": appointment_id,
            "now": now,
        }
        row = pgraw.fetch_one(tx, sql.ISSUE_PG, params)
        assert row is not None  # the statement inserts one ticket or fails
        if row.number > capacity(svc.number_digits, svc.daily_max):
            raise LimitReached(
                f"service {svc.code} has issued all of today's numbers", zh="今日号已取完"
            )
        return int(row.id), str(row.display), int(row.ahead)

    def _insert_sqlite(
        self,
        tx: Tx,
        svc: Service,
        now: dt.datetime,
        day: dt.date,
        lane: Lane,
        key: int,
        priority_class: str | None,
        person_id: int | None,
        source: str,
        source_ref: str | None,
        appointment_id: int | None,
    ) -> tuple[int, str, int, float | None]:
        number = self._next_number(tx, svc, day)
        display = format_number(svc.prefix, number, svc.number_digits)
        row = {
            "hall_day": day,
            "service": svc.code,
            "number": number,
            "display": display,
            "source": source,
            "source_ref": source_ref,
            "lane": lane.value,
            "priority_class": priority_class,
            "queue_key": key,
            "state": TicketState.WAITING.value,
            "person_id": person_id,
            "appointment_id": appointment_id,
            "original_service": svc.code,
            "issued_at": now,
        }
        ticket_id = int(tx.conn.execute(sql.INSERT_TICKET, row).scalar_one())
        ahead, wait = self._estimate(tx, svc, day, key, ticket_id)
        return ticket_id, display, ahead, wait

    def _check_person_limit(self, tx: Tx, svc: Service, day: dt.date, person_id: int) -> None:
        taken = tx.conn.execute(
            select(func.count())
            .select_from(tickets)
            .where(tickets.c.person_id == person_id, tickets.c.hall_day == day)
            .where(tickets.c.original_service == svc.code)
        ).scalar_one()
        if svc.per_person_daily is not None and taken >= svc.per_person_daily:
            raise LimitReached(
                f"per-person daily limit of {svc.per_person_daily} reached for {svc.code}",
                zh=f"此业务每人每天限取{svc.per_person_daily}个号",
            )

    def _next_number(self, tx: Tx, svc: Service, day: dt.date) -> int:
        stmt = sql.NEXT_NUMBER_PG if tx.postgres else sql.NEXT_NUMBER_SQLITE
        number = int(tx.conn.execute(stmt, {"c_day": day, "c_service": svc.code}).scalar_one())
        if number > capacity(svc.number_digits, svc.daily_max):
            raise LimitReached(
                f"service {svc.code} has issued all of today's numbers", zh="今日号已取完"
            )
        return number

    def _estimate(
        self, tx: Tx, svc: Service, day: dt.date, key: int, ticket_id: int
    ) -> tuple[int, float | None]:
        params = {"day": day, "service": svc.code, "key": key, "tid": ticket_id}
        ahead = int(tx.conn.execute(sql.AHEAD, params).scalar_one())
        return ahead, self._wait(tx, svc, ahead)

    def _wait(self, tx: Tx, svc: Service, ahead: int) -> float | None:
        open_windows, mean = self._capacity(tx, svc)
        return estimate_wait_seconds(ahead, open_windows, mean)

    def _capacity(self, tx: Tx, svc: Service) -> tuple[int, float]:
        now = time.monotonic()
        with self._estimates_lock:
            cached = self._estimates.get(svc.code)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        open_windows = self._open_windows(tx, svc.code)
        mean = mean_handling_seconds(self._recent_handling(tx, svc.code), svc.expected_minutes)
        with self._estimates_lock:
            self._estimates[svc.code] = (now + ESTIMATE_TTL, open_windows, mean)
        return open_windows, mean

    def _open_windows(self, tx: Tx, service: str) -> int:
        numbers = self.ctx.windows_by_service.get(service, [])
        if not numbers:
            return 0
        return int(
            tx.conn.execute(
                select(func.count())
                .select_from(windows)
                .where(windows.c.number.in_(numbers), windows.c.status == WindowStatus.OPEN.value)
            ).scalar_one()
        )

    def _recent_handling(self, tx: Tx, service: str) -> list[float]:
        rows = tx.conn.execute(
            select(sessions.c.started_at, sessions.c.ended_at)
            .where(sessions.c.service == service, sessions.c.outcome == SessionOutcome.DONE.value)
            .order_by(sessions.c.ended_at.desc())
            .limit(RECENT_SESSIONS)
        ).all()
        return [(r.ended_at - r.started_at).total_seconds() for r in rows]

    def _appointment_lane(
        self, start: dt.datetime, end: dt.datetime, now: dt.datetime, day: dt.date
    ) -> tuple[Lane, int]:
        if hall_day(start, self.ctx.cfg.hall) != day:
            raise Refused("the appointment is for another day", zh="预约日期不是今天")
        if start - now > dt.timedelta(hours=2):
            raise Refused("too early to check in", zh="距预约时段尚早，请在预约时间前两小时内签到")
        if now - end > dt.timedelta(minutes=self.ctx.cfg.priority.appointment_late_minutes):
            # Missed the slot: still served today, but as a walk-in from now.
            return Lane.REGULAR, regular_key(to_ms(now))
        return Lane.APPOINTMENT, to_ms(start)

    # --- appointments -------------------------------------------------------------------

    def book(
        self,
        service: str,
        slot_start: dt.datetime,
        slot_end: dt.datetime,
        person: PersonInput | None = None,
    ) -> Appointment:
        """Book a time slot for ``service``; returns the code for the appointment QR."""
        svc = self.service(service)
        if not svc.appointments:
            raise Refused(f"service {svc.code} takes no appointments", zh="此业务不提供预约")
        if slot_end <= slot_start:
            raise Refused("an appointment slot must end after it starts", zh="预约时段有误")
        now, _, _ = self.ctx.now()
        code = secrets.token_urlsafe(12)
        with self.ctx.store.write() as tx:
            person_id = self.ctx.person_id(tx, person, now)
            row = {
                "code": code,
                "service": svc.code,
                "person_id": person_id,
                "slot_start": slot_start,
                "slot_end": slot_end,
                "status": AppointmentStatus.BOOKED.value,
                "created_at": now,
            }
            app_id = int(
                tx.conn.execute(
                    insert(appointments).values(row).returning(appointments.c.id)
                ).scalar_one()
            )
            tx.emit(
                "appointment.booked",
                at=now,
                hall_day=self.ctx.now()[1],
                actor="system",
                service=svc.code,
            )
        signed = self._signed(code, svc.code, slot_start, slot_end, now)
        return Appointment(app_id, signed, svc.code, slot_start, slot_end)

    def _signed(
        self, code: str, service: str, start: dt.datetime, end: dt.datetime, now: dt.datetime
    ) -> str:
        """The code for the QR: signed by the center when it has a data key."""
        if self._appointment_key is None:
            return code
        expires = max(hall_day_end(hall_day(start, self.ctx.cfg.hall), self.ctx.cfg.hall), end)
        token = AppointmentToken(code, service, start, end, now, expires)
        return sign(token, self._appointment_key)

    def _plain_code(self, text: str, now: dt.datetime) -> str:
        """The stored code behind the QR's ``text``: signature and expiry checked first."""
        text = text.strip()
        if self._appointment_key is None:
            if text.startswith(PREFIX + "."):
                raise Refused(
                    "signed appointment codes cannot be checked: the center has no data key",
                    zh=AppointmentCodeError.citizen_message,
                )
            return text
        try:
            return verify(text, self._appointment_key, now).code
        except ExpiredCode as exc:
            raise Refused(f"appointment code refused: {exc}", zh=exc.citizen_message) from None
        except AppointmentCodeError as exc:
            raise NotFound(f"appointment code refused: {exc}", zh=exc.citizen_message) from None

    def check_in(self, code: str, *, source_ref: str | None = None) -> IssuedTicket:
        """Turn an appointment into a ticket: first in line once its slot opens, unless late.

        ``code`` is what the appointment QR holds. A center with a data key accepts only the
        codes it signed: a forged or altered one is NotFound, an expired one Refused, both with
        the citizen's words of ``devices.camera.appointment``; a reused one InvalidState.
        """
        now, day, _ = self.ctx.now()
        self._check_open(now)
        code = self._plain_code(code, now)
        with self.ctx.store.write() as tx:
            app = tx.conn.execute(
                select(appointments).where(appointments.c.code == code).with_for_update()
            ).first()
            if app is None:
                raise NotFound("no appointment with this code", zh="未找到该预约")
            return self._check_in(tx, app, now, day, source_ref)

    def check_in_person(
        self, person: PersonInput, *, source_ref: str | None = None
    ) -> IssuedTicket:
        """Check in ``person``'s booked appointment of today's hall day (found by ID number).

        Never registers the person: someone the center has never seen has no appointment.
        With several booked today, the earliest one not yet missed is taken (else the earliest).
        """
        now, day, _ = self.ctx.now()
        self._check_open(now)
        with self.ctx.store.write() as tx:
            person_id = self.ctx.known_person_id(tx.conn, person)
            rows: Sequence[Any] = ()
            if person_id is not None:
                rows = tx.conn.execute(
                    select(appointments)
                    .where(
                        appointments.c.person_id == person_id,
                        appointments.c.status != AppointmentStatus.CANCELLED.value,
                        appointments.c.slot_start > now - dt.timedelta(days=2),
                        appointments.c.slot_start < now + dt.timedelta(days=2),
                    )
                    .order_by(appointments.c.slot_start, appointments.c.id)
                    .with_for_update()
                ).all()
            today = [r for r in rows if hall_day(r.slot_start, self.ctx.cfg.hall) == day]
            booked = [r for r in today if r.status == AppointmentStatus.BOOKED.value]
            if not booked:
                if today:
                    raise InvalidState(
                        "today's appointment of this person was already checked in",
                        zh="您今天的预约已签到",
                    )
                raise NotFound(
                    "no appointment today for this person",
                    zh="未找到您今天的预约，请出示预约二维码或到咨询台办理",
                )
            late = dt.timedelta(minutes=self.ctx.cfg.priority.appointment_late_minutes)
            app = min(booked, key=lambda r: now - r.slot_end > late)  # stable: by slot start
            return self._check_in(tx, app, now, day, source_ref)

    def _check_in(
        self, tx: Tx, app: Any, now: dt.datetime, day: dt.date, source_ref: str | None
    ) -> IssuedTicket:
        if app.status != AppointmentStatus.BOOKED.value:
            raise InvalidState(
                "this appointment was already checked in or cancelled",
                zh="该预约已签到或已取消",
            )
        lane, key = self._appointment_lane(app.slot_start, app.slot_end, now, day)
        svc = self.service(app.service)
        issued = self._insert(
            tx, svc, now, day, lane, key, None, None, "appointment", source_ref, app.id
        )
        tx.conn.execute(
            update(tickets).where(tickets.c.id == issued.id).values(person_id=app.person_id)
        )
        tx.conn.execute(
            update(appointments)
            .where(appointments.c.id == app.id)
            .values(status=AppointmentStatus.CHECKED_IN.value, ticket_id=issued.id)
        )
        return issued
