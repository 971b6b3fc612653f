"""Device reports: heartbeats, faults and recoveries of kiosks, displays, evaluators, keypads.

A heartbeat only refreshes when the device was last seen. A fault or a recovery is recorded
in ``device_reports`` and as an event (supervisors are alerted by ``device.fault``), and
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
                "device.fault" if kind == FAULT else "device.recovered",
                at=now,
                hall_day=day,
                actor=f"device:{device}",
                window=window,
                device=device,
                code=code,
                message=message,
            )
