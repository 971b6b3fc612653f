"""Resident ID numbers (公民身份号码, GB 11643-1999): format and MOD 11-2 check digit.

Eighteen characters: 6-digit address code, 8-digit birth date (YYYYMMDD), 3-digit order
code (odd for men, even for women), and a check character. The check character follows
ISO 7064 MOD 11-2: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 on the first 17 digits,
the weighted sum mod 11 indexes "10X98765432".

Messages here never contain the number itself: it is personal information.
"""

from __future__ import annotations

import datetime as dt

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
LENGTH = 18


class IdNumberError(ValueError):
    """The ID number is malformed or its check character is wrong (the number is not shown)."""


def check_char(first17: str) -> str:
    """The check character for the first 17 digits."""
    if len(first17) != LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise IdNumberError("an ID number starts with 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalise(id_number: str) -> str:
    """Strip spaces and upper-case a trailing x."""
    return id_number.strip().upper()


def validate(id_number: str) -> str:
    """Return the normalised number, or raise ``IdNumberError`` (format, date or check)."""
    s = normalise(id_number)
    if len(s) != LENGTH:
        raise IdNumberError(f"an ID number has {LENGTH} characters, this one has {len(s)}")
    if not s[:17].isascii() or not s[:17].isdigit() or s[17] not in "0123456789X":
        raise IdNumberError("an ID number is 17 digits and a digit or X")
    if check_char(s[:17]) != s[17]:
        raise IdNumberError("the ID number's check character is wrong")
    birth_date(s)
    return s


def is_valid(id_number: str) -> bool:
    """True if ``id_number`` is well-formed with a correct check character."""
    try:
        validate(id_number)
    except IdNumberError:
        return False
    return True


def birth_date(id_number: str) -> dt.date:
    """The birth date written in characters 7–14."""
    s = normalise(id_number)
    try:
        return dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise IdNumberError("the ID number holds no valid birth date") from None


def is_male(id_number: str) -> bool:
    """The order code (characters 15–17) is odd for men."""
    return int(normalise(id_number)[16]) % 2 == 1
