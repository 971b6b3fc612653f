"""Personal data at rest: AES-256-GCM encryption and keyed lookup hashes.

Names, ID numbers and phone numbers are stored only encrypted. Each value is bound to its
column through the GCM associated data, so a ciphertext copied into another column does not
decrypt. Lookups (the per-person daily limit, "has this person an appointment") use an
HMAC-SHA256 of the normalised ID number under a key derived from the same master key, so the
database never holds a plain ID number or an unkeyed hash that a dictionary attack could
reverse (ID numbers have little entropy).

The master key is 32 bytes, base64 in the environment (``HALLQ_DATA_KEY``) or a key file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12
_VERSION = b"\x01"


class DataKeyError(ValueError):
    """The data key is missing or malformed."""


def new_key() -> str:
    """A fresh random master key, base64-encoded."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"hallq/" + purpose).derive(master)


class PersonalData:
    """Encrypts, decrypts and hashes personal fields with one master key."""

    def __init__(self, master_key_b64: str) -> None:
        try:
            master = base64.b64decode(master_key_b64.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DataKeyError("the data key is not valid base64") from exc
        if len(master) != 32:
            raise DataKeyError(f"the data key must be 32 bytes, got {len(master)}")
        self._master = master
        self._aead = AESGCM(_derive(master, b"encrypt"))
        self._mac_key = _derive(master, b"lookup")

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` (e.g. "idempotency"), independent of every other."""
        if purpose in ("encrypt", "lookup"):
            raise ValueError(f"{purpose!r} is reserved for personal data itself")
        return _derive(self._master, purpose.encode("utf-8"))

    def encrypt(self, value: str, column: str) -> bytes:
        """Encrypt ``value`` for ``column``; a fresh nonce every time."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, value.encode("utf-8"), column.encode())

    def decrypt(self, blob: bytes, column: str) -> str:
        """Decrypt a value written by :meth:`encrypt` for the same column."""
        if not blob or blob[:1] != _VERSION:
            raise ValueError("not a hallq ciphertext")
        nonce, ct = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        return self._aead.decrypt(nonce, ct, column.encode()).decode("utf-8")

    def lookup_hash(self, id_number: str) -> str:
        """Keyed hash of a normalised ID number, for lookups without decrypting."""
        norm = id_number.strip().upper().encode("ascii", "ignore")
        return hmac.new(self._mac_key, norm, hashlib.sha256).hexdigest()


def load_key(env_name: str = "HALLQ_DATA_KEY", key_file: Path | None = None) -> str:
    """The master key from the environment, else from ``key_file``; raises if neither has one."""
    value = os.environ.get(env_name)
    if value:
        return value
    if key_file is not None and key_file.exists():
        return key_file.read_text(encoding="ascii").strip()
    where = f"${env_name}" + (f" or {key_file}" if key_file else "")
    raise DataKeyError(f"no data key: set {where} (make one with `hallq keygen`)")


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明: what screens, tickets and logs show."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(id_number: str) -> str:
    """11010519491231002X → 1101**********002X (first 4 and last 4 shown)."""
    s = id_number.strip()
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678."""
    s = phone.strip()
    if len(s) < 7:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]
