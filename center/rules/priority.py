"""Who is called next: the hall's priority policy as a pure function.

A waiting ticket stands in one lane of its service and carries a ``queue_key`` (milliseconds):
the smaller the key, the earlier it is called among comparable tickets.

* regular tickets: key = the time the ticket was taken (first come, first served);
* green-channel tickets (绿色通道): key = take time minus the class's head start, so an elderly
  citizen with a 20-minute head start goes before regular tickets taken up to 20 minutes
  earlier, and after those that have waited longer. This is the ageing rule: a regular ticket
  that has waited longer than the largest head start is never overtaken again, so no one
  starves however many priority tickets arrive;
* appointment check-ins within their slot: key = slot start, served before the other lanes
  once the slot opens (``appointment_early_minutes`` before its start);
* tickets transferred to one named window (direct lane) come first at that window.

On top of the keys, the N:1 interleave caps how many priority tickets a window calls in a row
while regular tickets wait (``priority_per_regular``). Ties are broken by ticket id, which is
issue order: first come, first served among equals.

Between the services a window serves, ``precedence`` empties the first service before the
next, ``oldest`` takes the smallest key across all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from center.engine.states import Lane

FRONT_OFFSET_MS = 10**12
"""Subtracted from a key to put a ticket in front of every normally keyed ticket (~31 years)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """The head of one lane of one service, as the engine read it."""

    ticket_id: int
    service: str
    lane: Lane
    queue_key: int


@dataclass(frozen=True, slots=True)
class Policy:
    """The parts of the hall's priority config the choice needs."""

    priority_per_regular: int = 3
    appointment_early_ms: int = 15 * 60_000


@dataclass(frozen=True, slots=True)
class Choice:
    """The ticket to call and the window's priority streak after calling it."""

    candidate: Candidate
    streak: int


def regular_key(taken_ms: int) -> int:
    """Queue key of a regular ticket taken at ``taken_ms``."""
    return taken_ms


def priority_key(taken_ms: int, head_start_minutes: float) -> int:
    """Queue key of a green-channel ticket: its take time moved earlier by the head start."""
    return taken_ms - round(head_start_minutes * 60_000)


def front_key(now_ms: int) -> int:
    """Queue key that puts a ticket ahead of all normally keyed tickets, in arrival order."""
    return now_ms - FRONT_OFFSET_MS


def _order(c: Candidate) -> tuple[int, int]:
    return (c.queue_key, c.ticket_id)


def choose(
    candidates: Sequence[Candidate],
    *,
    services: Sequence[str],
    selection: Literal["precedence", "oldest"],
    streak: int,
    policy: Policy,
    now_ms: int,
) -> Choice | None:
    """Pick the next ticket for a window among the heads of its lanes, or None if none waits."""
    direct = [c for c in candidates if c.lane is Lane.DIRECT]
    if direct:
        return Choice(min(direct, key=_order), streak)
    rank = {code: i for i, code in enumerate(services)}
    due = [
        c
        for c in candidates
        if c.lane is Lane.APPOINTMENT and c.queue_key - policy.appointment_early_ms <= now_ms
    ]
    if due:
        return Choice(min(due, key=lambda c: (_precedence(c, rank, selection), *_order(c))), streak)
    pool = [c for c in candidates if c.lane in (Lane.PRIORITY, Lane.REGULAR)]
    if selection == "precedence" and pool:
        first = min(rank[c.service] for c in pool)
        pool = [c for c in pool if rank[c.service] == first]
    return _interleave(pool, streak, policy.priority_per_regular)


def _precedence(c: Candidate, rank: dict[str, int], selection: str) -> int:
    return rank[c.service] if selection == "precedence" else 0


def _interleave(pool: list[Candidate], streak: int, cap: int) -> Choice | None:
    if not pool:
        return None
    regular = [c for c in pool if c.lane is Lane.REGULAR]
    if regular and streak >= cap:
        return Choice(min(regular, key=_order), 0)
    best = min(pool, key=_order)
    if best.lane is Lane.REGULAR:
        return Choice(best, 0)
    # A priority call counts toward the cap only while regular tickets are kept waiting.
    return Choice(best, streak + 1 if regular else 0)
