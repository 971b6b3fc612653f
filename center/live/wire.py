"""The JSON messages of the live event stream (see docs/events.md for the protocol).

Client → server, first message: ``{"token": "...", "since": 123, "kinds": ["ticket."],
"window": 3}`` (everything optional but the token, unless the connection carried an
``Authorization: Bearer`` header). Server → client: ``{"type": "hello" | "event" | "live" |
"heartbeat", ...}``; an event is ``{"type": "event", "seq", "kind", "at", "hall_day",
"window", "ticket_id", "actor", "data"}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from center.engine.store import Event
from center.live.hub import EventFilter

MAX_SEQ = 2**53
"""The largest ``since`` accepted: far beyond any log, and within every database's integers."""
MAX_KINDS = 32
MAX_WINDOWS = 1000


class BadHello(ValueError):
    """The client's first message is not a valid subscription request."""


@dataclass(frozen=True, slots=True)
class Hello:
    """A client's subscription request."""

    token: str | None
    since: int | None
    event_filter: EventFilter


def event_message(event: Event) -> dict[str, Any]:
    """The stream message for one event."""
    return {
        "type": "event",
        "seq": event.seq,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "hall_day": event.hall_day.isoformat(),
        "window": event.window,
        "ticket_id": event.ticket_id,
        "actor": event.actor,
        "data": event.data,
    }


def encode(message: dict[str, Any]) -> str:
    """Compact JSON, Chinese text kept as is."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class EncodedEvents:
    """The stream text of recent events, encoded once for all of a process's subscribers.

    The hub hands the same ``Event`` objects to every subscription, so a call seen by ten
    displays is encoded once, not ten times. Entries hold their event (so its ``id`` cannot be
    reused while cached) and the oldest are dropped past ``size``. Used from the event loop
    thread only."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._texts: dict[int, tuple[Event, str]] = {}

    def text(self, event: Event) -> str:
        """``encode(event_message(event))``, from the cache when this very event was seen."""
        found = self._texts.get(id(event))
        if found is not None and found[0] is event:
            return found[1]
        text = encode(event_message(event))
        if len(self._texts) >= self.size:
            for key in list(self._texts)[: self.size // 4]:
                del self._texts[key]
        self._texts[id(event)] = (event, text)
        return text


def parse_hello(raw: str | bytes) -> Hello:
    """Validate the first message; unknown keys are ignored (newer clients, older center)."""
    try:
        obj = json.loads(raw)
    except ValueError:
        raise BadHello("first message must be a JSON object") from None
    if not isinstance(obj, dict):
        raise BadHello("first message must be a JSON object")
    token = obj.get("token")
    if token is not None and (not isinstance(token, str) or not token):
        raise BadHello("token must be a non-empty string")
    since = obj.get("since")
    if since is not None and (not _is_int(since) or not 0 <= since <= MAX_SEQ):
        raise BadHello(f"since must be a sequence number (an integer 0..{MAX_SEQ}) or null")
    return Hello(token, since, EventFilter(_kinds(obj.get("kinds")), _windows(obj.get("window"))))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kinds(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, list)
        or len(value) > MAX_KINDS
        or not all(isinstance(k, str) and k for k in value)
    ):
        raise BadHello(f"kinds must be a list of at most {MAX_KINDS} non-empty kind prefixes")
    return tuple(value)


def _windows(value: Any) -> frozenset[int]:
    if value is None:
        return frozenset()
    if _is_int(value):
        value = [value]
    if (
        not isinstance(value, list)
        or len(value) > MAX_WINDOWS
        or not all(_is_int(w) and w >= 1 for w in value)
    ):
        raise BadHello("window must be a window number or a list of them")
    return frozenset(value)
