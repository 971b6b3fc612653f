"""What can go wrong reading a resident ID card, each with a prompt for the citizen.

Every error has ``prompt`` (Chinese, for the kiosk screen) and an English ``str()`` for
logs and staff. Neither ever contains a name, an ID number or an address.
"""

from __future__ import annotations

import datetime as dt


class IdCardError(Exception):
    """Base of the ID card reader's errors."""

    prompt = "读取身份证失败，请重试"
    retryable = True
    """True if the citizen can fix it (place the card again); False if staff must."""


class NoCard(IdCardError):
    """No card was found within the time allowed."""

    prompt = "请将身份证放在读卡区"


class CardRemoved(IdCardError):
    """The card left the reader's field during find → select → read."""

    prompt = "读卡时身份证被移开，请重新放好并保持不动"


class ReaderTimeout(IdCardError):
    """The SAM did not answer, even after bounded retries."""

    prompt = "身份证阅读器无响应，请稍候重试或联系工作人员"
    retryable = False


class BadChecksum(IdCardError):
    """Replies kept failing their checksum, or the card's ID number fails its check digit."""

    prompt = "读卡数据校验失败，请重新放置身份证"

    def __init__(self, message: str, field: str = "frame") -> None:
        super().__init__(message)
        self.field = field
        """"frame" (the XOR checksum) or "id_number" (GB 11643 check character)."""


class CardExpired(IdCardError):
    """The card's validity ended before today."""

    def __init__(self, expiry: dt.date) -> None:
        super().__init__(f"the card expired on {expiry.isoformat()}")
        self.expiry = expiry
        self.prompt = f"身份证已于{expiry.year}年{expiry.month}月{expiry.day}日过期，请使用有效证件"


class UnsupportedCard(IdCardError):
    """Another kind of card (residence permit, foreigner's card) or unreadable contents."""

    prompt = "暂不支持此类证件，请使用居民身份证或到窗口办理"

    def __init__(self, message: str, card_type: str = "") -> None:
        super().__init__(message)
        self.card_type = card_type


class ReaderFault(IdCardError):
    """The reader is unusable: port missing or lost, SAM self-test or authorisation failed."""

    prompt = "身份证阅读器故障，请联系工作人员"
    retryable = False

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
