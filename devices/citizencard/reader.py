"""Reading a citizen card's identity over PC/SC: its UID, and optionally one file.

    config = CitizenCardConfig(aid=bytes.fromhex("A0000000030001"), file_id=b"\\xef\\x05",
                               field=(0, 18))
    identity = read_card(config=config)            # first reader with a card
    identity.key                                   # "uid:04A1B2C3D4" + file part

The identity is the UID (GET UID, ``FF CA 00 00 00``, answered by the reader for
contactless cards); with ``file_id`` the reader also SELECTs the application (``aid``)
and the EF, READ BINARYs it, and adds either the configured field (``field`` = offset,
length) or a SHA-256 of the file to the identity. File contents may be personal (a social
security card holds the ID number): they are never logged and ``repr`` masks the field.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from devices import personal
from devices.citizencard import apdu
from devices.citizencard.errors import CardError, NoReader
from devices.citizencard.pcsc import PcscCard, PcscContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CitizenCardConfig:
    """What identifies a card, and which readers to watch."""

    aid: bytes | None = None
    """Application to SELECT before the file (None: the file is under the MF)."""
    file_id: bytes | None = None
    """2-byte EF to read (None: the UID alone is the identity)."""
    read_length: int = 0
    """Bytes to read from the EF; 0 reads to its end (at most ``max_file_bytes``)."""
    max_file_bytes: int = 4096
    field: tuple[int, int] | None = None
    """(offset, length) in the file of the identity field; None hashes the whole file."""
    reader_name: str = ""
    """Only readers whose name contains this text ("" = every reader)."""

    def __post_init__(self) -> None:
        if self.file_id is not None and len(self.file_id) != 2:
            raise ValueError("file_id is 2 bytes")
        if self.aid is not None and not 5 <= len(self.aid) <= 16:
            raise ValueError("an AID is 5 to 16 bytes")
        if self.field is not None and (self.field[0] < 0 or self.field[1] <= 0):
            raise ValueError("field is (offset >= 0, length > 0)")


@dataclass(frozen=True, repr=False)
class CardIdentity:
    """Who the card says it is: UID, ATR, and the configured file field or file hash."""

    uid: str
    """Upper-case hex."""
    atr: str
    reader: str
    field: str = ""
    file_sha256: str = ""

    @property
    def key(self) -> str:
        """The identity as one string: ``uid:…`` plus ``/field:…`` or ``/file:…``."""
        if self.field:
            return f"uid:{self.uid}/field:{self.field}"
        if self.file_sha256:
            return f"uid:{self.uid}/file:{self.file_sha256}"
        return f"uid:{self.uid}"

    def __repr__(self) -> str:
        field = personal.mask_id_number(self.field) if self.field else ""
        return f"CardIdentity(uid={self.uid!r}, reader={self.reader!r}, field={field!r})"

    __str__ = __repr__


def transmit(card: PcscCard, command: bytes) -> apdu.Response:
    """Send ``command``; follow 61 XX with GET RESPONSE and 6C XX with the right Le."""
    response = apdu.parse_response(card.transmit(command))
    if response.sw1 == 0x6C:
        response = apdu.parse_response(card.transmit(apdu.with_le(command, response.sw2)))
    data = response.data
    while response.sw1 == 0x61:
        response = apdu.parse_response(card.transmit(apdu.get_response(response.sw2)))
        data += response.data
    return apdu.Response(data, response.sw1, response.sw2)


def _expect_ok(what: str, response: apdu.Response) -> apdu.Response:
    if not response.ok:
        raise CardError(f"{what}: {response.describe()}", response.sw)
    return response


def read_file(card: PcscCard, config: CitizenCardConfig) -> bytes:
    """SELECT the application and EF, READ BINARY until the length or the end of the file."""
    if config.aid is not None:
        _expect_ok("select application", transmit(card, apdu.select_aid(config.aid)))
    if config.file_id is None:
        raise ValueError("no file_id configured")
    _expect_ok("select file", transmit(card, apdu.select_file(config.file_id)))
    wanted = config.read_length or config.max_file_bytes
    out = bytearray()
    while len(out) < wanted:
        chunk = min(256, wanted - len(out))
        response = transmit(card, apdu.read_binary(len(out), chunk))
        if response.sw in (0x6B00, 0x6282) or (response.ok and not response.data):
            out += response.data
            break
        _expect_ok("read binary", response)
        out += response.data
        if len(response.data) < chunk:
            break
    if config.read_length and len(out) < config.read_length:
        raise CardError(f"read binary: file has {len(out)} bytes, {config.read_length} wanted")
    return bytes(out)


def _field_text(content: bytes, field: tuple[int, int]) -> str:
    offset, length = field
    raw = content[offset : offset + length]
    if len(raw) < length:
        raise CardError(f"file too short for field at {offset}+{length}")
    text = raw.decode("ascii", errors="replace").strip(" \x00")
    return text if text.isprintable() and "\ufffd" not in text else raw.hex().upper()


def read_identity(
    context: PcscContext, reader: str, config: CitizenCardConfig, atr: bytes = b""
) -> CardIdentity:
    """Connect to the card in ``reader`` and read its identity; ``CardError`` on failure."""
    with context.connect(reader) as card:
        atr = atr or card.atr()
        uid = _expect_ok("get UID", transmit(card, apdu.GET_UID)).data
        if not uid:
            raise CardError("get UID: the reader returned no UID")
        field = digest = ""
        if config.file_id is not None:
            content = read_file(card, config)
            if config.field is not None:
                field = _field_text(content, config.field)
            else:
                digest = hashlib.sha256(content).hexdigest()
    identity = CardIdentity(uid.hex().upper(), atr.hex().upper(), reader, field, digest)
    log.info("citizen card in %s: uid %s", reader, personal.fingerprint(identity.uid))
    return identity


def matching_readers(context: PcscContext, config: CitizenCardConfig) -> list[str]:
    """The attached readers whose name contains ``config.reader_name``."""
    return [r for r in context.readers() if config.reader_name in r]


def read_card(reader: str | None = None, config: CitizenCardConfig | None = None) -> CardIdentity:
    """One-shot read (a "test connection" action): the card in ``reader`` or the first found.

    Raises ``PcscUnavailable``, ``NoReader`` or ``CardError`` (no card anywhere included).
    """
    config = config or CitizenCardConfig()
    context = PcscContext()
    try:
        names = [reader] if reader else matching_readers(context, config)
        if not names:
            raise NoReader("no PC/SC reader is attached")
        last: CardError | None = None
        for name in names:
            try:
                return read_identity(context, name, config)
            except CardError as exc:
                last = exc
        raise last or CardError("no card in any reader")
    finally:
        context.close()
