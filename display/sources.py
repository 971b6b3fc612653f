"""What the display controller reads from the center: live events and the current state.

``EventSource`` is satisfied by ``devices.client.stream.EventStream`` (the WebSocket) and by
in-process fakes in tests; ``CenterReader`` by ``ClientReader`` over a ``CenterClient``.
"""

from __future__ import annotations

from typing import Any, Protocol

from devices.client import CenterClient
from devices.client.stream import ConnectCallback, EventCallback, StreamStatus
from display.view import Call


class EventSource(Protocol):
    """Delivers center events in seq order, each once."""

    def start(self, on_event: EventCallback, on_connect: ConnectCallback | None = None) -> None:
        """Start delivering; ``on_connect`` runs before the first event of each connection."""

    def stop(self) -> None:
        """Stop delivering."""

    @property
    def status(self) -> StreamStatus:
        """Snapshot of the connection."""


class CenterReader(Protocol):
    """The center's view of the hall, read when the stream (re)connects."""

    def windows(self) -> list[dict[str, Any]]:
        """Every window: number, name, status, current, pause_reason, staff, covering_for."""

    def recent(self, limit: int) -> list[Call]:
        """The latest calls, newest first."""

    def waiting(self) -> list[tuple[str, int]]:
        """(service name, people waiting) per service."""

    def heartbeat(self) -> None:
        """Tell the center this display is alive."""


class ClientReader:
    """``CenterReader`` over the display's ``CenterClient``."""

    def __init__(self, client: CenterClient) -> None:
        self.client = client

    def windows(self) -> list[dict[str, Any]]:
        """``GET /api/v1/display/windows``."""
        rows = self.client.request("GET", "/api/v1/display/windows")
        return [dict(r) for r in rows]

    def recent(self, limit: int) -> list[Call]:
        """``GET /api/v1/display/recent``."""
        return [Call(c.number, c.window) for c in self.client.recent_calls(limit)]

    def waiting(self) -> list[tuple[str, int]]:
        """``GET /api/v1/status``: people waiting per service."""
        return [(s.name, s.waiting) for s in self.client.hall_status().services]

    def heartbeat(self) -> None:
        """``POST /api/v1/devices/heartbeat`` (one try)."""
        self.client.heartbeat()
