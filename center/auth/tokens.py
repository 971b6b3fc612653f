"""Bearer tokens: random, shown once, stored only as a SHA-256 digest.

A token is ``<prefix>_<43 url-safe characters>`` (32 random bytes): ``hqd_`` for a device,
``hqs_`` for a staff session. The prefix tells an operator what a leaked string is; the
digest is what the database keeps, so a copy of the database grants nothing.
"""

from __future__ import annotations

import hashlib
import secrets

DEVICE_PREFIX = "hqd"
SESSION_PREFIX = "hqs"
MAX_TOKEN_LENGTH = 100


def new_token(prefix: str) -> str:
    """A fresh token with ``prefix``."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """The stored form of ``token``."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def plausible(token: str) -> bool:
    """Cheap shape check before a database lookup (length and prefix)."""
    return 0 < len(token) <= MAX_TOKEN_LENGTH and token[:4] in (
        f"{DEVICE_PREFIX}_",
        f"{SESSION_PREFIX}_",
    )
