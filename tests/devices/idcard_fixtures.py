"""Shared helpers of the ID card tests: literal fixtures and a fast reader timing."""

from __future__ import annotations

from pathlib import Path

from devices.idcard.decode import parse_hex
from devices.idcard.driver import ReaderTiming

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "idcard"

FAST = ReaderTiming(poll_interval_s=0.02, reply_scale=0.2, link_retries=2, read_attempts=3)
"""Reply timeouts a fifth of the real ones: find ≈ 0.16 s, read ≈ 0.67 s."""


def public_frames() -> dict[str, bytes]:
    """name → bytes of every line of ``public_frames.txt``."""
    out: dict[str, bytes] = {}
    for line in (FIXTURES / "public_frames.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, hex_text, _source = (part.strip() for part in line.split("|"))
        out[name] = parse_hex(hex_text)
    return out


def fixture_bytes(name: str) -> bytes:
    """The bytes of a ``.hex`` fixture."""
    return parse_hex((FIXTURES / name).read_text(encoding="ascii"))
