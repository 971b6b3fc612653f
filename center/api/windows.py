"""Window devices: the evaluator reports ratings, the caller keypad reports key presses.

Each device belongs to one window and may act only for it (403 for any other window).
Both accept an ``Idempotency-Key``, so a report retried from a device's outbox is recorded
once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from center.api.deps import Hall, HallDep, IdempotencyKey, on_hall, require
from center.api.errors import ERROR_RESPONSES
from center.api.idempotency import idempotent
from center.api.schemas import KeyIn, RatingIn
from center.api.views import CalledOut, KeyOut, RatedOut
from center.auth.roles import Principal, Role
from center.errors import Forbidden

router = APIRouter(prefix="/api/v1/windows", tags=["window devices"], responses=ERROR_RESPONSES)
Evaluator = Annotated[Principal, Depends(require(Role.EVALUATOR))]
Keypad = Annotated[Principal, Depends(require(Role.KEYPAD))]
WindowPath = Annotated[int, Path(ge=1, le=999, description="The window's number")]

DEFAULT_PAUSE_REASON = "临时离岗"


def _own_window(who: Principal, window: int) -> None:
    if who.window != window:
        raise Forbidden(
            f"{who.role} {who.name} belongs to window {who.window}, not window {window}",
            zh="设备不属于该窗口",
        )


@router.post("/{window}/rating", response_model=RatedOut)
@on_hall
def rate(
    window: WindowPath,
    body: RatingIn,
    request: Request,
    hall: HallDep,
    who: Evaluator,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The rating pressed on this window's evaluator, for its open invitation."""
    _own_window(who, window)

    def act() -> RatedOut:
        return RatedOut.of(hall.center.ratings.rate_at_window(window, body.level))

    return idempotent(hall, who, idempotency_key, request, body, act)


@router.post("/{window}/keys", response_model=KeyOut)
@on_hall
def press_key(
    window: WindowPath,
    body: KeyIn,
    request: Request,
    hall: HallDep,
    who: Keypad,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A key pressed on this window's caller keypad: next, call, recall, skip, finish, …"""
    _own_window(who, window)
    return idempotent(hall, who, idempotency_key, request, body, lambda: _press(hall, window, body))


def _press(hall: Hall, window: int, body: KeyIn) -> KeyOut:
    calls, posts = hall.center.calls, hall.center.posts
    out = KeyOut(window=window, key=body.key)
    match body.key:
        case "next":
            called = calls.call_next(window)
            out.called = CalledOut.of(called) if called else None
        case "call":
            out.called = CalledOut.of(calls.call_number(window, (body.number or "").upper()))
        case "recall":
            out.called = CalledOut.of(calls.recall(window))
        case "skip":
            out.number = calls.skip(window)
        case "finish":
            calls.finish(window)
        case "evaluate":
            calls.invite_evaluation(window)
        case "pause":
            posts.pause(window, body.reason or DEFAULT_PAUSE_REASON)
        case "resume":
            posts.resume(window)
    return out
