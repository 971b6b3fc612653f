"""What every endpoint depends on: the hall's services and the authenticated caller.

Credentials travel only as ``Authorization: Bearer <token>``: a device token (``hqd_…``)
or a staff session token (``hqs_…``). A missing, unknown, revoked or expired token is a
401; a valid one whose role the endpoint does not admit is a 403.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from center.api.settings import ApiSettings
from center.auth.cache import PrincipalCache
from center.auth.devices import DeviceRegistry
from center.auth.errors import Unauthenticated
from center.auth.roles import Principal, Role
from center.auth.staff import StaffAuth
from center.auth.tokens import DEVICE_PREFIX, plausible
from center.db.green import GreenRunner
from center.engine.center import Center
from center.engine.leases import LeaseDesk
from center.engine.reports import DeviceReports
from center.errors import Forbidden

T = TypeVar("T")


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
    principals: PrincipalCache
    """Tokens checked in the last few seconds (see ``center.auth.cache``)."""
    green: GreenRunner | None = None
    """On PostgreSQL: runs database endpoints on the event loop (``center.db.green``)."""

    @classmethod
    def build(cls, center: Center, settings: ApiSettings) -> Hall:
        """Wire the desks to ``center``."""
        ctx = center.ctx
        windows = frozenset(ctx.cfg.windows_by_number)
        cache = PrincipalCache(settings.auth_cache_seconds)

        def device_changed(name: str) -> None:
            cache.forget(lambda who: who.is_device and who.name == name)

        return cls(
            center,
            settings,
            DeviceRegistry(center.store, ctx.clock, windows, device_changed),
            StaffAuth(ctx.cfg, center.store, ctx.clock, settings.pins),
            LeaseDesk(ctx),
            DeviceReports(ctx),
            ctx.pii.derive_key("idempotency") if ctx.pii else None,
            cache,
            GreenRunner(settings.green_slots) if center.store.postgres else None,
        )

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run the blocking database function ``fn``: as a greenlet on the event loop on
        PostgreSQL, on a worker thread on SQLite (whose driver cannot yield)."""
        if self.green is not None:
            return await self.green.run(fn, *args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)

    def cached(self, token: str) -> Principal | None:
        """The caller presenting ``token`` if checked within the cache's time and, for a
        staff session, not expired by the hall's clock; else None (look it up)."""
        if not plausible(token):
            return None
        who = self.principals.get(token)
        if who is None or (
            who.expires_at is not None and who.expires_at <= self.center.ctx.clock.now()
        ):
            return None
        return who

    def principal(self, token: str) -> Principal | None:
        """The caller presenting ``token``, or None (for the event stream's handshake)."""
        if not plausible(token):
            return None
        who = self.cached(token)
        if who is not None:
            return who
        if token.startswith(DEVICE_PREFIX):
            who = self.devices.authenticate(token)
        else:
            who = self.staff.authenticate(token)
        if who is not None:
            self.principals.put(token, who)
        return who

    def forget_staff(self, *, staff: str | None = None, window: int | None = None) -> None:
        """Forget the cached sessions of ``staff`` or at ``window`` (after ending them)."""
        self.principals.forget(
            lambda who: (
                not who.is_device
                and (staff is None or who.name == staff)
                and (window is None or who.window == window)
            )
        )

    def authenticate(self, token: str) -> Principal:
        """The caller presenting ``token``; raises Unauthenticated."""
        who = self.principal(token)
        if who is None:
            raise Unauthenticated(
                "the token is unknown, revoked or expired", zh="登录已失效，请重新登录"
            )
        return who


async def get_hall(request: Request) -> Hall:
    """The application's :class:`Hall`."""
    hall: Hall = request.app.state.hall
    return hall


HallDep = Annotated[Hall, Depends(get_hall)]

bearer = HTTPBearer(
    auto_error=False,
    description="A device token (hqd_…) from `hallq device add`, or a staff session "
    "token (hqs_…) from POST /api/v1/staff/login.",
)


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The authenticated caller; 401 without a valid bearer token.

    A token seen in the last few seconds is answered from the cache, on the event loop; any
    other is looked up in the database through :meth:`Hall.run` (a greenlet on PostgreSQL:
    on a worker thread, the lookups made the workers switch 2,400 times a second under
    load, waiting for the GIL)."""
    if credentials is None:
        raise Unauthenticated(
            "this needs a bearer token in the Authorization header", zh="请先登录"
        )
    hall: Hall = request.app.state.hall
    token = credentials.credentials
    cached = hall.cached(token)
    if cached is not None:
        return cached
    return await hall.run(hall.authenticate, token)


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only callers with one of ``roles`` (403 for the others).

    It does ``get_principal``'s work itself rather than depend on it: every level of
    dependency costs FastAPI some 10 µs per request, on every call and ticket."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        who = await get_principal(request, credentials)
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


def on_hall(endpoint: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Make the blocking endpoint ``endpoint`` (it takes ``hall: HallDep``) run through
    :meth:`Hall.run` instead of FastAPI's worker threads; its signature, and so its
    parameters and OpenAPI entry, stay as they are."""

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> T:
        hall: Hall = kwargs["hall"]
        return await hall.run(endpoint, *args, **kwargs)

    return run
