"""Incremental frame parsing with resynchronisation, shared by the byte protocols.

A parser is fed bytes as they arrive and returns the frames and parse errors they complete;
it never raises. Bytes that cannot start a frame are skipped and reported once, as one
``ParseError`` per run of junk. A protocol says only three things (Klipper's
``check_packet`` split): how many leading bytes come before the next possible frame start,
whether the buffer holds a whole good frame (need more / skip a byte / its length), and how
to build the frame from its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

F = TypeVar("F")


@dataclass(frozen=True)
class ParseError:
    """A parse event (not an exception): ``data`` was skipped for ``reason``."""

    reason: str
    data: bytes


class ResyncParser(Generic[F]):
    """``feed(bytes) -> [frame | ParseError, ...]``; subclasses give the three protocol hooks."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._junk = bytearray()
        self._reason = ""

    # --- protocol hooks -------------------------------------------------------------------

    def _unsynced(self, buf: bytearray) -> int:
        """Bytes before the next possible frame start (0: ``buf`` starts at one)."""
        raise NotImplementedError

    def _check(self, buf: bytearray) -> tuple[int, str]:
        """``(0, "")`` need more, ``(-1, reason)`` skip one byte, ``(n, "")`` a good frame."""
        raise NotImplementedError

    def _frame(self, raw: bytearray) -> F:
        """The frame made of exactly the bytes ``raw``."""
        raise NotImplementedError

    # --- the loop ---------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget a partial frame (after a timeout or an inter-frame silence)."""
        self._buf.clear()
        self._junk.clear()

    def flush(self) -> list[F | ParseError]:
        """End of input: give up on a held-back partial frame, re-scanning the bytes after it.

        A stray sync byte with a plausible length would otherwise hide the frames that follow
        it until more data came; a capture has no more data.
        """
        out: list[F | ParseError] = []
        while self._buf:
            held = bytes(self._buf)
            self._buf.clear()
            self._skip(held[:1], "incomplete frame")
            out += self.feed(held[1:])
        self._flush_junk(out)
        return out

    def feed(self, data: bytes) -> list[F | ParseError]:
        """Add received bytes; return the frames and parse errors they complete."""
        buf = self._buf
        buf += data
        out: list[F | ParseError] = []
        while buf:
            end = self._unsynced(buf)
            if end:
                self._skip(bytes(buf[:end]), "no sync")
                del buf[:end]
                continue
            length, reason = self._check(buf)
            if length == 0:
                break
            if length < 0:
                self._skip(bytes(buf[:1]), reason)
                del buf[:1]
                continue
            self._flush_junk(out)
            out.append(self._frame(buf[:length]))
            del buf[:length]
        self._flush_junk(out)
        return out

    def _skip(self, data: bytes, reason: str) -> None:
        if not self._junk:
            self._reason = reason
        self._junk += data

    def _flush_junk(self, out: list[F | ParseError]) -> None:
        if self._junk:
            out.append(ParseError(self._reason, bytes(self._junk)))
            self._junk.clear()
