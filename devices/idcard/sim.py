"""A simulated GA/T 467 SAM reader behind a pty, speaking the real bytes.

    sim = IdCardSim(card=sample_card())
    sim.start()                                   # sim.path is the port to open
    reader = IdCardReader(sim.path)

The SAM keeps the card's state as a real one does: "select" needs a "find", "read" needs a
"select", and a card that was read is not found again until it leaves the field and comes
back (``rearm_after_read``; public driver notes say a read card must be taken away before
the next "find" succeeds). Replies take wire time at the configured baud rate plus a
processing time per command.

Fault injection (``IdCardFaults``, change at any time): no card, card removed during the
read (the SAM falls silent, or answers SW3 0x41), the next N replies with a corrupt CHK,
slow replies, a SAM fault (SW3 0x60 to everything), total silence. The base ``Faults`` of
``devices.bus.simwire`` (random bit flips, dropped replies) apply too.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import random
import threading
from dataclasses import dataclass

from devices.bus.simwire import Faults, SimThread
from devices.bus.timing import LineTiming
from devices.idcard import frames
from devices.idcard import protocol as p

PROCESSING_S = {
    "find_card": 0.01,
    "select_card": 0.01,
    "read_text_photo": 0.05,
    "read_text_photo_fp": 0.08,
    "reset_sam": 0.05,
}
DEFAULT_PROCESSING_S = 0.005
SAM_ID = bytes.fromhex("05000000 01000000 2a000000 e8030000")
"""A fictitious SAM id (16 bytes), returned by "read_sam_id"."""


class RemoveMode(enum.Enum):
    """How the SAM behaves when the card leaves the field during a read."""

    SILENT = "silent"
    """No reply to the read (the SAM times out internally)."""
    READ_FAILED = "read_failed"
    """SW3 0x41 读居民身份证操作失败."""


@dataclass
class IdCardFaults:
    """Fault-injection knobs of the simulated reader."""

    remove_mid_read: RemoveMode | None = None
    """The card is taken away when the next read command arrives."""
    corrupt_replies: int = 0
    """The next N replies have their checksum byte flipped."""
    corrupt_only: str = ""
    """If set, only replies to this command name count against ``corrupt_replies``."""
    slow_reply_s: float = 0.0
    """Extra delay before every reply."""
    sam_fault: bool = False
    """Answer every command with SW3 0x60 (SAM self-test failed)."""
    silent: bool = False
    """Answer nothing at all."""


def sample_card(**changes: object) -> p.IdCard:
    """A fictitious card (the GB 11643 example number); ``changes`` override fields."""
    values: dict[str, object] = {
        "name": "张三",
        "gender": p.Gender.MALE,
        "nation_code": "01",
        "birth": dt.date(1949, 12, 31),
        "address": "北京市东城区示例街道1号",
        "id_number": "11010519491231002X",
        "issuer": "北京市公安局东城分局",
        "valid_from": dt.date(2020, 1, 1),
        "valid_to": None,
        "photo": bytes(range(256)) * 4,
    }
    values.update(changes)
    return p.IdCard(**values)  # type: ignore[arg-type]


class IdCardSim(SimThread):
    """A GA/T 467 reader with one (or no) card on it."""

    def __init__(
        self,
        card: p.IdCard | None = None,
        *,
        baudrate: int = 115200,
        link_path: str | os.PathLike[str] | None = None,
        faults: IdCardFaults | None = None,
        wire_faults: Faults | None = None,
        rearm_after_read: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__(link_path, wire_faults or Faults(rng=random.Random(seed)))
        self.timing = LineTiming(baudrate, latency_s=0.0)
        self.card_faults = faults or IdCardFaults()
        self.rearm_after_read = rearm_after_read
        self._lock = threading.Lock()
        self._card = card
        self._raw_text: bytes | None = None
        self._found = False
        self._selected = False
        self._read_done = False
        self._parser = frames.FrameParser()
        self.requests: list[str] = []
        """Names of the commands received, in order (for tests)."""

    # ------------------------------------------------------------ the card

    def place_card(self, card: p.IdCard | None = None, *, raw_text: bytes | None = None) -> None:
        """Put a card on the reader (``raw_text`` sends that 256-byte block instead)."""
        with self._lock:
            if card is not None:
                self._card = card
            self._raw_text = raw_text
            self._found = self._selected = self._read_done = False

    def remove_card(self) -> None:
        """Take the card away."""
        with self._lock:
            self._card = None
            self._raw_text = None
            self._found = self._selected = self._read_done = False

    @property
    def card_present(self) -> bool:
        """True while a card lies on the reader."""
        with self._lock:
            return self._card is not None

    # ------------------------------------------------------------ wire

    def on_bytes(self, data: bytes, now: float) -> None:
        """Answer every complete request."""
        for item in self._parser.feed(data):
            if isinstance(item, frames.ParseError):
                if item.reason == "bad checksum":
                    self._reply(now, "?", p.Reply(0, 0, p.Status.CHECKSUM_ERROR))
                continue
            if item.looks_like_reply:
                continue
            command = p.BY_CODE.get((item.body[0], item.body[1]))
            name = command.name if command else "?"
            self.requests.append(name)
            reply = self._answer(name, item.body[2:])
            if reply is not None:
                self._reply(now, name, reply)

    def on_unplug(self) -> None:
        """Forget a partial request."""
        self._parser.reset()

    def _reply(self, now: float, name: str, reply: p.Reply) -> None:
        faults = self.card_faults
        if faults.silent or self.faults.drop():
            return
        raw = bytearray(reply.encode())
        if faults.corrupt_replies > 0 and faults.corrupt_only in ("", name):
            faults.corrupt_replies -= 1
            raw[-1] ^= 0xFF
        processing = PROCESSING_S.get(name, DEFAULT_PROCESSING_S) + faults.slow_reply_s
        self.send_at(now + processing + self.timing.wire_time(len(raw)), bytes(raw))

    # ------------------------------------------------------------ SAM behaviour

    def _answer(self, name: str, data: bytes) -> p.Reply | None:
        if self.card_faults.sam_fault:
            return p.Reply(0, 0, p.Status.SAM_SELF_TEST_FAILED)
        with self._lock:
            if name == "find_card":
                return self._find()
            if name == "select_card":
                return self._select()
            if name in ("read_text_photo", "read_text_photo_fp"):
                return self._read(name == "read_text_photo_fp")
        if name in ("reset_sam", "sam_status") or name.startswith("set_baud"):
            return p.Reply(0, 0, p.Status.OK)
        if name == "read_sam_id":
            return p.Reply(0, 0, p.Status.OK, SAM_ID)
        if name == "read_new_address":
            return p.Reply(0, 0, p.Status.FIELD_ABSENT)
        return p.Reply(0, 0, p.Status.BAD_COMMAND)

    def _find(self) -> p.Reply:
        if self._card is None or self._read_done:
            self._found = self._selected = False
            return p.Reply(0, 0, p.Status.FIND_FAILED)
        self._found = True
        return p.Reply(0, 0, p.Status.CARD_FOUND, bytes(4))

    def _select(self) -> p.Reply:
        if self._card is None or not self._found:
            return p.Reply(0, 0, p.Status.SELECT_FAILED)
        self._selected = True
        return p.Reply(0, 0, p.Status.OK, bytes(8))

    def _read(self, with_fingerprint: bool) -> p.Reply | None:
        mode = self.card_faults.remove_mid_read
        if mode is not None and self._card is not None:
            self.card_faults.remove_mid_read = None
            self._card = None
            self._found = self._selected = False
            return None if mode == RemoveMode.SILENT else p.Reply(0, 0, p.Status.READ_FAILED)
        if self._card is None or not self._selected:
            return p.Reply(0, 0, p.Status.READ_FAILED)
        text = self._raw_text if self._raw_text is not None else p.encode_text(self._card)
        fingerprint = self._card.fingerprint if with_fingerprint else None
        data = p.build_read_data(text, self._card.photo, fingerprint)
        if self.rearm_after_read:
            self._read_done = True
        return p.Reply(0, 0, p.Status.OK, data)
