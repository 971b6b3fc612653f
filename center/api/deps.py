"""What every endpoint depends on: the hall's services and the authenticated caller.

Credentials travel only as ``Authorization: Bearer <token>``: a device token (``hqd_…``)
or a staff session token (``hqs_…``). A missing, unknown, revoked or expired token is a
401; a valid one whose role the endpoint does not admit is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from center.api.settings import ApiSettings
from center.auth.devices import DeviceRegistry
from center.auth.errors import Unauthenticated
from center.auth.roles import Principal, Role
from center.auth.staff import StaffAuth
from center.auth.tokens import DEVICE_PREFIX, plausible
from center.engine.center import Center
from center.engine.leases import LeaseDesk
from center.engine.reports import DeviceReports
from center.errors import Forbidden


@dataclass
class Hall:
    """The center and the service-layer desks built on it, shared by all requests."""

    center: Center
    settings: ApiSettings
    devices: DeviceRegistry
    staff: StaffAuth
    leases: LeaseDesk
    reports: DeviceReports
    fingerprint_key: bytes | None
    """Keys the request fingerprints of idempotent calls (bodies can hold ID numbers)."""

    @classmethod
    def build(cls, center: Center, settings: ApiSettings) -> Hall:
        """Wire the desks to ``center``."""
        ctx = center.ctx
        windows = frozenset(ctx.cfg.windows_by_number)
        return cls(
            center,
            settings,
            DeviceRegistry(center.store, ctx.clock, windows),
            StaffAuth(ctx.cfg, center.store, ctx.clock, settings.pins),
            LeaseDesk(ctx),
            DeviceReports(ctx),
            ctx.pii.derive_key("idempotency") if ctx.pii else None,
        )

    def principal(self, token: str) -> Principal | None:
        """The caller presenting ``token``, or None (for the event stream's handshake)."""
        if not plausible(token):
            return None
        if token.startswith(DEVICE_PREFIX):
            return self.devices.authenticate(token)
        return self.staff.authenticate(token)

    def authenticate(self, token: str) -> Principal:
        """The caller presenting ``token``; raises Unauthenticated."""
        who = self.principal(token)
        if who is None:
            raise Unauthenticated(
                "the token is unknown, revoked or expired", zh="登录已失效，请重新登录"
            )
        return who


def get_hall(request: Request) -> Hall:
    """The application's :class:`Hall`."""
    hall: Hall = request.app.state.hall
    return hall


HallDep = Annotated[Hall, Depends(get_hall)]

bearer = HTTPBearer(
    auto_error=False,
    description="A device token (hqd_…) from `hallq device add`, or a staff session "
    "token (hqs_…) from POST /api/v1/staff/login.",
)


def get_principal(
    hall: HallDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The authenticated caller; 401 without a valid bearer token."""
    if credentials is None:
        raise Unauthenticated(
            "this needs a bearer token in the Authorization header", zh="请先登录"
        )
    return hall.authenticate(credentials.credentials)


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting only callers with one of ``roles`` (403 for the others)."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    def dependency(who: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if who.role not in allowed:
            raise Forbidden(f"a {who.role} may not do this (allowed: {names})", zh="无权进行此操作")
        return who

    return dependency


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Any unique string per logical request (a UUID); a retry with the same "
        "key gets the first reply and records nothing twice.",
    ),
]
