"""Display endpoints: what window strips, the hall board and calling screens show.

For display devices (and supervisors, who see the same screens).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from center.api import queries
from center.api.deps import HallDep, on_hall, require
from center.api.errors import ERROR_RESPONSES
from center.api.views import DisplayCallOut, RecentCallOut, WindowStateOut
from center.auth.roles import Principal, Role

router = APIRouter(prefix="/api/v1/display", tags=["display"], responses=ERROR_RESPONSES)
Viewer = Annotated[Principal, Depends(require(Role.DISPLAY, Role.SUPERVISOR, Role.ADMIN))]


@router.get("/calls", response_model=list[DisplayCallOut])
@on_hall
def current_calls(hall: HallDep, _who: Viewer) -> list[DisplayCallOut]:
    """Per window: the ticket it serves now, or why it is not serving."""
    return [DisplayCallOut(**row) for row in queries.current_calls(hall.center)]


@router.get("/recent", response_model=list[RecentCallOut])
@on_hall
def recent_calls(
    hall: HallDep,
    _who: Viewer,
    limit: Annotated[int, Query(ge=1, le=100, description="How many calls")] = 10,
) -> list[RecentCallOut]:
    """The hall day's latest calls and recalls, newest first."""
    return [RecentCallOut(**row) for row in queries.recent_calls(hall.center, limit)]


@router.get("/windows", response_model=list[WindowStateOut])
@on_hall
def window_states(hall: HallDep, _who: Viewer) -> list[WindowStateOut]:
    """Every window's state: open, paused (with the reason) or closed, and who is on duty."""
    status = hall.center.status.hall()
    return [
        WindowStateOut(
            number=w.number,
            name=w.name,
            status=w.status.value,
            staff=w.staff,
            covering_for=w.covering_for,
            current=w.current,
            pause_reason=w.pause_reason,
        )
        for w in status.windows
    ]
