"""Endpoints every audience shares: health (public), hall status, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from center.api.deps import HallDep, get_principal, on_hall
from center.api.errors import ERROR_RESPONSES, ErrorOut, error_response
from center.api.views import HallStatusOut, HealthOut, MeOut
from center.auth.roles import Principal

router = APIRouter(prefix="/api/v1", tags=["common"])
Caller = Annotated[Principal, Depends(get_principal)]


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": ErrorOut, "description": "The database does not answer"}},
)
def health(hall: HallDep) -> HealthOut | JSONResponse:
    """Public: the service runs and its database answers."""
    try:
        with hall.center.store.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return error_response(503, "unavailable", "the database does not answer", "系统暂不可用")
    return HealthOut(status="ok")


@router.get("/status", response_model=HallStatusOut, responses=ERROR_RESPONSES)
@on_hall
def hall_status(hall: HallDep, _who: Caller) -> HallStatusOut:
    """Queues per service (waiting, estimated wait, open windows) and every window's state."""
    return HallStatusOut.of(hall.center.status.hall())


@router.get("/me", response_model=MeOut, responses=ERROR_RESPONSES)
def me(who: Caller) -> MeOut:
    """The caller behind the token: role, name (device name or staff number), window."""
    return MeOut(role=who.role.value, name=who.name, window=who.window)
