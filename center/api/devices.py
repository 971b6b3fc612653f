"""Device health: heartbeats, fault and recovery reports from any device.

Faults and recoveries are recorded and become events (supervisors are alerted); both accept
an ``Idempotency-Key`` so a report delivered twice from a device's outbox counts once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from center.api.deps import HallDep, IdempotencyKey, on_hall, require
from center.api.errors import ERROR_RESPONSES
from center.api.idempotency import idempotent
from center.api.schemas import DeviceReportIn
from center.api.views import OkOut
from center.auth.roles import Principal, Role
from center.engine.reports import FAULT, RECOVERY

router = APIRouter(prefix="/api/v1/devices", tags=["devices"], responses=ERROR_RESPONSES)
AnyDevice = Annotated[
    Principal, Depends(require(Role.KIOSK, Role.DISPLAY, Role.EVALUATOR, Role.KEYPAD))
]


@router.post("/heartbeat", response_model=OkOut)
@on_hall
def heartbeat(hall: HallDep, who: AnyDevice) -> OkOut:
    """The device is alive (updates when it was last seen)."""
    hall.reports.heartbeat(who.name)
    return OkOut()


def _report(
    kind: str,
    body: DeviceReportIn,
    request: Request,
    hall: HallDep,
    who: Principal,
    key: str | None,
) -> JSONResponse:
    def act() -> OkOut:
        hall.reports.report(who.name, who.window, kind, body.code, body.message, body.detail)
        return OkOut()

    return idempotent(hall, who, key, request, body, act, 201)


@router.post("/fault", response_model=OkOut, status_code=201)
@on_hall
def fault(
    body: DeviceReportIn,
    request: Request,
    hall: HallDep,
    who: AnyDevice,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The device reports a fault (printer out of paper, reader offline, …)."""
    return _report(FAULT, body, request, hall, who, idempotency_key)


@router.post("/recovery", response_model=OkOut, status_code=201)
@on_hall
def recovery(
    body: DeviceReportIn,
    request: Request,
    hall: HallDep,
    who: AnyDevice,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The device reports that a fault is over."""
    return _report(RECOVERY, body, request, hall, who, idempotency_key)
