"""Staff log-in with staff number (工号) + PIN, throttling, and session tokens.

PINs are checked against the argon2 hashes in the hall config. Wrong PINs are counted per
staff number in the database, so every center process sees the same count: from the
``delay_after``-th failure on, each further try must wait a doubling delay; at ``lock_after``
failures the account is locked for ``lock_minutes``. A correct PIN clears the count. While a
try must wait, the PIN is not even checked, so waiting cannot be skipped by guessing faster.

A successful log-in issues a session token bound to the staff member and (for window work)
one window; only its digest is stored, with an expiry. Logging in again ends the staff
member's earlier sessions.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from center.auth.errors import TooManyAttempts, Unauthenticated
from center.auth.roles import Principal, Role
from center.auth.tokens import SESSION_PREFIX, new_token, token_hash
from center.clock import Clock
from center.db.auth_tables import pin_attempts, staff_sessions
from center.engine.store import Store, Tx
from config.schema import HallConfig, Staff

log = logging.getLogger(__name__)


@cache
def _dummy_hash() -> str:
    """Verified against when the staff number is unknown, so both cases take about as long."""
    return PasswordHasher().hash("not a pin")


@dataclass(frozen=True, slots=True)
class PinPolicy:
    """How wrong PINs are slowed down and locked out."""

    delay_after: int = 3
    base_delay_seconds: float = 2.0
    lock_after: int = 5
    lock_minutes: int = 15
    session_hours: float = 12.0


class StaffAuth:
    """Checks PINs, throttles failures and issues staff sessions."""

    def __init__(
        self, cfg: HallConfig, store: Store, clock: Clock, policy: PinPolicy | None = None
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.clock = clock
        self.policy = policy or PinPolicy()
        self._hasher = PasswordHasher()

    # --- PIN checks ---------------------------------------------------------------------

    def verify(self, staff_number: str, pin: str) -> Staff:
        """The staff member whose PIN this is; raises Unauthenticated or TooManyAttempts."""
        now = self.clock.now()
        staff = self.cfg.staff_by_number.get(staff_number)
        if staff is None:
            self._pin_matches(_dummy_hash(), pin)
            raise Unauthenticated("wrong staff number or PIN", zh="工号或密码错误")
        self._check_allowed(staff.number, now)
        if not self._pin_matches(staff.pin_hash, pin):
            self._record_failure(staff.number, now)
            raise Unauthenticated("wrong staff number or PIN", zh="工号或密码错误")
        with self.store.write() as tx:
            tx.conn.execute(delete(pin_attempts).where(pin_attempts.c.staff == staff.number))
        return staff

    def _pin_matches(self, pin_hash: str, pin: str) -> bool:
        try:
            return bool(self._hasher.verify(pin_hash, pin))
        except (VerificationError, InvalidHashError):
            return False

    def _check_allowed(self, number: str, now: dt.datetime) -> None:
        with self.store.read() as conn:
            row = conn.execute(select(pin_attempts).where(pin_attempts.c.staff == number)).first()
        if row is None:
            return
        if row.locked_until is not None and now < row.locked_until:
            wait = _seconds(row.locked_until - now)
            raise TooManyAttempts(
                f"too many wrong PINs: staff {number} is locked for {wait} more seconds",
                retry_after=wait,
                zh=f"密码错误次数过多，账号已锁定，请{_minutes(wait)}分钟后再试",
            )
        p = self.policy
        if row.failures >= p.delay_after:
            delay = dt.timedelta(seconds=p.base_delay_seconds * 2 ** (row.failures - p.delay_after))
            ready = row.last_failure_at + delay
            if now < ready:
                wait = _seconds(ready - now)
                raise TooManyAttempts(
                    f"wrong PIN {row.failures} times: wait {wait} seconds before the next try",
                    retry_after=wait,
                    zh=f"密码错误次数过多，请{wait}秒后再试",
                )

    def _record_failure(self, number: str, now: dt.datetime) -> None:
        p = self.policy
        with self.store.write() as tx:
            row = tx.conn.execute(
                select(pin_attempts).where(pin_attempts.c.staff == number).with_for_update()
            ).first()
            failures = (row.failures if row is not None else 0) + 1
            locked_until = None
            if failures >= p.lock_after:
                locked_until = now + dt.timedelta(minutes=p.lock_minutes)
                failures = 0
            values = {"failures": failures, "last_failure_at": now, "locked_until": locked_until}
            if row is None:
                tx.conn.execute(insert(pin_attempts).values(staff=number, **values))
            else:
                tx.conn.execute(
                    update(pin_attempts).where(pin_attempts.c.staff == number).values(values)
                )
        if locked_until is not None:
            log.warning("staff %s locked until %s after wrong PINs", number, locked_until)

    # --- sessions -----------------------------------------------------------------------

    def open_session(self, tx: Tx, staff: Staff, window: int | None) -> tuple[str, dt.datetime]:
        """End ``staff``'s other sessions and start one bound to ``window``.

        Returns the session's token (shown this once) and when the session expires."""
        now = self.clock.now()
        expires_at = now + dt.timedelta(hours=self.policy.session_hours)
        self.end_sessions(tx, staff=staff.number)
        token = new_token(SESSION_PREFIX)
        tx.conn.execute(
            insert(staff_sessions).values(
                token_hash=token_hash(token),
                staff=staff.number,
                role=staff.role,
                window=window,
                created_at=now,
                expires_at=expires_at,
            )
        )
        return token, expires_at

    def end_sessions(
        self,
        tx: Tx,
        *,
        staff: str | None = None,
        window: int | None = None,
        session_id: int | None = None,
    ) -> None:
        """End the open sessions of a staff member, at a window, or one session."""
        stmt = update(staff_sessions).where(staff_sessions.c.ended_at.is_(None))
        if staff is not None:
            stmt = stmt.where(staff_sessions.c.staff == staff)
        if window is not None:
            stmt = stmt.where(staff_sessions.c.window == window)
        if session_id is not None:
            stmt = stmt.where(staff_sessions.c.id == session_id)
        tx.conn.execute(stmt.values(ended_at=self.clock.now()))

    def authenticate(self, token: str) -> Principal | None:
        """The staff session this token opens, unless unknown, ended or expired."""
        with self.store.read() as conn:
            row = conn.execute(
                select(staff_sessions).where(
                    staff_sessions.c.token_hash == token_hash(token),
                    staff_sessions.c.ended_at.is_(None),
                )
            ).first()
        if row is None or row.expires_at <= self.clock.now():
            return None
        staff = self.cfg.staff_by_number.get(row.staff)
        if staff is None:
            return None  # removed from the hall's config since logging in
        return Principal(Role(staff.role), staff.number, row.window, row.id, row.expires_at)


def _seconds(delta: dt.timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def _minutes(seconds: int) -> int:
    return max(1, (seconds + 59) // 60)
