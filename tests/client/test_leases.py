"""Kiosk number leases against a real center process that goes down and comes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from center.auth.roles import Role
from center.clock import ManualClock
from center.db.tables import tickets
from devices.client import CenterClient, KioskTickets, LeaseStore, NoLease, RetryPolicy
from tests.client.conftest import LiveCenter

FAST = RetryPolicy(attempts=2, base_seconds=0.01, cap_seconds=0.02)


def kiosk(
    live: LiveCenter, tmp_path: Path, clock: ManualClock, name: str = "k-tax"
) -> KioskTickets:
    client = CenterClient(live.url, live.device(name, Role.KIOSK), timeout=2, retry=FAST)
    store = LeaseStore(tmp_path / f"{name}.db", clock=clock.now)
    return KioskTickets(client, store, ["tax"], lease_size=3, low_water=2)


def test_offline_tickets_are_synced_and_called_in_the_order_they_were_taken(
    live: LiveCenter, tmp_path: Path, clock: ManualClock
) -> None:
    """GIVEN a kiosk holding a lease, WHEN the center goes down, THEN the kiosk keeps
    issuing from the lease; WHEN the center is back, THEN the offline tickets are synced and
    called in take order among tickets issued online, and no number is issued twice."""
    k = kiosk(live, tmp_path, clock)
    shown = [k.issue("tax").number]  # A001 online; takes the lease A002-A004
    assert k.leases.remaining("tax") == 3

    live.stop()
    clock.advance(60)
    offline = [k.issue("tax") for _ in range(2)]
    assert [t.number for t in offline] == ["A002", "A003"]
    assert all(t.offline for t in offline)

    # Back up (a new process on the same database); the other kiosk issues online meanwhile.
    live.start()
    clock.advance(60)
    other = kiosk(live, tmp_path, clock, name="k-other")
    shown.append(other.client.issue_ticket("tax").number)
    assert shown[-1] == "A005"  # the leased A002-A004 are skipped
    clock.advance(60)
    shown.append(k.issue("tax").number)  # syncs A002 and A003 first
    assert k.leases.unsynced() == []

    center = live.center
    assert center is not None
    center.posts.login(1, "1001")
    called = []
    while (t := center.calls.call_next(1)) is not None:
        called.append(t.display)
        center.calls.finish(1)
    assert called == ["A001", "A002", "A003", "A005", "A006"]
    with center.store.read() as conn:
        numbers = conn.execute(select(tickets.c.display)).scalars().all()
    assert len(numbers) == len(set(numbers)) == 5
    k.client.close()
    other.client.close()


def test_leased_numbers_survive_a_kiosk_restart_and_run_out(
    live: LiveCenter, tmp_path: Path, clock: ManualClock
) -> None:
    k = kiosk(live, tmp_path, clock)
    k.refill()
    live.stop()
    first = k.issue("tax")
    k.leases.close()
    k.leases = LeaseStore(tmp_path / "k-tax.db", clock=clock.now)  # the kiosk restarts
    rest = [k.issue("tax").number for _ in range(2)]
    assert [first.number, *rest] == ["A001", "A002", "A003"]
    with pytest.raises(NoLease):
        k.issue("tax")
    assert [t.display for t in k.leases.unsynced()] == ["A001", "A002", "A003"]
    k.client.close()


def test_a_lease_expires_with_its_hall_day(
    live: LiveCenter, tmp_path: Path, clock: ManualClock
) -> None:
    k = kiosk(live, tmp_path, clock)
    k.refill()
    live.stop()
    clock.advance(24 * 3600)  # the next hall day: yesterday's numbers are not valid
    with pytest.raises(NoLease):
        k.issue("tax")
    k.client.close()
