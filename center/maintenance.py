"""The running center's periodic work, in one background thread.

Every few seconds: rating invitations past their time become 未评价 with a follow-up, tickets
an ended hall day left behind are cancelled, and provisional deadlines are recomputed once
the calendar knows their year. Failures are logged and retried next round: a database that
is briefly away must not stop the center.
"""

from __future__ import annotations

import logging
import threading

from center.engine.center import Center

log = logging.getLogger(__name__)

INTERVAL = 5.0


class Maintainer:
    """Runs ``Center.maintain`` every ``interval`` seconds until stopped."""

    def __init__(self, center: Center, interval: float = INTERVAL) -> None:
        self.center = center
        self.interval = interval
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hallq-maintenance", daemon=True)

    def start(self) -> Maintainer:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the current round (a no-op if never started)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                done = self.center.maintain()
                self.rounds += 1
                if any(done.values()):
                    log.info("maintenance: %s", done)
            except Exception:
                log.exception("maintenance round failed; retrying in %.0f s", self.interval)
