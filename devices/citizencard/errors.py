"""Citizen card (PC/SC) errors, each with a prompt for the citizen and no personal data."""

from __future__ import annotations


class CitizenCardError(Exception):
    """Base of the citizen card reader's errors."""

    prompt = "读卡失败，请重新插卡"


class PcscUnavailable(CitizenCardError):
    """pyscard is not installed, or the PC/SC daemon (pcscd) does not answer."""

    prompt = "读卡器服务不可用，请联系工作人员"


class NoReader(CitizenCardError):
    """No PC/SC reader is attached (or none matches the configured name)."""

    prompt = "未检测到读卡器，请联系工作人员"


class CardError(CitizenCardError):
    """The card was removed, did not answer, or refused an APDU."""

    prompt = "读卡失败，请重新插卡"

    def __init__(self, message: str, sw: int | None = None) -> None:
        super().__init__(message)
        self.sw = sw
        """SW1 SW2 of the refused APDU, when a card answered."""
