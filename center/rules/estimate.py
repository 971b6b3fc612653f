"""Estimated waiting time: a first model from recent service times and open windows.

wait ≈ people ahead × mean handling time ÷ windows serving the service now.
The mean is taken over the service's most recent finished sessions (handling time = call to
finish); until enough are known the configured ``expected_minutes`` fills in, blended so the
estimate moves smoothly from the guess to the measurement.
"""

from __future__ import annotations

from collections.abc import Sequence

PRIOR_WEIGHT = 5
"""The configured guess counts as this many observed sessions."""


def mean_handling_seconds(recent: Sequence[float], expected_minutes: float) -> float:
    """Blend of the configured guess and the recent handling times (seconds)."""
    prior = expected_minutes * 60.0
    total = prior * PRIOR_WEIGHT + sum(recent)
    return total / (PRIOR_WEIGHT + len(recent))


def estimate_wait_seconds(ahead: int, open_windows: int, mean_seconds: float) -> float | None:
    """Seconds until a new ticket is likely called; None when no window serves the service."""
    if ahead < 0:
        raise ValueError("people ahead cannot be negative")
    if open_windows <= 0:
        return None
    return ahead * mean_seconds / open_windows
