"""Device registry: each kiosk, display, evaluator and keypad has its own bearer token.

``hallq device add`` creates the token and prints it once; the database keeps its digest.
Evaluators and keypads belong to one window and act only for it; a kiosk or display has
none (a display may name the window whose strip it drives).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, insert, select, update

from center.auth.roles import DEVICE_ROLES, WINDOW_DEVICES, Principal, Role
from center.auth.tokens import DEVICE_PREFIX, new_token, token_hash
from center.clock import Clock
from center.db.auth_tables import devices
from center.engine.store import Store
from center.errors import InvalidState, NotFound, Refused

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device (never its token)."""

    name: str
    kind: Role
    window: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_seen_at: dt.datetime | None
    state: str | None

    @property
    def principal(self) -> Principal:
        """The caller this device is when it presents its token."""
        return Principal(self.kind, self.name, self.window)


def _device(row: Row[Any]) -> Device:
    r = row._mapping
    return Device(
        r["name"],
        Role(r["kind"]),
        r["window"],
        r["created_at"],
        r["revoked_at"],
        r["last_seen_at"],
        r["state"],
    )


class DeviceRegistry:
    """Adds, lists, revokes and authenticates devices."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        windows: frozenset[int] | None = None,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.windows = windows
        """The hall's window numbers, when known, to refuse a device for a window that does not exist."""
        self.on_change = on_change
        """Called with a device's name after its token was replaced or revoked here."""

    def _check(self, name: str, kind: Role, window: int | None) -> None:
        if not NAME.match(name):
            raise Refused(
                f"device name {name!r} must be 1-64 letters, digits, '.', '_' or '-'",
                zh="设备名称格式有误",
            )
        if kind not in DEVICE_ROLES:
            raise Refused(f"{kind} is not a device kind: use kiosk, display, evaluator or keypad")
        if kind in WINDOW_DEVICES and window is None:
            raise Refused(f"a {kind} belongs to one window: give its window number")
        if kind is Role.KIOSK and window is not None:
            raise Refused("a kiosk serves the whole hall: give no window")
        if window is not None and self.windows is not None and window not in self.windows:
            raise NotFound(f"unknown window {window}", zh=f"没有{window}号窗口")

    def add(self, name: str, kind: Role, window: int | None = None, *, rotate: bool = False) -> str:
        """Register ``name`` (or re-enrol a revoked one) and return its new token, once.

        With ``rotate`` an active device gets a new token and the old one stops working."""
        self._check(name, kind, window)
        token = new_token(DEVICE_PREFIX)
        now = self.clock.now()
        values = {
            "kind": kind.value,
            "window": window,
            "token_hash": token_hash(token),
            "revoked_at": None,
            "state": None,
        }
        with self.store.write() as tx:
            row = tx.conn.execute(
                select(devices.c.id, devices.c.revoked_at)
                .where(devices.c.name == name)
                .with_for_update()
            ).first()
            if row is None:
                tx.conn.execute(insert(devices).values(name=name, created_at=now, **values))
            elif row.revoked_at is None and not rotate:
                raise InvalidState(
                    f"device {name!r} already exists: revoke it first, or rotate its token"
                )
            else:
                tx.conn.execute(update(devices).where(devices.c.id == row.id).values(values))
        if row is not None and self.on_change is not None:
            self.on_change(name)
        return token

    def revoke(self, name: str) -> None:
        """Stop accepting ``name``'s token."""
        with self.store.write() as tx:
            done = tx.conn.execute(
                update(devices)
                .where(devices.c.name == name, devices.c.revoked_at.is_(None))
                .values(revoked_at=self.clock.now())
            ).rowcount
        if not done:
            raise NotFound(f"no active device named {name!r}")
        if self.on_change is not None:
            self.on_change(name)

    def list(self) -> list[Device]:
        """Every registered device, revoked ones included, by name."""
        with self.store.read() as conn:
            rows = conn.execute(select(devices).order_by(devices.c.name)).all()
        return [_device(r) for r in rows]

    def get(self, name: str) -> Device | None:
        """The device called ``name``, if registered."""
        with self.store.read() as conn:
            row = conn.execute(select(devices).where(devices.c.name == name)).first()
        return _device(row) if row is not None else None

    def authenticate(self, token: str) -> Principal | None:
        """The device whose token this is, unless unknown or revoked."""
        with self.store.read() as conn:
            row = conn.execute(
                select(devices).where(
                    devices.c.token_hash == token_hash(token), devices.c.revoked_at.is_(None)
                )
            ).first()
        return _device(row).principal if row is not None else None
