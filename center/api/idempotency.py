"""Idempotent reports: a retried request with the same ``Idempotency-Key`` is done once.

The action and the stored reply are written in one transaction (engine actions join the
open transaction, see ``Store.write``): either both are recorded or neither. A retry finds
the stored reply and gets it back unchanged, with ``Idempotent-Replayed: true``. Two copies
racing each other: the second one's insert of the key fails, its transaction (action
included) rolls back, and it answers with the first one's reply. A key reused for a
different request is refused (422). Keys are scoped per caller (device or staff member).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from center.api.errors import KeyReused
from center.auth.roles import Principal
from center.db.auth_tables import idempotency_keys
from center.engine.store import Store

if TYPE_CHECKING:
    from center.api.deps import Hall


def fingerprint(request: Request, body: BaseModel | None, key: bytes | None) -> str:
    """What makes two requests "the same": method, path and the validated body.

    Bodies can carry an ID number, and ID numbers are few enough to guess: the fingerprint
    kept for days is an HMAC under a key derived from the data key, never a bare hash. (A
    center without a data key refuses personal data, so its bodies carry none.)"""
    text = f"{request.method} {request.url.path}\n"
    if body is not None:
        text += body.model_dump_json()
    data = text.encode("utf-8", "surrogatepass")
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def idempotent(
    hall: Hall,
    who: Principal,
    key: str | None,
    request: Request,
    body: BaseModel | None,
    action: Callable[[], BaseModel],
    status: int = 200,
) -> JSONResponse:
    """Run ``action`` once per idempotency ``key`` of ``who``, fingerprinting the request
    (only when there is a key: without one there is nothing to compare it with)."""
    print_ = "" if key is None else fingerprint(request, body, hall.fingerprint_key)
    return run_once(hall.center.store, who, key, print_, action, status)


def run_once(
    store: Store,
    who: Principal,
    key: str | None,
    print_: str,
    action: Callable[[], BaseModel],
    status: int = 200,
) -> JSONResponse:
    """Run ``action`` unless ``key`` was seen from ``who``; reply with the first result."""
    if key is None:
        return JSONResponse(action().model_dump(mode="json"), status_code=status)
    try:
        return _attempt(store, who, key, print_, action, status)
    except IntegrityError:
        replay = _stored(store, who, key, print_)
        if replay is None:
            raise
        return replay


def _attempt(
    store: Store,
    who: Principal,
    key: str,
    print_: str,
    action: Callable[[], BaseModel],
    status: int,
) -> JSONResponse:
    with store.write() as tx:
        row = tx.conn.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.principal == who.key, idempotency_keys.c.key == key
            )
        ).first()
        if row is not None:
            return _replay(row._mapping, print_)
        body = action().model_dump(mode="json")
        now = dt.datetime.now(dt.UTC)  # wall clock: only used to purge old replies
        tx.conn.execute(
            insert(idempotency_keys).values(
                principal=who.key,
                key=key,
                fingerprint=print_,
                status=status,
                response=body,
                created_at=now,
            )
        )
    return JSONResponse(body, status_code=status)


def _stored(store: Store, who: Principal, key: str, print_: str) -> JSONResponse | None:
    with store.read() as conn:
        row = conn.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.principal == who.key, idempotency_keys.c.key == key
            )
        ).first()
    return _replay(row._mapping, print_) if row is not None else None


def _replay(row: Any, print_: str) -> JSONResponse:
    if row["fingerprint"] != print_:
        raise KeyReused(
            "this Idempotency-Key was already used for a different request: use a new key",
            zh="请求编号重复",
        )
    return JSONResponse(
        row["response"], status_code=row["status"], headers={"Idempotent-Replayed": "true"}
    )


def purge(store: Store, older_than: dt.timedelta) -> int:
    """Forget stored replies older than ``older_than``; returns how many."""
    cutoff = dt.datetime.now(dt.UTC) - older_than
    with store.write() as tx:
        result = tx.conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
        )
    return int(result.rowcount or 0)
