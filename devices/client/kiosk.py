"""Issuing tickets at a kiosk, online when the center answers and from leases when it does not.

``KioskTickets.issue`` first sends any tickets issued offline (so the center's queue is
complete), then asks the center for a ticket; if the center is unreachable it issues the
next leased number instead. ``refill`` keeps a small lease per service while online.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from devices.client.client import CenterClient, Person
from devices.client.errors import CenterRefused, CenterUnreachable
from devices.client.lease import LeaseStore, OfflineIssued
from devices.client.models import Ticket

log = logging.getLogger(__name__)

SYNC_BATCH = 50


class KioskTickets:
    """One kiosk's ticket issuing with an offline fallback."""

    def __init__(
        self,
        client: CenterClient,
        leases: LeaseStore,
        services: Sequence[str],
        *,
        lease_size: int = 5,
        low_water: int = 2,
    ) -> None:
        self.client = client
        self.leases = leases
        self.services = list(services)
        self.lease_size = lease_size
        self.low_water = low_water
        self._names: dict[str, str] = {}

    def refill(self) -> None:
        """Top up the lease of each service that runs low (needs the center)."""
        for service in self.services:
            if self.leases.remaining(service) >= self.low_water:
                continue
            try:
                self.leases.add(self.client.take_lease(service, self.lease_size))
            except CenterRefused as exc:  # e.g. a service that needs an ID card
                log.info("no lease for %s: %s", service, exc.message)

    def sync(self) -> int:
        """Send tickets issued offline, oldest first; returns how many the center recorded."""
        pending = self.leases.unsynced()
        done = 0
        for start in range(0, len(pending), SYNC_BATCH):
            batch = pending[start : start + SYNC_BATCH]
            try:
                self.client.sync_offline([t.body() for t in batch])
            except CenterRefused:
                done += self._sync_one_by_one(batch)
                continue
            self.leases.mark([t.id for t in batch], "synced")
            done += len(batch)
        return done

    def _sync_one_by_one(self, batch: list[OfflineIssued]) -> int:
        done = 0
        for ticket in batch:
            try:
                self.client.sync_offline([ticket.body()])
            except CenterRefused as exc:
                log.warning("center refused offline ticket %s: %s", ticket.display, exc.message)
                self.leases.mark([ticket.id], "rejected", exc.message)
                continue
            self.leases.mark([ticket.id], "synced")
            done += 1
        return done

    def issue(
        self, service: str, *, priority_class: str | None = None, person: Person | None = None
    ) -> Ticket:
        """A ticket for ``service``: from the center, or from a lease while it is unreachable.

        Raises CenterRefused when the center says no, NoLease when offline without numbers
        left, and CenterUnreachable when offline for a service that needs an ID check."""
        try:
            if self.leases.unsynced():
                self.sync()
            ticket = self.client.issue_ticket(service, priority_class=priority_class, person=person)
        except CenterUnreachable:
            if person is not None:
                raise  # identity checks need the center
            return self._offline(service, priority_class)
        self._names[service] = ticket.service_name
        try:
            self.refill()
        except CenterUnreachable:
            log.info("could not refill leases: center unreachable")
        return ticket

    def _offline(self, service: str, priority_class: str | None) -> Ticket:
        issued = self.leases.issue(service, priority_class)
        log.info("issued %s offline from a lease", issued.display)
        return Ticket(
            issued.display,
            service,
            self._names.get(service, service),
            issued.issued_at,
            None,
            None,
            offline=True,
        )
