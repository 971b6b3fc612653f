"""The application: ``create_app(center, settings)`` builds the FastAPI app of one hall.

Routes per audience live in their own modules (kiosk, staff, windows, devices, display,
supervisor); this module assembles them with the error handlers and the body limit. Only
``/api/v1/health`` and ``/openapi.json`` are public.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from center.api import (
    common,
    console,
    devices,
    display,
    errors,
    events,
    kiosk,
    oversight,
    rating_links,
    staff,
    supervisor,
    windows,
)
from center.api.deps import Hall
from center.api.idempotency import purge
from center.api.limits import BodyLimit
from center.api.settings import MAX_GREEN_SLOTS, ApiSettings
from center.engine.center import Center
from center.web import routes as web_routes

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
        # FastAPI's built-in OpenTelemetry asks the providers on every request whether
        # anyone listens: 3 % of a request's CPU for a hall that exports no traces.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    errors.install(app)
    for module in (common, kiosk, staff, windows, devices, display, supervisor):
        app.include_router(module.router)
    for module in (console, oversight, rating_links, web_routes):
        app.include_router(module.router)
    _include_optional_routers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def _include_optional_routers(app: FastAPI) -> None:
    """The live event stream's routes (WebSocket and catch-up), so the OpenAPI document has
    them; ``create_app`` attaches the hub that serves them."""
    app.include_router(events.router)


def create_app(
    center: Center, settings: ApiSettings | None = None, live_options: dict[str, Any] | None = None
) -> FastAPI:
    """The HTTP API and live event stream of the hall ``center`` serves.

    ``live_options`` go to the event hub (e.g. ``poll_seconds``)."""
    settings = settings or ApiSettings()
    if not 1 <= settings.green_slots <= MAX_GREEN_SLOTS:
        raise ValueError(f"green_slots must be between 1 and {MAX_GREEN_SLOTS}")
    app = _build_app(settings)
    app.state.hall = Hall.build(center, settings)
    events.attach(app, center.store, app.state.hall.principal, **(live_options or {}))
    _limit_threads(app, settings.worker_threads)
    purged = purge(center.store, dt.timedelta(days=settings.idempotency_days))
    if purged:
        log.info("purged %d stored idempotent replies", purged)
    return app


def _limit_threads(app: FastAPI, threads: int) -> None:
    """Run blocking endpoints on ``threads`` worker threads (set when the app starts)."""
    if threads < 1:
        raise ValueError("worker_threads must be at least 1")
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(the_app: Any) -> AsyncIterator[Any]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with inner(the_app) as state:
            yield state

    app.router.lifespan_context = lifespan


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document (it does not depend on any hall's config)."""
    return _build_app(ApiSettings()).openapi()
