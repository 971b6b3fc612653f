"""Settings of the API service (not of the hall: those are in the hall config)."""

from __future__ import annotations

from dataclasses import dataclass, field

from center.auth.staff import PinPolicy


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Limits and policies of the HTTP service."""

    max_body_bytes: int = 64 * 1024
    """Larger request bodies are refused with 413 before they are parsed."""
    pins: PinPolicy = field(default_factory=PinPolicy)
    idempotency_days: int = 7
    """Stored replies older than this are purged at start."""
