"""Staff endpoints: log in with 工号 + PIN, then act at the window the session is bound to.

Log-in is the one endpoint that takes no bearer token: the PIN is the credential. Wrong PINs
are throttled (429 with ``Retry-After``). Every action runs against the session's window and
only while the session's staff member is still the one on duty there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Row, select

from center.api.deps import Hall, HallDep, IdempotencyKey, on_hall, require
from center.api.errors import ERROR_RESPONSES, ErrorOut
from center.api.idempotency import idempotent
from center.api.kiosk import person_input
from center.api.schemas import CallNumberIn, CaseIn, LoginIn, PauseIn, TransferIn
from center.api.views import (
    CalledOut,
    CallNextOut,
    CaseOut,
    FinishOut,
    InviteOut,
    NumberOut,
    OkOut,
    SessionOut,
)
from center.auth.roles import Principal, Role
from center.db.tables import windows
from center.engine.states import WindowStatus
from center.engine.store import Tx
from center.errors import Forbidden, InvalidState

router = APIRouter(prefix="/api/v1/staff", tags=["staff"], responses=ERROR_RESPONSES)
StaffCaller = Annotated[Principal, Depends(require(Role.STAFF, Role.SUPERVISOR, Role.ADMIN))]


@router.post(
    "/login",
    response_model=SessionOut,
    responses={429: {"model": ErrorOut, "description": "Too many wrong PINs: wait or locked"}},
)
def login(body: LoginIn, hall: HallDep) -> SessionOut:
    """Check 工号 + PIN; at a window, open it (or take it over); return a session token."""
    staff = hall.staff.verify(body.staff, body.pin)
    if staff.role == Role.STAFF and body.window is None:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body", "window"), "msg": "Field required"}]
        )
    posts = hall.center.posts
    with hall.center.store.write() as tx:
        if body.window is not None:
            row = _window_row(tx, body.window)
            held_by_other = (
                row is not None
                and row.status != WindowStatus.CLOSED.value
                and row.staff != staff.number
            )
            if body.takeover and held_by_other:
                posts.handover(body.window, staff.number, "takeover at log-in")
                hall.staff.end_sessions(tx, window=body.window)
            else:
                posts.login(body.window, staff.number)
        token, expires_at = hall.staff.open_session(tx, staff, body.window)
    hall.forget_staff(staff=staff.number)  # its earlier sessions ended
    if body.window is not None and body.takeover:
        hall.forget_staff(window=body.window)
    return SessionOut(
        token=token,
        staff=staff.number,
        name=staff.name,
        role=staff.role,
        window=body.window,
        expires_at=expires_at,
    )


def _window_row(tx: Tx, window: int) -> Row[Any] | None:
    return tx.conn.execute(
        select(windows.c.staff, windows.c.status).where(windows.c.number == window)
    ).first()


@router.post("/logout", response_model=OkOut)
@on_hall
def logout(hall: HallDep, who: StaffCaller) -> OkOut:
    """Close the session's window (refused while serving a ticket) and end the session."""
    with hall.center.store.write() as tx:
        if who.window is not None:
            row = _window_row(tx, who.window)
            if (
                row is not None
                and row.status != WindowStatus.CLOSED.value
                and row.staff == who.name
            ):
                hall.center.posts.logout(who.window)
        hall.staff.end_sessions(tx, session_id=who.session_id)
    hall.forget_staff(staff=who.name)
    return OkOut()


def _on_duty(hall: Hall, who: Principal, *, at_lock: bool) -> int:
    """The session's window. The action's transaction goes on there only while ``who`` is
    still the staff member on duty, checked on the window's row (``Tx.guard_window``): now,
    before the action does anything; or, ``at_lock``, when the action locks the row, which
    saves call-next and finish a round trip (they lock it first, with their statement)."""
    window = who.window
    if window is None:
        raise InvalidState(
            "this session is not bound to a window: log in at one", zh="请先在窗口登录"
        )

    def check(row: Row[Any] | None) -> None:
        if row is None or row.status == WindowStatus.CLOSED.value:
            raise InvalidState(f"window {window} is closed: log in again", zh="窗口已退出登录")
        if row.staff != who.name:
            raise Forbidden(
                f"window {window} is now held by staff {row.staff}: log in again",
                zh="本窗口已由其他人员接管",
            )

    with hall.center.store.write() as tx:  # the action's own transaction (see _act)
        tx.guard_window(window, check)
        if not at_lock:
            tx.lock_window(window)
    return window


def _act(
    hall: Hall,
    who: Principal,
    request: Request,
    key: str | None,
    body: BaseModel | None,
    action: Callable[[int], BaseModel],
    status: int = 200,
    *,
    checked_at_lock: bool = False,
) -> JSONResponse:
    def run() -> BaseModel:
        with hall.center.store.write():
            return action(_on_duty(hall, who, at_lock=checked_at_lock))

    return idempotent(hall, who, key, request, body, run, status)


