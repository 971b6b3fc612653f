"""Masking personal data for screens, tickets and logs (devices/ may not import center/).

Same rules as the center's ``center.pii``: 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明;
11010519491231002X → 1101**********002X. Addresses keep their first six characters (the
province and city, usually); birth dates keep the year.
"""

from __future__ import annotations

import hashlib


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明."""
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


def mask_address(address: str, keep: int = 6) -> str:
    """北京市东城区东华门街道… → 北京市东城区****."""
    s = address.strip()
    if not s:
        return ""
    return s[: min(keep, len(s) // 2)] + "****"


def mask_date(iso_date: str) -> str:
    """1949-12-31 → 1949-**-** (the year only)."""
    return iso_date[:4] + "-**-**" if len(iso_date) >= 4 else "*" * len(iso_date)


def fingerprint(value: str | bytes, length: int = 12) -> str:
    """A short SHA-256 of ``value`` to tell records apart in logs without showing them."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:length]
