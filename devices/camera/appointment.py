"""Appointment codes signed by the center, checked at the kiosk before it calls the center.

Format (what the appointment QR code holds; ASCII, at most 1024 characters):

    hallq1.<payload>.<signature>

``payload`` is base64url without padding of compact JSON (keys sorted)::

    {"code": "…", "service": "…", "start": ISO-8601, "end": ISO-8601,
     "issued": ISO-8601, "exp": ISO-8601}

``signature`` is base64url of HMAC-SHA256 over the ASCII bytes ``hallq1.<payload>`` with the
center's key. Datetimes carry their UTC offset. ``exp`` is when the code stops being
accepted; the center sets it (for example the end of the slot's hall day, since a late
arrival is still served that day as a walk-in); without it the code expires at ``end``.

What this module decides: a code that is not hallq's, forged or tampered with (bad
signature), or expired. What it cannot decide: a code used twice. Reuse is refused by the
center, whose check-in accepts an appointment only while it is still *booked*.

Pure: no clock (``now`` is passed in), no I/O. The center imports ``sign``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

PREFIX = "hallq1"
MAX_LENGTH = 1024
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


class AppointmentCodeError(ValueError):
    """A scanned code that cannot be checked in; ``citizen_message`` is for the screen."""

    citizen_message = "预约码无法使用，请到咨询台办理"

    def __init__(self, message: str, citizen_message: str | None = None) -> None:
        super().__init__(message)
        if citizen_message is not None:
            self.citizen_message = citizen_message


class NotAnAppointmentCode(AppointmentCodeError):
    """Some other QR code (a payment code, a web link…)."""

    citizen_message = "这不是本中心的预约码，请出示预约成功后收到的二维码"


class ForgedCode(AppointmentCodeError):
    """The signature does not match: forged, tampered with, or signed with another key."""

    citizen_message = "预约码校验失败，请到咨询台核实预约信息"


class ExpiredCode(AppointmentCodeError):
    """A genuine code whose time has passed."""

    citizen_message = "预约时段已过，请现场取号或重新预约"


@dataclass(frozen=True)
class AppointmentToken:
    """What an appointment code says (the center's appointment, for check-in)."""

    code: str
    service: str
    slot_start: dt.datetime
    slot_end: dt.datetime
    issued_at: dt.datetime
    expires_at: dt.datetime | None = None
    """None: the code expires at ``slot_end``."""

    @property
    def expiry(self) -> dt.datetime:
        """When the code stops being accepted."""
        return self.expires_at or self.slot_end


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64URL.match(text):
        raise binascii.Error("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aware(name: str, value: dt.datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.isoformat()


def _mac(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()


def sign(token: AppointmentToken, key: bytes) -> str:
    """The appointment code for ``token`` (what goes into the QR code)."""
    if len(key) < 16:
        raise ValueError("the signing key must be at least 16 bytes")
    body = {
        "code": token.code,
        "service": token.service,
        "start": _aware("slot_start", token.slot_start),
        "end": _aware("slot_end", token.slot_end),
        "issued": _aware("issued_at", token.issued_at),
    }
    if token.slot_end <= token.slot_start:
        raise ValueError("an appointment slot must end after it starts")
    if token.expires_at is not None:
        body["exp"] = _aware("expires_at", token.expires_at)
    payload = _b64encode(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    signed = f"{PREFIX}.{payload}"
    code = f"{signed}.{_b64encode(_mac(key, signed))}"
    if len(code) > MAX_LENGTH:
        raise ValueError(f"appointment code too long ({len(code)} > {MAX_LENGTH} characters)")
    return code


def _parse_payload(payload: bytes) -> AppointmentToken:
    try:
        body = json.loads(payload.decode("utf-8"))
        expires = body.get("exp")
        token = AppointmentToken(
            code=str(body["code"]),
            service=str(body["service"]),
            slot_start=dt.datetime.fromisoformat(body["start"]),
            slot_end=dt.datetime.fromisoformat(body["end"]),
            issued_at=dt.datetime.fromisoformat(body["issued"]),
            expires_at=dt.datetime.fromisoformat(expires) if expires is not None else None,
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # Signed by a key we hold, yet unreadable: a signer of another version.
        raise AppointmentCodeError(f"appointment code payload unreadable: {exc}") from exc
    for name in ("slot_start", "slot_end", "issued_at", "expires_at"):
        value = getattr(token, name)
        if value is not None and value.tzinfo is None:
            raise AppointmentCodeError(f"appointment code {name} has no UTC offset")
    return token


def verify(token: str, keys: bytes | Sequence[bytes], now: dt.datetime) -> AppointmentToken:
    """The appointment in ``token`` if genuine and not expired at ``now``.

    ``keys`` is the center's key, or several during a key change (any one may match).
    Raises ``NotAnAppointmentCode``, ``ForgedCode`` or ``ExpiredCode``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    text = token.strip()
    if len(text) > MAX_LENGTH or not text.startswith(PREFIX + "."):
        raise NotAnAppointmentCode("not a hallq appointment code")
    parts = text.split(".")
    if len(parts) != 3:
        raise ForgedCode("malformed appointment code: expected hallq1.<payload>.<signature>")
    _, payload_text, signature_text = parts
    try:
        signature = _b64decode(signature_text)
        payload = _b64decode(payload_text)
    except (binascii.Error, ValueError):
        raise ForgedCode("malformed appointment code: not base64url") from None
    signed = f"{PREFIX}.{payload_text}"
    candidates = [keys] if isinstance(keys, bytes) else list(keys)
    if not candidates:
        raise ValueError("no verification key given")
    if not any(hmac.compare_digest(_mac(key, signed), signature) for key in candidates):
        raise ForgedCode("appointment code signature does not match (forged or altered)")
    appointment = _parse_payload(payload)
    if now >= appointment.expiry:
        raise ExpiredCode(f"appointment code expired at {appointment.expiry.isoformat()}")
    return appointment