@router.post("/call-next", response_model=CallNextOut)
@on_hall
def call_next(
    request: Request, hall: HallDep, who: StaffCaller, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Call the next ticket for this window (null when nobody waits)."""

    def action(window: int) -> CallNextOut:
        called = hall.center.calls.call_next(window)
        return CallNextOut(called=CalledOut.of(called) if called else None)

    return _act(hall, who, request, idempotency_key, None, action, checked_at_lock=True)


@router.post("/call-number", response_model=CalledOut)
@on_hall
def call_number(
    body: CallNumberIn,
    request: Request,
    hall: HallDep,
    who: StaffCaller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Call one ticket by number: a waiting one, or a no-show back within the requeue time."""

    def action(window: int) -> CalledOut:
        return CalledOut.of(hall.center.calls.call_number(window, body.number.upper()))

    return _act(hall, who, request, idempotency_key, body, action)


@router.post("/recall", response_model=CalledOut)
@on_hall
def recall(
    request: Request, hall: HallDep, who: StaffCaller, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Call the current ticket again."""
    return _act(
        hall,
        who,
        request,
        idempotency_key,
        None,
        lambda window: CalledOut.of(hall.center.calls.recall(window)),
    )


@router.post("/skip", response_model=NumberOut)
@on_hall
def skip(
    request: Request, hall: HallDep, who: StaffCaller, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Mark the current ticket as a no-show (过号)."""
    return _act(
        hall,
        who,
        request,
        idempotency_key,
        None,
        lambda window: NumberOut(number=hall.center.calls.skip(window)),
    )


@router.post("/requeue", response_model=OkOut)
@on_hall
def requeue(
    body: CallNumberIn,
    request: Request,
    hall: HallDep,
    who: StaffCaller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Put a no-show back in its queue (once, within the hall's requeue time)."""

    def action(_window: int) -> OkOut:
        hall.center.calls.requeue(body.number.upper(), actor=f"staff:{who.name}")
        return OkOut()

    return _act(hall, who, request, idempotency_key, body, action)


@router.post("/transfer", response_model=OkOut)
@on_hall
def transfer(
    body: TransferIn,
    request: Request,
    hall: HallDep,
    who: StaffCaller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send the current ticket to another service's queue or to one window."""

    def action(window: int) -> OkOut:
        hall.center.calls.transfer(
            window, to_service=body.to_service, to_window=body.to_window, position=body.position
        )
        return OkOut()

    return _act(hall, who, request, idempotency_key, body, action)


@router.post("/pause", response_model=OkOut)
@on_hall
def pause(
    body: PauseIn,
    request: Request,
    hall: HallDep,
    who: StaffCaller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Pause the window (临时离岗) with a reason shown to waiting citizens."""

    def action(window: int) -> OkOut:
        hall.center.posts.pause(window, body.reason)
        return OkOut()

    return _act(hall, who, request, idempotency_key, body, action)


@router.post("/resume", response_model=OkOut)
@on_hall
def resume(
    request: Request, hall: HallDep, who: StaffCaller, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """End the pause."""

    def action(window: int) -> OkOut:
        hall.center.posts.resume(window)
        return OkOut()

    return _act(hall, who, request, idempotency_key, None, action)


@router.post("/finish", response_model=FinishOut)
@on_hall
def finish(
    request: Request, hall: HallDep, who: StaffCaller, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Finish serving the current ticket; its rating invitation opens at the window."""
    return _act(
        hall,
        who,
        request,
        idempotency_key,
        None,
        lambda window: FinishOut(ticket_id=hall.center.calls.finish(window)),
        checked_at_lock=True,
    )


@router.post("/invite-evaluation", response_model=InviteOut)
@on_hall
def invite_evaluation(
    request: Request, hall: HallDep, who: StaffCaller, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Invite the citizen at the window to rate this visit."""
    return _act(
        hall,
        who,
        request,
        idempotency_key,
        None,
        lambda window: InviteOut(evaluation_id=hall.center.calls.invite_evaluation(window)),
    )


@router.post("/cases", response_model=CaseOut, status_code=201)
@on_hall
def register_case(
    body: CaseIn,
    request: Request,
    hall: HallDep,
    who: StaffCaller,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Register a case (办件) for the ticket being served."""

    def action(window: int) -> CaseOut:
        info = hall.center.cases.register(
            window,
            kind=body.kind,
            item=body.item,
            person=person_input(body.person),
            working_days=body.working_days,
            materials=body.materials,
            pending_documents=body.pending_documents,
            documents_due_days=body.documents_due_days,
            special_procedure=body.special_procedure,
            reason=body.reason,
        )
        return CaseOut.of(info)

    return _act(hall, who, request, idempotency_key, body, action, 201)
