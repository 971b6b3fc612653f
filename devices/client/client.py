"""Typed calls to the center's HTTP API, with timeouts and retries.

Retries: a connection error, a timeout or a 5xx is tried again after an exponential backoff
with full jitter (``uniform(0, min(cap, base * 2**n))``), up to ``RetryPolicy.attempts``
times, then :class:`CenterUnreachable`. A 4xx is never retried (:class:`CenterRefused`).
Every POST carries an ``Idempotency-Key`` made once per logical call and reused by its
retries, so a retry whose first try did arrive is not recorded twice.

The device token goes in the ``Authorization`` header, never in a URL.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from devices.client.errors import CenterRefused, CenterUnreachable, NotAuthorized
from devices.client.models import DisplayCall, HallStatus, Lease, RecentCall, Ticket, WindowState

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a call is retried."""

    attempts: int = 4
    base_seconds: float = 0.2
    cap_seconds: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (0-based)."""
        return random.uniform(0.0, min(self.cap_seconds, self.base_seconds * 2**attempt))


@dataclass(frozen=True, slots=True)
class Person:
    """A citizen's identity read from the ID card; sent only in request bodies."""

    id_number: str
    name: str | None = None
    phone: str | None = None

    def __repr__(self) -> str:
        return "Person(<personal data>)"

    def body(self) -> dict[str, str]:
        """As the center expects it."""
        out = {"id_number": self.id_number}
        if self.name:
            out["name"] = self.name
        if self.phone:
            out["phone"] = self.phone
        return out


def new_key() -> str:
    """A fresh idempotency key."""
    return uuid.uuid4().hex


class CenterClient:
    """One device's connection to the center."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
            verify=verify,
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> CenterClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the one place requests are made -------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        attempts: int | None = None,
    ) -> Any:
        """Send a request, retrying what may succeed later; the decoded JSON reply."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        tries = attempts if attempts is not None else self.retry.attempts
        problem = "no attempt made"
        for attempt in range(max(1, tries)):
            if attempt:
                self._sleep(self.retry.delay(attempt - 1))
            try:
                reply = self._http.request(method, path, json=json, params=params, headers=headers)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                log.debug("%s %s failed (try %d): %s", method, path, attempt + 1, problem)
                continue
            if reply.status_code in RETRY_STATUS:
                problem = f"HTTP {reply.status_code}"
                continue
            if reply.status_code >= 400:
                raise _refusal(reply)
            return reply.json()
        raise CenterUnreachable(f"{method} {path}: {problem}")

    def post(self, path: str, body: Any = None, *, key: str | None = None) -> Any:
        """POST with an idempotency key (a fresh one unless given)."""
        return self.request("POST", path, json=body, idempotency_key=key or new_key())

    # --- everyone ------------------------------------------------------------------------

    def health(self) -> bool:
        """Does the center answer (one try, no retries)?"""
        try:
            self.request("GET", "/api/v1/health", attempts=1)
        except (CenterUnreachable, CenterRefused):
            return False
        return True

    def hall_status(self) -> HallStatus:
        """Queues per service and window states."""
        return HallStatus.parse(self.request("GET", "/api/v1/status"))

    def heartbeat(self) -> None:
        """Tell the center this device is alive (one try: the next beat will come)."""
        self.request("POST", "/api/v1/devices/heartbeat", attempts=1)

    def report_fault(
        self, code: str, message: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        """Report a fault now (see :class:`Outbox` to queue it while offline)."""
        self.post("/api/v1/devices/fault", fault_body(code, message, detail))

    def report_recovery(
        self, code: str, message: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        """Report that a fault is over."""
        self.post("/api/v1/devices/recovery", fault_body(code, message, detail))

    # --- kiosks --------------------------------------------------------------------------

    def issue_ticket(
        self,
        service: str,
        *,
        priority_class: str | None = None,
        person: Person | None = None,
        key: str | None = None,
    ) -> Ticket:
        """Take a ticket."""
        body: dict[str, Any] = {"service": service}
        if priority_class:
            body["priority_class"] = priority_class
        if person is not None:
            body["person"] = person.body()
        return Ticket.parse(self.post("/api/v1/kiosk/tickets", body, key=key))

    def check_in(self, code: str, *, key: str | None = None) -> Ticket:
        """Check in an appointment by the code in its QR code."""
        return Ticket.parse(self.post("/api/v1/kiosk/check-in", {"code": code}, key=key))

    def check_in_person(self, person: Person, *, key: str | None = None) -> Ticket:
        """Check in the person's appointment of today (ID number in the body, never the URL)."""
        body = {"person": {"id_number": person.id_number}}
        return Ticket.parse(self.post("/api/v1/kiosk/check-in/person", body, key=key))

    def take_lease(self, service: str, count: int) -> Lease:
        """Reserve ``count`` numbers of ``service`` for offline issuing."""
        reply = self.post("/api/v1/kiosk/leases", {"service": service, "count": count})
        return Lease.parse(reply)

    def sync_offline(self, tickets: list[dict[str, Any]], *, key: str | None = None) -> list[Any]:
        """Send tickets issued offline; the center's record of each."""
        reply = self.post("/api/v1/kiosk/leases/sync", {"tickets": tickets}, key=key)
        return list(reply["tickets"])

    # --- window devices ------------------------------------------------------------------

    def rate(self, window: int, level: int, *, key: str | None = None) -> dict[str, Any]:
        """A rating pressed on window ``window``'s evaluator."""
        reply: dict[str, Any] = self.post(
            f"/api/v1/windows/{int(window)}/rating", {"level": level}, key=key
        )
        return reply

    def press_key(
        self,
        window: int,
        key_name: str,
        *,
        number: str | None = None,
        reason: str | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """A key pressed on window ``window``'s caller keypad."""
        body: dict[str, Any] = {"key": key_name}
        if number:
            body["number"] = number
        if reason:
            body["reason"] = reason
        reply: dict[str, Any] = self.post(f"/api/v1/windows/{int(window)}/keys", body, key=key)
        return reply

    # --- displays ------------------------------------------------------------------------

    def display_calls(self) -> list[DisplayCall]:
        """What each window's strip shows now."""
        return [DisplayCall.parse(d) for d in self.request("GET", "/api/v1/display/calls")]

    def recent_calls(self, limit: int = 10) -> list[RecentCall]:
        """The latest calls, newest first."""
        rows = self.request("GET", "/api/v1/display/recent", params={"limit": limit})
        return [RecentCall.parse(d) for d in rows]

    def window_states(self) -> list[WindowState]:
        """Every window's state."""
        return [WindowState.parse(d) for d in self.request("GET", "/api/v1/display/windows")]


def fault_body(code: str, message: str | None, detail: dict[str, Any] | None) -> dict[str, Any]:
    """The body of a fault or recovery report."""
    body: dict[str, Any] = {"code": code, "detail": detail or {}}
    if message:
        body["message"] = message
    return body


def _refusal(reply: httpx.Response) -> CenterRefused:
    try:
        body = reply.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    kind = NotAuthorized if reply.status_code in (401, 403) else CenterRefused
    return kind(reply.status_code, body)
