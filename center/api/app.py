"""The application: ``create_app(center, settings)`` builds the FastAPI app of one hall.

Routes per audience live in their own modules (kiosk, staff, windows, devices, display,
supervisor); this module assembles them with the error handlers and the body limit. Only
``/api/v1/health`` and ``/openapi.json`` are public.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fastapi import FastAPI

from center.api import common, devices, display, errors, kiosk, staff, supervisor, windows
from center.api.deps import Hall
from center.api.idempotency import purge
from center.api.limits import BodyLimit
from center.api.settings import ApiSettings
from center.engine.center import Center

log = logging.getLogger(__name__)

API_VERSION = "1"
DESCRIPTION = """\
The central server of a hallq service hall (政务服务中心): kiosks, staff at windows,
evaluators and keypads, displays and supervisors. Send a device token or a staff session
token as `Authorization: Bearer <token>`. Errors are `{"error", "message", "zh"}`.
See docs/api.md.
"""


def _build_app(settings: ApiSettings) -> FastAPI:
    app = FastAPI(
        title="hallq center",
        version=API_VERSION,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    errors.install(app)
    for module in (common, kiosk, staff, windows, devices, display, supervisor):
        app.include_router(module.router)
    _include_optional_routers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def _include_optional_routers(app: FastAPI) -> None:
    """Routers built beside this module are wired here.

    The live event stream (``center.api.events``, WebSocket over LISTEN/NOTIFY) goes here:
    ``app.include_router(events.router)``. Its handshake authenticates with
    ``Hall.authenticate(token)`` from ``app.state.hall``, like every other endpoint.
    """
    del app


def create_app(center: Center, settings: ApiSettings | None = None) -> FastAPI:
    """The HTTP API of the hall ``center`` serves."""
    settings = settings or ApiSettings()
    app = _build_app(settings)
    app.state.hall = Hall.build(center, settings)
    purged = purge(center.store, dt.timedelta(days=settings.idempotency_days))
    if purged:
        log.info("purged %d stored idempotent replies", purged)
    return app


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document (it does not depend on any hall's config)."""
    return _build_app(ApiSettings()).openapi()
