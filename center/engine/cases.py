"""Cases (办件): registered from a service session, tracked to their deadline.

Kinds are configurable by name (报批件 or 上报件); what a kind does is fixed by its code:

* ``immediate`` (即办件): accepted and due the same day;
* ``promised``, ``joint``, ``referred``, ``urgent`` and any custom kind: accepted, due after the
  promised number of working days (the service's ``promised_days`` unless given);
* ``returned`` (退回件): returned on the spot with a return notice;
* ``awaiting_documents`` (补办件): a correction notice lists everything missing at once; the
  clock starts only when the documents are complete.

Accepting with documents to follow (容缺受理) is an accepted case with ``pending_documents``
and a due date for them: the clock runs, but the result cannot be completed until they arrive.
Deadlines that run into a year the official calendar does not know are provisional and are
recomputed by :meth:`CaseDesk.recompute_provisional` once it does (see docs/calendar.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from center.db.tables import case_history, cases, notices, tickets
from center.engine.context import Context, PersonInput
from center.engine.states import NOTICE_TITLES, CaseStatus, NoticeKind
from center.engine.store import Tx
from center.errors import InvalidState, NotFound, Refused

PROMISED = "promised"
BEHAVIOUR = {
    "immediate": "immediate",
    "returned": "returned",
    "awaiting_documents": "awaiting",
}
OPEN_STATUSES = (
    CaseStatus.REGISTERED,
    CaseStatus.ACCEPTED,
    CaseStatus.AWAITING_DOCUMENTS,
    CaseStatus.APPROVED,
)

ALLOWED: dict[str, frozenset[CaseStatus]] = {
    "accept": frozenset({CaseStatus.REGISTERED, CaseStatus.AWAITING_DOCUMENTS}),
    "request_correction": frozenset({CaseStatus.REGISTERED, CaseStatus.ACCEPTED}),
    "documents_received": frozenset({CaseStatus.AWAITING_DOCUMENTS, CaseStatus.ACCEPTED}),
    "refuse": frozenset({CaseStatus.REGISTERED, CaseStatus.AWAITING_DOCUMENTS}),
    "return": frozenset(
        {CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.AWAITING_DOCUMENTS}
    ),
    "approve": frozenset({CaseStatus.ACCEPTED}),
    "complete": frozenset({CaseStatus.ACCEPTED, CaseStatus.APPROVED}),
    "issue": frozenset({CaseStatus.COMPLETED}),
}


@dataclass(frozen=True, slots=True)
class CaseInfo:
    """A case as the window sees it after an action."""

    id: int
    case_no: str
    kind: str
    status: CaseStatus
    due: dt.date | None
    due_provisional: bool
    documents_due: dt.date | None


class CaseDesk:
    """Registers cases and moves them through their statuses."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def register(
        self,
        window: int,
        *,
        kind: str,
        item: str | None = None,
        person: PersonInput | None = None,
        working_days: int | None = None,
        materials: Sequence[str] = (),
        pending_documents: Sequence[str] = (),
        documents_due_days: int = 5,
        special_procedure: str | None = None,
        reason: str | None = None,
    ) -> CaseInfo:
        """Register a case for the ticket window ``window`` is serving."""
        if kind not in self.ctx.cfg.case_kinds:
            raise NotFound(f"unknown case kind {kind!r}", zh="没有这种办件类型")
        behaviour = BEHAVIOUR.get(kind, PROMISED)
        if behaviour == "returned" and not reason:
            raise Refused(
                "a returned case needs the reason for returning it", zh="退回件须注明退回原因"
            )
        if behaviour == "awaiting" and not pending_documents:
            raise Refused(
                "list the missing documents (one-time notice)", zh="请一次性列明需补正的材料"
            )
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            win, ticket = self._serving(tx, window)
            svc = self.ctx.cfg.services_by_code[ticket.service]
            if svc.case_kinds and kind not in svc.case_kinds:
                raise Refused(
                    f"service {svc.code} does not register {kind} cases",
                    zh="此业务不适用该办件类型",
                )
            row: dict[str, Any] = {
                "case_no": f"tmp-{ticket.id}-{now.timestamp()}",
                "ticket_id": ticket.id,
                "service": svc.code,
                "item": item or svc.name,
                "kind": kind,
                "status": CaseStatus.REGISTERED.value,
                "person_id": self.ctx.person_id(tx, person, now) or ticket.person_id,
                "window": window,
                "staff": win.staff,
                "registered_at": now,
                "special_procedure": special_procedure,
            }
            case_id = int(
                tx.conn.execute(insert(cases).values(row).returning(cases.c.id)).scalar_one()
            )
            case_no = f"{day:%Y%m%d}{case_id:06d}"
            tx.conn.execute(update(cases).where(cases.c.id == case_id).values(case_no=case_no))
            actor = f"staff:{win.staff}"
            self._history(tx, case_id, CaseStatus.REGISTERED, actor, None, now)
            tx.emit(
                "case.registered",
                at=now,
                hall_day=day,
                actor=actor,
                ticket_id=ticket.id,
                window=window,
                case_no=case_no,
                kind=kind,
                service=svc.code,
            )
            days = working_days if working_days is not None else svc.promised_days
            if behaviour == "immediate":
                self._accept(tx, case_id, 0, day, actor, now, materials)
            elif behaviour == "returned":
                self._transition(
                    tx,
                    case_id,
                    CaseStatus.RETURNED,
                    actor,
                    now,
                    NoticeKind.RETURN,
                    {"reason": reason},
                )
            elif behaviour == "awaiting":
                self._await(tx, case_id, list(pending_documents), actor, now)
            else:
                if days is None:
                    raise Refused(
                        f"service {svc.code} has no promised time limit: give working_days",
                        zh="请填写承诺办结时限",
                    )
                self._accept(tx, case_id, days, day, actor, now, materials)
                if pending_documents:
                    self._pledge(
                        tx, case_id, list(pending_documents), day, documents_due_days, actor, now
                    )
            return self._info(tx.conn, case_id)

    # --- transitions ---------------------------------------------------------------------

    def accept(self, case_no: str, actor: str, working_days: int | None = None) -> CaseInfo:
        """Accept a registered case, or one whose documents are now complete; the clock starts today."""
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            case = self._case(tx, case_no, "accept")
            svc = self.ctx.cfg.services_by_code[case.service]
            days = (
                working_days
                if working_days is not None
                else (case.working_days or svc.promised_days or 0)
            )
            self._accept(tx, case.id, days, day, actor, now, ())
            return self._info(tx.conn, case.id)

    def request_correction(self, case_no: str, documents: Sequence[str], actor: str) -> CaseInfo:
        """Ask for corrections (补正): one notice listing everything missing; the clock waits."""
        if not documents:
            raise Refused(
                "list the missing documents (one-time notice)", zh="请一次性列明需补正的材料"
            )
        now, _, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            case = self._case(tx, case_no, "request_correction")
            self._await(tx, case.id, list(documents), actor, now)
            return self._info(tx.conn, case.id)

    def documents_received(self, case_no: str, actor: str) -> CaseInfo:
        """The missing documents arrived: a waiting case is accepted from today; a 容缺 case is complete."""
        now, day, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            case = self._case(tx, case_no, "documents_received")
            if case.status == CaseStatus.AWAITING_DOCUMENTS.value:
                svc = self.ctx.cfg.services_by_code[case.service]
                days = (
                    case.working_days if case.working_days is not None else (svc.promised_days or 0)
                )
                self._accept(tx, case.id, days, day, actor, now, ())
            elif not case.pending_documents:
                raise InvalidState(f"case {case_no} is not waiting for documents")
            tx.conn.execute(
                update(cases)
                .where(cases.c.id == case.id)
                .values(pending_documents=None, documents_due=None)
            )
            self._history(
                tx, case.id, CaseStatus(self._status(tx, case.id)), actor, "documents received", now
            )
            return self._info(tx.conn, case.id)

    def refuse(self, case_no: str, reason: str, legal_basis: str, actor: str) -> CaseInfo:
        """Refuse the application (不予受理) with reason and legal basis."""
        if not reason or not legal_basis:
            raise Refused(
                "a refusal needs a reason and its legal basis", zh="不予受理须写明理由和法律依据"
            )
        return self._simple(
            case_no,
            "refuse",
            CaseStatus.REFUSED,
            actor,
            NoticeKind.REFUSAL,
            {"reason": reason, "legal_basis": legal_basis},
        )

    def return_case(self, case_no: str, reason: str, actor: str) -> CaseInfo:
        """Return the application (退回) with a return notice."""
        if not reason:
            raise Refused(
                "a returned case needs the reason for returning it", zh="退回件须注明退回原因"
            )
        return self._simple(
            case_no, "return", CaseStatus.RETURNED, actor, NoticeKind.RETURN, {"reason": reason}
        )

    def approve(self, case_no: str, actor: str) -> CaseInfo:
        """The back office approved the case."""
        return self._simple(case_no, "approve", CaseStatus.APPROVED, actor, None, {})

    def complete(self, case_no: str, result: str, actor: str) -> CaseInfo:
        """The case is finished (办结) with ``result``; refused while 容缺 documents are outstanding."""
        now, _, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            case = self._case(tx, case_no, "complete")
            if case.pending_documents:
                raise InvalidState(
                    f"case {case_no} still waits for documents: {', '.join(case.pending_documents)}",
                    zh="容缺材料尚未补齐，不能办结出件",
                )
            tx.conn.execute(
                update(cases).where(cases.c.id == case.id).values(result=result, closed_at=now)
            )
            self._transition(
                tx,
                case.id,
                CaseStatus.COMPLETED,
                actor,
                now,
                NoticeKind.COMPLETION,
                {"result": result},
            )
            return self._info(tx.conn, case.id)

    def issue_result(self, case_no: str, actor: str) -> CaseInfo:
        """The result was handed out (出件)."""
        return self._simple(case_no, "issue", CaseStatus.ISSUED, actor, None, {})

    def overdue(self, today: dt.date | None = None) -> list[CaseInfo]:
        """Open cases whose due date has passed."""
        today = today or self.ctx.now()[1]
        with self.ctx.store.read() as conn:
            ids = (
                conn.execute(
                    select(cases.c.id).where(
                        cases.c.status.in_([s.value for s in OPEN_STATUSES]), cases.c.due < today
                    )
                )
                .scalars()
                .all()
            )
            return [self._info(conn, i) for i in ids]

    def recompute_provisional(self) -> int:
        """Recompute provisional deadlines with the current calendar; returns how many changed."""
        now, day, _ = self.ctx.now()
        changed = 0
        with self.ctx.store.write() as tx:
            rows = tx.conn.execute(
                select(
                    cases.c.id,
                    cases.c.case_no,
                    cases.c.clock_start,
                    cases.c.working_days,
                    cases.c.due,
                ).where(cases.c.due_provisional.is_(True))
            ).all()
            for r in rows:
                d = self.ctx.calendar.add_working_days(r.clock_start, r.working_days)
                tx.conn.execute(
                    update(cases)
                    .where(cases.c.id == r.id)
                    .values(due=d.due, due_provisional=d.provisional)
                )
                if d.due != r.due or not d.provisional:
                    changed += 1
                    tx.emit(
                        "case.deadline_updated",
                        at=now,
                        hall_day=day,
                        actor="system",
                        case_no=r.case_no,
                        due=d.due.isoformat(),
                        provisional=d.provisional,
                    )
        return changed

    # --- steps ---------------------------------------------------------------------------

    def _serving(self, tx: Tx, window: int) -> tuple[Row[Any], Row[Any]]:
        win = tx.lock_window(window)
        if win is None or win.current_ticket_id is None:
            raise InvalidState(
                f"window {window} is not serving any ticket: a case is registered during a visit",
                zh="当前没有正在办理的号，无法登记办件",
            )
        ticket = tx.conn.execute(select(tickets).where(tickets.c.id == win.current_ticket_id)).one()
        return win, ticket

    def _case(self, tx: Tx, case_no: str, action: str) -> Row[Any]:
        case = tx.conn.execute(
            select(cases).where(cases.c.case_no == case_no).with_for_update()
        ).first()
        if case is None:
            raise NotFound(f"no case {case_no}", zh="未找到该办件")
        if CaseStatus(case.status) not in ALLOWED[action]:
            raise InvalidState(
                f"case {case_no} is {case.status}: cannot {action.replace('_', ' ')}",
                zh="办件当前状态不允许此操作",
            )
        return case

    def _status(self, tx: Tx, case_id: int) -> str:
        return str(
            tx.conn.execute(select(cases.c.status).where(cases.c.id == case_id)).scalar_one()
        )

    def _simple(
        self,
        case_no: str,
        action: str,
        status: CaseStatus,
        actor: str,
        notice: NoticeKind | None,
        content: dict[str, Any],
    ) -> CaseInfo:
        now, _, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            case = self._case(tx, case_no, action)
            if status in (CaseStatus.REFUSED, CaseStatus.RETURNED):
                tx.conn.execute(update(cases).where(cases.c.id == case.id).values(closed_at=now))
            self._transition(tx, case.id, status, actor, now, notice, content)
            return self._info(tx.conn, case.id)

    def _accept(
        self,
        tx: Tx,
        case_id: int,
        days: int,
        start: dt.date,
        actor: str,
        now: dt.datetime,
        materials: Sequence[str],
    ) -> None:
        d = self.ctx.calendar.add_working_days(start, days)
        tx.conn.execute(
            update(cases)
            .where(cases.c.id == case_id)
            .values(clock_start=start, working_days=days, due=d.due, due_provisional=d.provisional)
        )
        content = {
            "due": d.due.isoformat(),
            "working_days": days,
            "provisional": d.provisional,
            "materials": list(materials),
        }
        self._transition(
            tx, case_id, CaseStatus.ACCEPTED, actor, now, NoticeKind.ACCEPTANCE, content
        )

    def _await(
        self, tx: Tx, case_id: int, documents: list[str], actor: str, now: dt.datetime
    ) -> None:
        tx.conn.execute(
            update(cases)
            .where(cases.c.id == case_id)
            .values(pending_documents=documents, clock_start=None, due=None, due_provisional=False)
        )
        self._transition(
            tx,
            case_id,
            CaseStatus.AWAITING_DOCUMENTS,
            actor,
            now,
            NoticeKind.CORRECTION,
            {"documents": documents},
        )

    def _pledge(
        self,
        tx: Tx,
        case_id: int,
        documents: list[str],
        day: dt.date,
        due_days: int,
        actor: str,
        now: dt.datetime,
    ) -> None:
        docs_due = self.ctx.calendar.add_working_days(day, due_days).due
        tx.conn.execute(
            update(cases)
            .where(cases.c.id == case_id)
            .values(pending_documents=documents, documents_due=docs_due)
        )
        self._history(
            tx,
            case_id,
            CaseStatus.ACCEPTED,
            actor,
            f"容缺受理: {len(documents)} document(s) due {docs_due.isoformat()}",
            now,
        )

    def _transition(
        self,
        tx: Tx,
        case_id: int,
        status: CaseStatus,
        actor: str,
        now: dt.datetime,
        notice: NoticeKind | None,
        content: dict[str, Any],
    ) -> None:
        tx.conn.execute(update(cases).where(cases.c.id == case_id).values(status=status.value))
        self._history(tx, case_id, status, actor, None, now)
        case = tx.conn.execute(select(cases).where(cases.c.id == case_id)).one()
        if notice is not None:
            body = {
                "title": NOTICE_TITLES[notice],
                "case_no": case.case_no,
                "item": case.item,
                "kind": self.ctx.cfg.case_kinds.get(case.kind, case.kind),
                "window": case.window,
                "staff": case.staff,
                "date": now.isoformat(),
                **content,
            }
            tx.conn.execute(
                insert(notices).values(
                    case_id=case_id,
                    kind=notice.value,
                    content=body,
                    staff=case.staff,
                    issued_at=now,
                )
            )
        tx.emit(
            "case.status",
            at=now,
            hall_day=self.ctx.now()[1],
            actor=actor,
            ticket_id=case.ticket_id,
            window=case.window,
            case_no=case.case_no,
            status=status.value,
            due=case.due.isoformat() if case.due else None,
            notice=notice.value if notice else None,
        )

    def _history(
        self,
        tx: Tx,
        case_id: int,
        status: CaseStatus,
        actor: str,
        note: str | None,
        now: dt.datetime,
    ) -> None:
        tx.conn.execute(
            insert(case_history).values(
                case_id=case_id, status=status.value, actor=actor, note=note, at=now
            )
        )

    def _info(self, conn: Connection, case_id: int) -> CaseInfo:
        c = conn.execute(select(cases).where(cases.c.id == case_id)).one()
        return CaseInfo(
            c.id,
            c.case_no,
            c.kind,
            CaseStatus(c.status),
            c.due,
            bool(c.due_provisional),
            c.documents_due,
        )
