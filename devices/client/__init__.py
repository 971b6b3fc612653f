"""Client of the hall center's HTTP API for kiosks and display controllers (no Qt here).

* :class:`CenterClient` — typed calls with timeouts and retries;
* :class:`Outbox` — reports queued on disk while the center is unreachable;
* :class:`LeaseStore` and :class:`KioskTickets` — offline ticket numbers from leases.
"""

from devices.client.client import CenterClient, RetryPolicy
from devices.client.errors import CenterError, CenterRefused, CenterUnreachable, NotAuthorized
from devices.client.kiosk import KioskTickets
from devices.client.lease import LeaseStore, NoLease
from devices.client.outbox import Outbox

__all__ = [
    "CenterClient",
    "CenterError",
    "CenterRefused",
    "CenterUnreachable",
    "KioskTickets",
    "LeaseStore",
    "NoLease",
    "NotAuthorized",
    "Outbox",
    "RetryPolicy",
]
