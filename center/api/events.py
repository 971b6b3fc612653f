"""Live events over a WebSocket, and the event log in pages over HTTP.

``WS  /api/v1/events/stream``: the client's first message subscribes (and carries the token
unless an ``Authorization: Bearer`` header did); the server replays from ``since``, says
``live``, then pushes each event as it commits, with a heartbeat when idle.
``GET /api/v1/events?since=&limit=``: one page of the log after ``since`` (Bearer token).
Tokens never travel in URLs. Protocol, close codes and guarantees: docs/events.md.

Wiring, on ``app.state``: ``event_hub`` (a started ``EventHub``), ``authenticate``
(``token -> principal | None``, plain or async; a plain one runs in a worker thread, so it may
query the database; without it ``app.state.hall.principal`` is used) and optionally
``event_stream`` (``StreamSettings``). ``attach(app, store)`` does all of it, includes the
router and starts and stops the hub with the app's lifespan; ``install`` only sets the state.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from center.api.deps import bearer
from center.engine.store import Store
from center.live.feed import AsyncFeed
from center.live.hub import EventHub, Overflowed, Subscription, SubscriptionClosed
from center.live.wire import (
    MAX_SEQ,
    BadHello,
    EncodedEvents,
    encode,
    event_message,
    parse_hello,
)

log = logging.getLogger(__name__)

Authenticate = Callable[[str], Any]
"""``token -> principal | None`` (or an awaitable of it)."""

# WebSocket close codes (4000-4999 are the application's own).
CLOSE_BAD_HELLO = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_RESYNC = 4409
"""The subscriber fell a queue behind: reconnect with the last seq received."""
CLOSE_UNAVAILABLE = 1011

STREAM_PATH = "/api/v1/events/stream"
router = APIRouter(tags=["events"])


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """Timings of the event stream."""

    hello_timeout: float = 10.0
    """Seconds a new connection has to send its first message."""
    heartbeat: float = 15.0
    """Seconds of silence after which the server sends a heartbeat."""
    page: int = 500
    """Events read from the log per step of a replay."""


def install(
    app: FastAPI,
    hub: EventHub,
    authenticate: Authenticate | None = None,
    settings: StreamSettings | None = None,
) -> None:
    """Give the event routes what they need (the hub is started and closed by the caller)."""
    app.state.event_hub = hub
    if authenticate is not None:
        app.state.authenticate = authenticate
    app.state.event_stream = settings or StreamSettings()


def attach(
    app: FastAPI,
    store: Store,
    authenticate: Authenticate | None = None,
    settings: StreamSettings | None = None,
    **hub_options: Any,
) -> EventHub:
    """Serve live events on ``app``: routes, state, and a hub that lives as long as the app."""
    hub = EventHub(store, **hub_options)
    install(app, hub, authenticate, settings)
    if not _included(app):
        app.include_router(router)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(the_app: Any) -> AsyncIterator[Any]:
        # The listener for other processes' commits runs on this loop, not in a thread.
        await asyncio.to_thread(hub.start, loop=asyncio.get_running_loop())
        try:
            async with inner(the_app) as state:
                yield state
        finally:
            await asyncio.to_thread(hub.close)

    app.router.lifespan_context = lifespan
    return hub


_ENCODED = EncodedEvents()
"""Events sent to several subscribers are encoded once (the event loop's thread only)."""


def _included(app: FastAPI) -> bool:
    """Whether ``router`` is part of ``app`` (FastAPI ≥ 0.12x keeps included routers whole)."""
    return any(
        getattr(r, "path", None) == STREAM_PATH or getattr(r, "original_router", None) is router
        for r in app.router.routes
    )


def _hub(app: Any) -> EventHub | None:
    return getattr(app.state, "event_hub", None)


def _settings(app: Any) -> StreamSettings:
    found = getattr(app.state, "event_stream", None)
    return found if isinstance(found, StreamSettings) else StreamSettings()


async def _authenticate(app: Any, token: str) -> Any:
    check: Authenticate | None = getattr(app.state, "authenticate", None)
    if check is None:
        hall = getattr(app.state, "hall", None)
        check = getattr(hall, "principal", None)
    if check is None:
        log.error("no authenticate callable on app.state: refusing every token")
        return None
    if inspect.iscoroutinefunction(check):
        return await check(token)
    result = await run_in_threadpool(check, token)
    if inspect.isawaitable(result):
        awaited: Awaitable[Any] = result
        return await awaited
    return result


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def require_principal(request: Request) -> Any:
    """Dependency: the caller behind the request's Bearer token, else 401."""
    token = _bearer(request.headers.get("authorization"))
    principal = await _authenticate(request.app, token) if token else None
    if principal is None:
        raise HTTPException(
            status_code=401,
            detail="a valid Bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


# ``bearer`` only declares the scheme in the OpenAPI document; require_principal checks it.
@router.get("/api/v1/events", dependencies=[Depends(bearer)])
def list_events(
    request: Request,
    _principal: Annotated[Any, Depends(require_principal)],
    since: Annotated[
        int, Query(ge=0, le=MAX_SEQ, description="return events with a larger seq")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """One page of the event log after ``since``, oldest first."""
    hub = _hub(request.app)
    if hub is None:
        raise HTTPException(status_code=503, detail="live events are not set up")
    page = hub.store.events_after(since, limit)
    return {
        "events": [event_message(e) for e in page],
        "next": page[-1].seq if page else since,
        "more": len(page) == limit,
    }


@router.websocket(STREAM_PATH)
async def event_stream(websocket: WebSocket) -> None:
    """Subscribe with the first message, then receive events (docs/events.md)."""
    await websocket.accept()
    hub, settings = _hub(websocket.app), _settings(websocket.app)
    if hub is None:
        await websocket.close(CLOSE_UNAVAILABLE, "live events are not set up")
        return
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), settings.hello_timeout)
        hello = parse_hello(raw)
    except TimeoutError:
        await websocket.close(CLOSE_HELLO_TIMEOUT, "send the subscription message first")
        return
    except BadHello as exc:
        await websocket.close(CLOSE_BAD_HELLO, str(exc))
        return
    except KeyError:
        await websocket.close(CLOSE_BAD_HELLO, "first message must be JSON text")
        return
    except (WebSocketDisconnect, RuntimeError):
        return  # gone before subscribing
    token = _bearer(websocket.headers.get("authorization")) or hello.token
    if token is None or await _authenticate(websocket.app, token) is None:
        await websocket.close(CLOSE_UNAUTHORIZED, "a valid token is required")
        return
    sub = hub.subscribe(hello.since, hello.event_filter)
    try:
        await _serve(websocket, sub, hub.head, settings)
    finally:
        sub.close()


async def _serve(websocket: WebSocket, sub: Subscription, head: int, s: StreamSettings) -> None:
    await websocket.send_text(encode({"type": "hello", "since": sub.position, "head": head}))
    sender = asyncio.create_task(_send_events(websocket, sub, s))
    receiver = asyncio.create_task(_receive(websocket))
    done, pending = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    close: tuple[int, str] | None = None
    for task in done:
        exc = task.exception()
        if isinstance(exc, Overflowed):
            close = (CLOSE_RESYNC, f"too far behind: reconnect with since={exc.position}")
        elif isinstance(exc, SubscriptionClosed):
            close = (1001, "center shutting down")
        elif exc is not None and not isinstance(exc, WebSocketDisconnect | OSError):
            log.error("event stream failed", exc_info=exc)
            close = (CLOSE_UNAVAILABLE, "internal error")
    if close and websocket.application_state is WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(*close)


async def _send_events(websocket: WebSocket, sub: Subscription, s: StreamSettings) -> None:
    feed = AsyncFeed(sub, page=s.page)
    announced = False
    try:
        while True:
            batch = await feed.next(s.heartbeat)
            if batch is None:
                await websocket.send_text(encode({"type": "heartbeat", "seq": sub.position}))
                continue
            for event in batch:
                await websocket.send_text(_ENCODED.text(event))
            if sub.live and not announced:
                await websocket.send_text(encode({"type": "live", "seq": sub.position}))
                announced = True
    finally:
        feed.close()


async def _receive(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it leaves."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
