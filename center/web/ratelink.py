"""Rating links: the QR code on a ticket opens ``/rate/#t=<token>``, and the token says which
visit it rates.

The token is opaque and unguessable: AES-256-GCM over the ticket's id and the last hall day the
link may be used, under a key only the center knows. The GCM tag authenticates it like an HMAC
would (a forged or altered token fails), and the encryption hides the ticket id, so the token
tells a reader nothing (no personal data, no ticket id, no sequence). It travels in the URL's
fragment, which browsers never send to the server, and reaches the center only in a POST body.

The key, in order of preference: ``$HALLQ_RATING_KEY`` (32 bytes, base64, e.g. from
``hallq keygen``); else derived from the hall's personal-data key (so every center process of
the hall agrees without more configuration); else a random key of this process, with a warning:
links then stop working when the center restarts.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import os
import re
import secrets
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from center.pii import PersonalData

log = logging.getLogger(__name__)

KEY_ENV = "HALLQ_RATING_KEY"
LINK_DAYS = 7
"""A link may be used on the ticket's hall day and this many calendar days after it."""
PAGE_PATH = "/rate/"

_VERSION = 1
_NONCE = 12
_PAYLOAD = struct.Struct(">QI")  # ticket id, last valid day (proleptic ordinal)
_AAD = b"hallq/rating-link/v1"
TOKEN_LENGTH = len(base64.urlsafe_b64encode(bytes(1 + _NONCE + _PAYLOAD.size + 16)).rstrip(b"="))
"""Every token has exactly this many characters (55)."""
_SHAPE = re.compile(f"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


class BadLink(ValueError):
    """The token is malformed, forged, of another key, or expired."""


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What a valid token rates."""

    ticket_id: int
    valid_until: dt.date


class RatingLinks:
    """Mints and checks rating tokens with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a rating-link key is 32 bytes")
        self._aead = AESGCM(key)

    def mint(self, ticket_id: int, hall_day: dt.date, days: int = LINK_DAYS) -> str:
        """A token for ticket ``ticket_id`` of ``hall_day``, valid ``days`` days after it."""
        until = hall_day + dt.timedelta(days=days)
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead.encrypt(nonce, _PAYLOAD.pack(ticket_id, until.toordinal()), _AAD)
        raw = bytes([_VERSION]) + nonce + sealed
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def open(self, token: str, today: dt.date) -> LinkTarget:
        """The visit ``token`` rates; raises :class:`BadLink` (expired ones included)."""
        if _SHAPE.fullmatch(token) is None:
            raise BadLink("not a rating token")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
            raise BadLink("not a rating token")  # unused low bits set: not one we minted
        if raw[0] != _VERSION:
            raise BadLink("unknown rating token version")
        nonce, sealed = raw[1 : 1 + _NONCE], raw[1 + _NONCE :]
        try:
            plain = self._aead.decrypt(nonce, sealed, _AAD)
        except InvalidTag:
            raise BadLink("the rating token is not one of this hall's") from None
        ticket_id, until = _PAYLOAD.unpack(plain)
        valid_until = dt.date.fromordinal(until)
        if today > valid_until:
            raise BadLink("the rating link has expired")
        return LinkTarget(ticket_id, valid_until)


def page_path(token: str) -> str:
    """The path (with fragment) the ticket's QR code points to, below the center's address."""
    return f"{PAGE_PATH}#t={token}"


_PURPOSE = "HALLQ-RATING-LINK-KEY-V1"
_fallback_lock = threading.Lock()
_fallback: bytes | None = None


def _hkdf(material: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"hallq/rating-link").derive(
        material
    )


def link_key(pii: PersonalData | None, env: Mapping[str, str] | None = None) -> bytes:
    """The rating-link key of this center (see the module's docstring for the order)."""
    env = os.environ if env is None else env
    given = env.get(KEY_ENV, "").strip()
    if given:
        try:
            key = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"${KEY_ENV} is not valid base64") from None
        if len(key) != 32:
            raise ValueError(f"${KEY_ENV} must be 32 bytes, got {len(key)}")
        return key
    if pii is not None:
        # A keyed hash of a fixed label under the data key's lookup key: a secret that only
        # holders of the data key can compute, and never equal to a stored lookup hash (those
        # hash ID numbers, which are digits).
        return _hkdf(pii.lookup_hash(_PURPOSE).encode("ascii"))
    global _fallback
    with _fallback_lock:
        if _fallback is None:
            log.warning(
                "no $%s and no data key: rating links use a key of this process only and "
                "stop working when the center restarts",
                KEY_ENV,
            )
            _fallback = secrets.token_bytes(32)
        return _fallback
