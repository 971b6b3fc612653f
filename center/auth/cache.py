"""Recently authenticated tokens, so that a request does not cost a database read.

Every API request carries a bearer token; reading its digest from the database costs a
transaction, which on the hot paths (issue, call next, finish) was as much as the action.
A token checked within the last ``ttl`` seconds is taken as still valid. What that allows:

* A token ended in *this* process (staff log-out, a new log-in, a takeover) is forgotten at
  once (``forget``).
* A token ended elsewhere (another center process, ``hallq device revoke``) keeps working here
  for at most ``ttl`` seconds. Staff actions are also checked against the window's duty roster
  in their own transaction, so a staff member who has logged out or been taken over from
  cannot act at the window even then.
* A staff session past its expiry may be used for at most ``ttl`` seconds more.

Entries are keyed by the token's digest, never the token itself; invalid tokens are not
cached (each costs a read, as before).

An entry lasts a random time between ``(1 - spread) * ttl`` and ``ttl``. With a fixed time,
tokens first checked together (every device reconnecting after a restart, every client of
the load benchmark logging in) would expire together, again and again: every five seconds
all of them at once needed a read, and the queue behind that burst was the latency tail of
the center (p99 of 130-300 ms at 500 requests/s, 6-17 ms without it).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from center.auth.roles import Principal
from center.auth.tokens import token_hash

DEFAULT_TTL_SECONDS = 5.0
DEFAULT_SPREAD = 0.5


class PrincipalCache:
    """Token digest → (principal, valid until), bounded in size and age."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        *,
        max_entries: int = 10_000,
        spread: float = DEFAULT_SPREAD,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if ttl < 0 or max_entries < 1 or not 0 <= spread < 1:
            raise ValueError("ttl must be >= 0, max_entries >= 1 and 0 <= spread < 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self.spread = spread
        self._clock = clock
        self._rng = rng
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        """The principal ``token`` was found to be within ``ttl``, or None."""
        if not self.ttl:
            return None
        entry = self._entries.get(token_hash(token))
        if entry is None:
            return None
        who, until = entry
        if self._clock() >= until:
            return None
        return who

    def put(self, token: str, who: Principal) -> None:
        """Remember that ``token`` authenticates ``who`` (just checked against the database)."""
        if not self.ttl:
            return
        now = self._clock()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
            lasts = self.ttl * (1 - self.spread * self._rng())
            self._entries[token_hash(token)] = (who, now + lasts)

    def forget(self, predicate: Callable[[Principal], bool]) -> int:
        """Drop every entry whose principal matches; returns how many."""
        with self._lock:
            gone = [k for k, (who, _) in self._entries.items() if predicate(who)]
            for k in gone:
                del self._entries[k]
        return len(gone)

    def __len__(self) -> int:
        return len(self._entries)
