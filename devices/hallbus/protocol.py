"""hallbus messages: the command table as data, and typed encode/decode (pure).

Each command is ``name → code → request fields → reply fields``. Integers are little-endian;
``gb`` is GB2312 text and ``ascii`` printable ASCII, each behind a one-byte length; ``lines``
is a one-byte count followed by that many ``gb`` strings. See docs/protocols/hallbus.md.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devices.bus.model import DeviceKind, Effect, Key, Rating
from devices.hallbus.frames import ERROR_REPLY, MAX_PAYLOAD, MIN_FRAME, REPLY_FLAG, Frame

PROTOCOL_VERSION = 1
MAX_TEXT = 200
"""Longest text field in bytes (100 hanzi)."""


class PayloadError(ValueError):
    """A payload does not match the command table, or a value cannot be encoded."""


class FieldType(enum.Enum):
    """Wire types of message fields."""

    U8 = "u8"
    U16 = "u16"
    GB = "gb"
    ASCII = "ascii"
    LINES = "lines"


@dataclass(frozen=True)
class FieldDef:
    """One field of a message."""

    name: str
    type: FieldType
    max_len: int = MAX_TEXT
    """Longest encoding of a text field, in bytes."""


@dataclass(frozen=True)
class Command:
    """One row of the command table."""

    name: str
    code: int
    request: tuple[FieldDef, ...]
    reply: tuple[FieldDef, ...]
    kinds: frozenset[DeviceKind]
    broadcast: bool = False
    """May be sent to address 0 (devices execute it and do not reply)."""


ALL_KINDS = frozenset(DeviceKind)
_S, _B, _E, _K = (
    frozenset({DeviceKind.WINDOW_STRIP}),
    frozenset({DeviceKind.HALL_BOARD}),
    frozenset({DeviceKind.EVALUATOR}),
    frozenset({DeviceKind.KEYPAD}),
)


def _fields(spec: str) -> tuple[FieldDef, ...]:
    """``"kind:u8 model:ascii16"`` → field definitions (a trailing number is the max length)."""
    out = []
    for token in spec.split():
        name, _, wire = token.partition(":")
        ftype = next(t for t in FieldType if wire.startswith(t.value))
        limit = wire[len(ftype.value) :]
        out.append(FieldDef(name, ftype, int(limit) if limit else MAX_TEXT))
    return tuple(out)


# name, code, request fields, reply fields, device kinds that accept it
COMMANDS: tuple[Command, ...] = (
    Command("identify", 0x01, _fields(""),
            _fields("kind:u8 version:u8 boot:u16 lines:u8 columns:u8 model:ascii16"), ALL_KINDS),
    Command("poll", 0x02, _fields("boot:u16 ack:u8"),
            _fields("boot:u16 flags:u8 pending:u8 event_no:u8 event_type:u8 event_code:u8 event_arg:u16"),
            ALL_KINDS),
    Command("strip_set", 0x10, _fields("effect:u8 lines:lines"), (), _S),
    Command("board_line", 0x11, _fields("index:u8 count:u8 text:gb"), (), _B),
    Command("board_notice", 0x12, _fields("text:gb"), (), _B),
    Command("staff_show", 0x20, _fields("stars:u8 name:gb32 staff_number:ascii16"), (), _E),
    Command("invite", 0x21, _fields("invitation:u16 timeout_s:u16"), (), _E),
    Command("cancel", 0x22, _fields("invitation:u16"), (), _E),
    Command("keypad_display", 0x30, _fields("text:ascii8"), (), _K),
    Command("beep", 0x31, _fields("count:u8"), (), _K | _E),
    Command("brightness", 0x40, _fields("level:u8"), (), ALL_KINDS, broadcast=True),
)  # fmt: skip
ERROR_FIELDS = _fields("command:u8 error:u8")
BY_NAME: Mapping[str, Command] = {c.name: c for c in COMMANDS}
BY_CODE: Mapping[int, Command] = {c.code: c for c in COMMANDS}


class ErrorCode(enum.IntEnum):
    """Codes of an error reply (CMD 0xFF)."""

    UNKNOWN_COMMAND = 1
    BAD_PAYLOAD = 2
    NOT_SUPPORTED = 3
    """The command exists but not for this device kind."""


KIND_CODES: Mapping[DeviceKind, int] = {
    DeviceKind.WINDOW_STRIP: 1,
    DeviceKind.HALL_BOARD: 2,
    DeviceKind.EVALUATOR: 3,
    DeviceKind.KEYPAD: 4,
}
EFFECT_CODES: Mapping[Effect, int] = {Effect.STEADY: 0, Effect.FLASH: 1, Effect.SCROLL: 2}
KEY_CODES: Mapping[Key, int] = {
    Key.CALL_NEXT: 1,
    Key.RECALL: 2,
    Key.SKIP: 3,
    Key.PAUSE: 4,
    Key.RESUME: 5,
    Key.TRANSFER: 6,
    Key.INVITE_EVALUATION: 7,
}
RATING_CODES: Mapping[Rating, int] = {
    Rating.NOT_RATED: 0,
    Rating.VERY_SATISFIED: 1,
    Rating.SATISFIED: 2,
    Rating.BASICALLY_SATISFIED: 3,
    Rating.DISSATISFIED: 4,
    Rating.VERY_DISSATISFIED: 5,
}
KINDS_BY_CODE = {v: k for k, v in KIND_CODES.items()}
EFFECTS_BY_CODE = {v: k for k, v in EFFECT_CODES.items()}
KEYS_BY_CODE = {v: k for k, v in KEY_CODES.items()}
RATINGS_BY_CODE = {v: k for k, v in RATING_CODES.items()}


class EventType(enum.IntEnum):
    """``event_type`` of a poll reply."""

    NONE = 0
    KEY = 1
    RATING = 2


FLAG_INVITATION_OPEN = 0x01
FLAG_PAUSED = 0x02


@dataclass(frozen=True)
class Message:
    """A decoded request or reply: command name and typed field values."""

    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    reply: bool = False

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]


# field codecs ------------------------------------------------------------------------------


def encode_gb(text: str) -> bytes:
    """GB2312 bytes of ``text``; PayloadError names the first character that has none."""
    try:
        return text.encode("gb2312")
    except UnicodeEncodeError as exc:
        raise PayloadError(f"{text[exc.start]!r} has no GB2312 code") from exc


def _encode_text(value: Any, ftype: FieldType, max_len: int = MAX_TEXT) -> bytes:
    if not isinstance(value, str):
        raise PayloadError(f"text expected, got {type(value).__name__}")
    if ftype is FieldType.ASCII:
        if not all(" " <= c <= "~" for c in value):
            raise PayloadError(f"{value!r} is not printable ASCII")
        raw = value.encode("ascii")
    else:
        raw = encode_gb(value)
    if len(raw) > max_len:
        raise PayloadError(f"text of {len(raw)} bytes exceeds {max_len}")
    return bytes((len(raw),)) + raw


def _encode_field(value: Any, fdef: FieldDef) -> bytes:
    ftype = fdef.type
    if ftype in (FieldType.U8, FieldType.U16):
        size = 1 if ftype is FieldType.U8 else 2
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 256**size:
            raise PayloadError(f"{value!r} is not a {ftype.value}")
        return value.to_bytes(size, "little")
    if ftype is FieldType.LINES:
        if isinstance(value, str) or not isinstance(value, Sequence) or len(value) > 16:
            raise PayloadError("lines must be a sequence of at most 16 strings")
        return bytes((len(value),)) + b"".join(_encode_text(v, FieldType.GB) for v in value)
    return _encode_text(value, ftype, fdef.max_len)


def _decode_text(payload: bytes, pos: int, ftype: FieldType) -> tuple[str, int]:
    if pos >= len(payload):
        raise PayloadError("payload ends before a text length")
    end = pos + 1 + payload[pos]
    if end > len(payload):
        raise PayloadError("text runs past the end of the payload")
    raw = payload[pos + 1 : end]
    try:
        text = raw.decode("ascii" if ftype is FieldType.ASCII else "gb2312")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"bad {ftype.value} text {raw.hex(' ')}") from exc
    return text, end


def _decode_field(payload: bytes, pos: int, ftype: FieldType) -> tuple[Any, int]:
    if ftype in (FieldType.U8, FieldType.U16):
        size = 1 if ftype is FieldType.U8 else 2
        if pos + size > len(payload):
            raise PayloadError("payload too short")
        return int.from_bytes(payload[pos : pos + size], "little"), pos + size
    if ftype is FieldType.LINES:
        if pos >= len(payload):
            raise PayloadError("payload ends before a line count")
        count, pos = payload[pos], pos + 1
        lines = []
        for _ in range(count):
            text, pos = _decode_text(payload, pos, FieldType.GB)
            lines.append(text)
        return tuple(lines), pos
    return _decode_text(payload, pos, ftype)


def encode_fields(defs: Sequence[FieldDef], values: Mapping[str, Any]) -> bytes:
    """Payload for ``values`` laid out as ``defs``; PayloadError on missing or bad values."""
    missing = [d.name for d in defs if d.name not in values]
    extra = set(values) - {d.name for d in defs}
    if missing or extra:
        raise PayloadError(f"fields missing {missing} or unexpected {sorted(extra)}")
    payload = b"".join(_encode_field(values[d.name], d) for d in defs)
    if len(payload) > MAX_PAYLOAD:
        raise PayloadError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return payload


def decode_fields(defs: Sequence[FieldDef], payload: bytes) -> dict[str, Any]:
    """Field values of ``payload`` laid out as ``defs``; PayloadError if it does not fit."""
    values: dict[str, Any] = {}
    pos = 0
    for d in defs:
        values[d.name], pos = _decode_field(payload, pos, d.type)
    if pos != len(payload):
        raise PayloadError(f"{len(payload) - pos} unexpected bytes after the last field")
    return values


# messages ----------------------------------------------------------------------------------


def encode_message(message: Message) -> tuple[int, bytes]:
    """``(CMD byte, payload)`` of a message."""
    if message.name == "error":
        return ERROR_REPLY, encode_fields(ERROR_FIELDS, message.fields)
    cmd = BY_NAME.get(message.name)
    if cmd is None:
        raise PayloadError(f"unknown command {message.name!r}")
    defs = cmd.reply if message.reply else cmd.request
    code = cmd.code | REPLY_FLAG if message.reply else cmd.code
    return code, encode_fields(defs, message.fields)


def decode_message(frame: Frame) -> Message:
    """Typed message of a frame; PayloadError if the command table does not fit it."""
    if frame.command == ERROR_REPLY:
        return Message("error", decode_fields(ERROR_FIELDS, frame.payload), reply=True)
    cmd = BY_CODE.get(frame.code)
    if cmd is None:
        raise PayloadError(f"unknown command 0x{frame.code:02X}")
    defs = cmd.reply if frame.is_reply else cmd.request
    return Message(cmd.name, decode_fields(defs, frame.payload), reply=frame.is_reply)


def frame_of(address: int, seq: int, message: Message) -> Frame:
    """The frame carrying ``message``."""
    command, payload = encode_message(message)
    return Frame(address, seq, command, payload)


def request(command: str, /, **fields: Any) -> Message:
    """A request message, checked against the table at once (PayloadError if it does not fit)."""
    cmd = BY_NAME.get(command)
    if cmd is None:
        raise PayloadError(f"unknown command {command!r}")
    encode_fields(cmd.request, fields)
    return Message(command, dict(fields))


def usual_reply_frame(name: str) -> int:
    """Size of a normal reply frame if every reply field has a fixed size, else 0."""
    sizes = [{FieldType.U8: 1, FieldType.U16: 2}.get(d.type, 0) for d in BY_NAME[name].reply]
    return 0 if 0 in sizes else MIN_FRAME + sum(sizes)


def max_reply_frame(name: str) -> int:
    """Longest reply frame a request can draw (an error reply included), in bytes."""
    size = 0
    for d in BY_NAME[name].reply:
        size += {FieldType.U8: 1, FieldType.U16: 2}.get(d.type, 1 + d.max_len)
    return MIN_FRAME + max(min(size, MAX_PAYLOAD), len(ERROR_FIELDS))


# typed views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceEvent:
    """The oldest unacknowledged event of a device, as a poll reply carries it."""

    number: int
    """Event counter, 1–255 then 1 again; 0 never names an event."""
    type: EventType | int
    """An ``int`` for types newer than this code: the master acknowledges them unseen."""
    code: int
    arg: int

    @property
    def key(self) -> Key | None:
        """The key of a KEY event (None if the code is unknown)."""
        return KEYS_BY_CODE.get(self.code) if self.type is EventType.KEY else None

    @property
    def rating(self) -> Rating | None:
        """The rating of a RATING event (None if the code is unknown)."""
        return RATINGS_BY_CODE.get(self.code) if self.type is EventType.RATING else None


@dataclass(frozen=True)
class Status:
    """A poll reply."""

    boot: int
    flags: int
    pending: int
    event: DeviceEvent | None


@dataclass(frozen=True)
class Identity:
    """An identify reply."""

    kind: DeviceKind | None
    kind_code: int
    version: int
    boot: int
    lines: int
    columns: int
    model: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "kind": self.kind.value if self.kind else f"unknown({self.kind_code})",
            "version": self.version,
            "boot": self.boot,
            "lines": self.lines,
            "columns": self.columns,
            "model": self.model,
        }


def status_of(message: Message) -> Status:
    """Typed view of a poll reply (an event type this version does not know stays an int)."""
    f = message.fields
    event = None
    if f["event_no"]:
        raw = f["event_type"]
        etype = EventType(raw) if raw in EventType._value2member_map_ else raw
        event = DeviceEvent(f["event_no"], etype, f["event_code"], f["event_arg"])
    return Status(f["boot"], f["flags"], f["pending"], event)


def status_reply(status: Status) -> Message:
    """The poll reply carrying ``status`` (used by simulators and tests)."""
    ev = status.event
    return Message(
        "poll",
        {
            "boot": status.boot,
            "flags": status.flags,
            "pending": status.pending,
            "event_no": ev.number if ev else 0,
            "event_type": int(ev.type) if ev else 0,
            "event_code": ev.code if ev else 0,
            "event_arg": ev.arg if ev else 0,
        },
        reply=True,
    )


def identity_of(message: Message) -> Identity:
    """Typed view of an identify reply."""
    f = message.fields
    return Identity(
        KINDS_BY_CODE.get(f["kind"]),
        f["kind"],
        f["version"],
        f["boot"],
        f["lines"],
        f["columns"],
        f["model"],
    )


def identity_reply(identity: Identity) -> Message:
    """The identify reply carrying ``identity``."""
    return Message(
        "identify",
        {
            "kind": identity.kind_code,
            "version": identity.version,
            "boot": identity.boot,
            "lines": identity.lines,
            "columns": identity.columns,
            "model": identity.model,
        },
        reply=True,
    )


def message_to_json(message: Message) -> dict[str, Any]:
    """JSON-able fields of a message, with enum codes named where the table knows them."""
    out: dict[str, Any] = dict(message.fields)
    for key, value in out.items():
        if isinstance(value, tuple):
            out[key] = list(value)
    if message.name == "strip_set" and not message.reply:
        effect = EFFECTS_BY_CODE.get(out["effect"])
        out["effect_name"] = effect.value if effect else None
    if message.name == "identify" and message.reply:
        kind = KINDS_BY_CODE.get(out["kind"])
        out["kind_name"] = kind.value if kind else None
    if message.name == "poll" and message.reply and out["event_no"]:
        out["event"] = _event_json(out)
    return out


def _event_json(fields: Mapping[str, Any]) -> dict[str, Any] | str:
    etype, code = fields["event_type"], fields["event_code"]
    if etype == EventType.KEY:
        key = KEYS_BY_CODE.get(code)
        return {"key": key.value if key else None, "argument": fields["event_arg"]}
    if etype == EventType.RATING:
        rating = RATINGS_BY_CODE.get(code)
        return {
            "rating": rating.value if rating else None,
            "label": rating.label if rating else None,
            "invitation": fields["event_arg"],
        }
    return f"unknown event type {etype}"
