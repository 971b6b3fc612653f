"""Device reports: heartbeats, faults and recoveries of kiosks, displays, evaluators, keypads.

A heartbeat only refreshes when the device was last seen. A fault or a recovery is recorded
in ``device_reports`` and as an event (``device.fault``, or ``device.offline`` when the
device went silent; supervisors are alerted by both), and
sets the device's current state, so the hall view shows which devices are down.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, update

from center.db.auth_tables import devices
from center.db.tables import device_reports
from center.engine.context import Context

FAULT = "fault"
RECOVERY = "recovery"


def _event_kind(kind: str, code: str) -> str:
    """``device.offline`` for a fault whose code says the device went silent (the display
    controller's ``bus.device_offline``), else ``device.fault``; ``device.recovered`` back."""
    if kind == RECOVERY:
        return "device.recovered"
    return "device.offline" if code.endswith("offline") else "device.fault"


class DeviceReports:
    """Records what devices report about themselves."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def heartbeat(self, device: str) -> None:
        """``device`` is alive."""
        now, _, _ = self.ctx.now()
        with self.ctx.store.write() as tx:
            tx.conn.execute(
                update(devices).where(devices.c.name == device).values(last_seen_at=now)
            )

    def report(
        self,
        device: str,
        window: int | None,
        kind: str,
        code: str,
        message: str | None,
        detail: dict[str, Any],
    ) -> None:
        """Record a fault (``kind="fault"``) or a recovery of ``device``."""
        if kind not in (FAULT, RECOVERY):
            raise ValueError(f"not a device report kind: {kind}")
        now, day, _ = self.ctx.now()
        body = {"code": code, "message": message, "detail": detail}
        with self.ctx.store.write() as tx:
            tx.conn.execute(
                insert(device_reports).values(device=device, kind=kind, detail=body, at=now)
            )
            tx.conn.execute(
                update(devices)
                .where(devices.c.name == device)
                .values(last_seen_at=now, state="fault" if kind == FAULT else "ok")
            )
            tx.emit(
                _event_kind(kind, code),
                at=now,
                hall_day=day,
                actor=f"device:{device}",
                window=window,
                device=device,
                code=code,
                message=message,
            )
