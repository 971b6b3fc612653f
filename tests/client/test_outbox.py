"""The outbox: reports queued on disk while the center is down, delivered once, in order."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import select

from center.auth.roles import Role
from center.clock import ManualClock
from center.db.tables import device_reports, evaluations
from devices.client import CenterClient, Outbox, RetryPolicy
from tests.client.conftest import LiveCenter

FAST = RetryPolicy(attempts=2, base_seconds=0.01, cap_seconds=0.02)


def reports(live: LiveCenter) -> list[str]:
    center = live.open_center()
    try:
        with center.store.read() as conn:
            rows = conn.execute(
                select(device_reports.c.detail).order_by(device_reports.c.id)
            ).scalars()
            return [r["code"] for r in rows]
    finally:
        center.close()


def test_reports_survive_a_restart_and_are_delivered_in_order(
    live: LiveCenter, tmp_path: Path
) -> None:
    """GIVEN the center is down, WHEN a device queues reports and its process restarts,
    THEN the reopened outbox delivers them once the center is back, oldest first."""
    token = live.device("k-tax", Role.KIOSK)
    live.stop()
    client = CenterClient(live.url, token, timeout=1, retry=FAST)
    box = Outbox(tmp_path / "outbox.db", client)
    for code in ("printer.paper_low", "printer.paper_out", "id_reader.offline"):
        box.fault(code, slot=1)
    box.recovery("printer.paper_out")
    assert box.deliver() is False
    assert len(box.pending()) == 4
    box.close()

    live.start()
    box = Outbox(tmp_path / "outbox.db", CenterClient(live.url, token, retry=FAST))
    assert box.deliver() is True
    assert box.pending() == [] and box.dead() == []
    assert reports(live) == [
        "printer.paper_low",
        "printer.paper_out",
        "id_reader.offline",
        "printer.paper_out",
    ]
    box.close()


class LoseFirstReply(httpx.BaseTransport):
    """Forwards every request, but pretends the first POST's reply never arrived."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            self.posts += 1
            if self.posts == 1:
                response.read()
                raise httpx.ReadTimeout("reply lost", request=request)
        return response


def test_a_report_whose_reply_was_lost_is_recorded_once(
    live: LiveCenter, tmp_path: Path, clock: ManualClock
) -> None:
    center = live.center
    assert center is not None
    center.posts.login(1, "1001")
    center.tickets.issue("tax")
    center.calls.call_next(1)
    center.calls.finish(1)  # opens the rating invitation at window 1
    token = live.device("eval-1", Role.EVALUATOR, 1)
    transport = LoseFirstReply()
    client = CenterClient(live.url, token, retry=FAST, transport=transport)
    with Outbox(tmp_path / "outbox.db", client) as box:
        box.rating(1, 5)
        assert box.deliver() is True  # first try: recorded, reply lost; second: replayed
    assert transport.posts == 2
    with center.store.read() as conn:
        rated = conn.execute(select(evaluations.c.status, evaluations.c.level)).all()
    assert [tuple(r) for r in rated] == [("rated", 5)]


def test_a_refused_report_is_set_aside_and_does_not_block_the_rest(
    live: LiveCenter, tmp_path: Path
) -> None:
    token = live.device("eval-2", Role.EVALUATOR, 2)
    with Outbox(tmp_path / "outbox.db", CenterClient(live.url, token, retry=FAST)) as box:
        box.rating(1, 5)  # not its window: 403 would block; use a real refusal instead
        box.put("/api/v1/windows/2/rating", {"level": 9})  # 422: out of range
        box.fault("evaluator.key_stuck")
        assert box.deliver() is False  # the 403 for window 1 waits for a person to fix it
        assert len(box.pending()) == 3
    with Outbox(tmp_path / "outbox2.db", CenterClient(live.url, token, retry=FAST)) as box:
        box.put("/api/v1/windows/2/rating", {"level": 9})
        box.fault("evaluator.key_stuck")
        assert box.deliver() is True
        assert [d[2] for d in box.dead()] == [422]
    assert reports(live) == ["evaluator.key_stuck"]


def test_the_delivery_thread_sends_what_is_queued(live: LiveCenter, tmp_path: Path) -> None:
    token = live.device("k-tax", Role.KIOSK)
    box = Outbox(tmp_path / "outbox.db", CenterClient(live.url, token, retry=FAST))
    box.start()
    box.fault("printer.paper_out")
    deadline = time.monotonic() + 5
    while box.pending() and time.monotonic() < deadline:
        time.sleep(0.02)
    box.close()
    assert reports(live) == ["printer.paper_out"]
