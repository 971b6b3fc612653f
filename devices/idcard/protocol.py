"""GA/T 467 SAM protocol (pure): the command table, status codes and the card's text block.

Commands are data (``COMMANDS``), never byte concatenation in the driver. A reply's SW3
says what happened (``Status``); SW1 and SW2 are 00 00 in every reply seen. The read
reply's data is::

    text_len(2, BE, 0x0100) photo_len(2, BE, 0x0400) [fp_len(2, BE)] text photo [fingerprint]

and the 256-byte text block is UTF-16LE, space padded (byte offset + length)::

    name 0+30   gender 30+2   nation 32+4   birth 36+16   address 52+70   id 122+36
    issuer 158+30   valid_from 188+16   valid_to 204+16 (or "长期")   reserved 220+36

Byte 248 (inside "reserved") marks other cards with the same reader: 'J' for the Hong Kong,
Macao and Taiwan residents' residence permit, 'I' (and 'Y', 2023 edition) for the
foreigner's permanent residence card. Their layouts differ: we refuse them rather than
misread them. See docs/protocols/ga467.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from devices import personal
from devices.idcard import frames, idnumber

# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class Command:
    """One SAM command: its bytes and how long the SAM may take to answer."""

    name: str
    cmd: int
    para: int
    reply_timeout_s: float
    doc: str

    def encode(self, data: bytes = b"") -> bytes:
        """The request frame."""
        return frames.encode_request(self.cmd, self.para, data)


COMMANDS: tuple[Command, ...] = (
    Command("reset_sam", 0x10, 0xFF, 3.0, "reset the SAM (复位SAM)"),
    Command("sam_status", 0x11, 0xFF, 0.5, "SAM status check (SAM状态检测)"),
    Command("read_sam_id", 0x12, 0xFF, 0.5, "read the SAM's id (读SAM管理信息)"),
    Command("find_card", 0x20, 0x01, 0.5, "find a card in the field (寻找居民身份证)"),
    Command("select_card", 0x20, 0x02, 0.5, "select the card found (选取居民身份证)"),
    Command("read_text_photo", 0x30, 0x01, 2.5, "read text and photo (读机读文字信息和相片信息)"),
    Command("read_new_address", 0x30, 0x03, 1.5, "read the newest address (读最新住址信息)"),
    Command("read_text_photo_fp", 0x30, 0x10, 3.5, "read text, photo and fingerprint"),
    Command("set_baud_115200", 0x60, 0x00, 0.5, "SAM serial rate 115200"),
    Command("set_baud_57600", 0x60, 0x01, 0.5, "SAM serial rate 57600"),
    Command("set_baud_38400", 0x60, 0x02, 0.5, "SAM serial rate 38400"),
    Command("set_baud_19200", 0x60, 0x03, 0.5, "SAM serial rate 19200"),
    Command("set_baud_9600", 0x60, 0x04, 0.5, "SAM serial rate 9600"),
)
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
BY_CODE: dict[tuple[int, int], Command] = {(c.cmd, c.para): c for c in COMMANDS}

# ---------------------------------------------------------------- status codes


class Status(enum.IntEnum):
    """SW3 of a reply."""

    OK = 0x90
    FIELD_ABSENT = 0x91
    CARD_FOUND = 0x9F
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    BAD_COMMAND = 0x21
    UNAUTHORISED = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_SAM_FAILED = 0x31
    SAM_AUTH_CARD_FAILED = 0x32
    VERIFY_FAILED = 0x33
    FINGERPRINT_ERROR = 0x37
    INFO_LENGTH_ERROR = 0x3F
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    FIND_FAILED = 0x80
    SELECT_FAILED = 0x81


STATUS_TEXT: dict[Status, tuple[str, str]] = {
    Status.OK: ("操作成功", "success"),
    Status.FIELD_ABSENT: ("居民身份证中无此项内容", "the card holds no such field"),
    Status.CARD_FOUND: ("寻找居民身份证成功", "card found"),
    Status.CHECKSUM_ERROR: (
        "接收业务终端数据的校验和错",
        "the SAM got a request with a bad checksum",
    ),
    Status.LENGTH_ERROR: ("接收业务终端数据的长度错", "the SAM got a request with a bad length"),
    Status.BAD_COMMAND: ("接收业务终端的命令错误", "the SAM does not know this command"),
    Status.UNAUTHORISED: ("越权操作", "operation not permitted"),
    Status.UNKNOWN_ERROR: ("无法识别的错误", "unknown error"),
    Status.CARD_AUTH_SAM_FAILED: ("居民身份证认证SAM失败", "the card did not accept the SAM"),
    Status.SAM_AUTH_CARD_FAILED: ("SAM认证居民身份证失败", "the SAM did not accept the card"),
    Status.VERIFY_FAILED: ("信息验证失败", "information verification failed"),
    Status.FINGERPRINT_ERROR: ("指纹信息验证错误", "fingerprint verification error"),
    Status.INFO_LENGTH_ERROR: ("信息长度错误", "information length error"),
    Status.UNKNOWN_CARD_TYPE: ("无法识别的居民身份证类型", "unknown card type"),
    Status.READ_FAILED: ("读居民身份证操作失败", "reading the card failed"),
    Status.RANDOM_FAILED: ("取随机数失败", "getting a random number failed"),
    Status.SAM_SELF_TEST_FAILED: ("SAM自检失败，不能接收命令", "SAM self-test failed"),
    Status.SAM_NOT_AUTHORISED: ("SAM未经授权，无法使用", "SAM not authorised"),
    Status.FIND_FAILED: ("寻找居民身份证失败", "no card found"),
    Status.SELECT_FAILED: ("选取居民身份证失败", "selecting the card failed"),
}

SAM_FAULTS = frozenset(
    {
        Status.UNAUTHORISED,
        Status.UNKNOWN_ERROR,
        Status.SAM_SELF_TEST_FAILED,
        Status.SAM_NOT_AUTHORISED,
        Status.BAD_COMMAND,
    }
)
"""Statuses that mean the reader itself is unusable until serviced or reset."""


def status_of(sw3: int) -> Status | None:
    """The ``Status`` for ``sw3``, or None for a code not in GA/T 467."""
    try:
        return Status(sw3)
    except ValueError:
        return None


def status_text(sw3: int) -> tuple[str, str]:
    """(Chinese, English) text of a status code, also for unknown codes."""
    status = status_of(sw3)
    if status is None:
        return (f"未知状态 0x{sw3:02X}", f"unknown status 0x{sw3:02X}")
    return STATUS_TEXT[status]


@dataclass(frozen=True)
class Reply:
    """A SAM reply: three status bytes and the data after them."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def status(self) -> Status | None:
        """SW3 as a ``Status`` (None if unknown)."""
        return status_of(self.sw3)

    def encode(self) -> bytes:
        """The reply frame."""
        return frames.encode_reply(self.sw1, self.sw2, self.sw3, self.data)

    def __repr__(self) -> str:  # data may be a card's personal text: never show it
        return (
            f"Reply(sw=0x{self.sw1:02X}{self.sw2:02X}{self.sw3:02X}, data={len(self.data)} bytes)"
        )


_CARD_STATUSES = frozenset({Status.CARD_FOUND, Status.FIND_FAILED, Status.SELECT_FAILED})


def plausible(command: str, reply: Reply) -> bool:
    """False for a reply that cannot answer ``command`` (a late reply to an earlier one).

    GA/T 467 has no sequence numbers; a reply that arrives after its command was given up
    and re-sent would otherwise be taken for the answer to the next command.
    """
    status = reply.status
    if command == "find_card":
        return status not in (Status.OK, Status.SELECT_FAILED)
    if command == "select_card":
        return status not in (Status.CARD_FOUND, Status.FIND_FAILED)
    if status in _CARD_STATUSES:
        return False
    if command.startswith("read_text_photo") and status == Status.OK:
        return len(reply.data) >= 4 + TEXT_LEN
    return True


def reply_of(frame: frames.Frame) -> Reply:
    """Read ``frame`` as a reply; ``CardLayoutError`` if it is too short for one."""
    body = frame.body
    if len(body) < 3:
        raise CardLayoutError(f"a reply has at least 3 status bytes, this one {len(body)}")
    return Reply(body[0], body[1], body[2], body[3:])


# ---------------------------------------------------------------- the card


TEXT_LEN = 256
PHOTO_LEN = 1024
FINGERPRINT_LENS = (0, 512, 1024)
CARD_TYPE_OFFSET = 248
LONG_TERM = "长期"

FIELDS: dict[str, tuple[int, int]] = {
    "name": (0, 30),
    "gender": (30, 2),
    "nation": (32, 4),
    "birth": (36, 16),
    "address": (52, 70),
    "id_number": (122, 36),
    "issuer": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "reserved": (220, 36),
}
"""Byte offset and length of every field of the 256-byte text block."""

NATIONS: dict[str, str] = {
    "01": "汉",
    "02": "蒙古",
    "03": "回",
    "04": "藏",
    "05": "维吾尔",
    "06": "苗",
    "07": "彝",
    "08": "壮",
    "09": "布依",
    "10": "朝鲜",
    "11": "满",
    "12": "侗",
    "13": "瑶",
    "14": "白",
    "15": "土家",
    "16": "哈尼",
    "17": "哈萨克",
    "18": "傣",
    "19": "黎",
    "20": "傈僳",
    "21": "佤",
    "22": "畲",
    "23": "高山",
    "24": "拉祜",
    "25": "水",
    "26": "东乡",
    "27": "纳西",
    "28": "景颇",
    "29": "柯尔克孜",
    "30": "土",
    "31": "达斡尔",
    "32": "仫佬",
    "33": "羌",
    "34": "布朗",
    "35": "撒拉",
    "36": "毛南",
    "37": "仡佬",
    "38": "锡伯",
    "39": "阿昌",
    "40": "普米",
    "41": "塔吉克",
    "42": "怒",
    "43": "乌孜别克",
    "44": "俄罗斯",
    "45": "鄂温克",
    "46": "德昂",
    "47": "保安",
    "48": "裕固",
    "49": "京",
    "50": "塔塔尔",
    "51": "独龙",
    "52": "鄂伦春",
    "53": "赫哲",
    "54": "门巴",
    "55": "珞巴",
    "56": "基诺",
    "97": "其他",
    "98": "外国血统中国籍人士",
}
"""GB 3304 nationality codes as printed on the card (汉, not 汉族)."""

OTHER_CARD_TYPES = {
    "J": "港澳台居民居住证 (Hong Kong, Macao and Taiwan residents' residence permit)",
    "I": "外国人永久居留身份证 (foreigner's permanent residence card)",
    "Y": "外国人永久居留身份证2023版 (foreigner's permanent residence card, 2023)",
}


class CardLayoutError(ValueError):
    """The card's data does not have the resident ID card layout (no personal data shown)."""


class UnsupportedCardType(CardLayoutError):
    """A card of another type ('J', 'I', …) with a layout this reader does not decode."""

    def __init__(self, card_type: str) -> None:
        self.card_type = card_type
        label = OTHER_CARD_TYPES.get(card_type, "unknown card type")
        super().__init__(
            f"card type {card_type!r} ({label}) is not supported: only resident ID cards"
        )


class Gender(enum.Enum):
    """GB/T 2261.1 sex codes as written on the card."""

    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    UNSPECIFIED = "9"

    @property
    def label(self) -> str:
        """What the card shows."""
        return {"0": "未知", "1": "男", "2": "女", "9": "未说明"}[self.value]


@dataclass(frozen=True, repr=False)
class IdCard:
    """A resident ID card's contents. ``repr`` masks the personal fields."""

    name: str
    gender: Gender
    nation_code: str
    birth: dt.date
    address: str
    id_number: str
    issuer: str
    valid_from: dt.date
    valid_to: dt.date | None
    """None for a card valid without limit (长期)."""
    photo: bytes = b""
    """The photo as stored on the card (WLT, proprietary); decoding needs a vendor library."""
    fingerprint: bytes = b""

    @property
    def nation(self) -> str:
        """The nationality as printed (汉, 蒙古, …); the code if unknown."""
        return NATIONS.get(self.nation_code, self.nation_code)

    @property
    def id_number_ok(self) -> bool:
        """True if the ID number is well formed with a correct check character."""
        return idnumber.is_valid(self.id_number)

    def expired(self, today: dt.date) -> bool:
        """True after the last day of validity (a card is valid through its end date)."""
        return self.valid_to is not None and today > self.valid_to

    def to_dict(self, show_personal: bool = False) -> dict[str, Any]:
        """JSON-able fields; name, ID number, address, birth date and photo masked by default."""
        birth = self.birth.isoformat()
        out: dict[str, Any] = {
            "name": self.name if show_personal else personal.mask_name(self.name),
            "gender": self.gender.label,
            "nation": self.nation,
            "nation_code": self.nation_code,
            "birth": birth if show_personal else personal.mask_date(birth),
            "address": self.address if show_personal else personal.mask_address(self.address),
            "id_number": self.id_number
            if show_personal
            else personal.mask_id_number(self.id_number),
            "id_number_valid": self.id_number_ok,
            "issuer": self.issuer,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else LONG_TERM,
            "photo": {"bytes": len(self.photo), "sha256": personal.fingerprint(self.photo)},
        }
        if self.fingerprint:
            out["fingerprint"] = {"bytes": len(self.fingerprint)}
        if show_personal:
            out["photo"]["base64"] = base64.b64encode(self.photo).decode("ascii")
        return out

    def __repr__(self) -> str:
        return (
            f"IdCard(name={personal.mask_name(self.name)!r}, "
            f"id_number={personal.mask_id_number(self.id_number)!r}, "
            f"valid_to={self.valid_to.isoformat() if self.valid_to else LONG_TERM!r})"
        )

    __str__ = __repr__


def _field(block: bytes, name: str) -> str:
    start, size = FIELDS[name]
    try:
        text = block[start : start + size].decode("utf-16-le")
    except UnicodeDecodeError:
        raise CardLayoutError(f"field {name} is not UTF-16LE text") from None
    return text.strip(" \x00")


def _date(block: bytes, name: str) -> dt.date:
    text = _field(block, name)
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise CardLayoutError(f"field {name} is not a YYYYMMDD date")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CardLayoutError(f"field {name} is not a valid date") from None


def card_type(block: bytes) -> str:
    """The card-type marker at byte 248: "" for a resident ID card, else 'J', 'I', …."""
    if len(block) < CARD_TYPE_OFFSET + 2:
        return ""
    mark = block[CARD_TYPE_OFFSET : CARD_TYPE_OFFSET + 2]
    if mark[1] == 0 and 0x41 <= mark[0] <= 0x5A:
        return chr(mark[0])
    return ""


def decode_text(block: bytes, photo: bytes = b"", fingerprint: bytes = b"") -> IdCard:
    """Decode the 256-byte text block; ``CardLayoutError`` if it is not a resident ID card.

    The ID number's check character is not enforced here (see ``IdCard.id_number_ok``):
    a decoder shows what the card holds, the driver decides what to accept.
    """
    if len(block) != TEXT_LEN:
        raise CardLayoutError(f"the text block is {TEXT_LEN} bytes, got {len(block)}")
    kind = card_type(block)
    if kind:
        raise UnsupportedCardType(kind)
    gender_code = _field(block, "gender")
    try:
        gender = Gender(gender_code)
    except ValueError:
        raise CardLayoutError("field gender is not 0, 1, 2 or 9") from None
    nation = _field(block, "nation")
    if len(nation) != 2 or not nation.isascii() or not nation.isdigit():
        raise CardLayoutError("field nation is not a two-digit code")
    valid_to_text = _field(block, "valid_to")
    return IdCard(
        name=_field(block, "name"),
        gender=gender,
        nation_code=nation,
        birth=_date(block, "birth"),
        address=_field(block, "address"),
        id_number=_field(block, "id_number"),
        issuer=_field(block, "issuer"),
        valid_from=_date(block, "valid_from"),
        valid_to=None if valid_to_text == LONG_TERM else _date(block, "valid_to"),
        photo=photo,
        fingerprint=fingerprint,
    )


def _put(block: bytearray, name: str, text: str) -> None:
    start, size = FIELDS[name]
    raw = text.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"field {name} holds {size // 2} characters, got {len(text)}")
    block[start : start + size] = raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def encode_text(card: IdCard) -> bytes:
    """The 256-byte text block of ``card`` (what a SAM sends; used by the simulator)."""
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    _put(block, "name", card.name)
    _put(block, "gender", card.gender.value)
    _put(block, "nation", card.nation_code)
    _put(block, "birth", card.birth.strftime("%Y%m%d"))
    _put(block, "address", card.address)
    _put(block, "id_number", card.id_number)
    _put(block, "issuer", card.issuer)
    _put(block, "valid_from", card.valid_from.strftime("%Y%m%d"))
    _put(block, "valid_to", card.valid_to.strftime("%Y%m%d") if card.valid_to else LONG_TERM)
    return bytes(block)


def split_read_data(data: bytes, with_fingerprint: bool = False) -> tuple[bytes, bytes, bytes]:
    """(text, photo, fingerprint) of a read reply's data; ``CardLayoutError`` on bad lengths."""
    head = 6 if with_fingerprint else 4
    if len(data) < head:
        raise CardLayoutError(f"read data too short ({len(data)} bytes)")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    fp_len = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if text_len != TEXT_LEN:
        raise CardLayoutError(f"text length {text_len}, expected {TEXT_LEN}")
    if photo_len not in (0, PHOTO_LEN):
        raise CardLayoutError(f"photo length {photo_len}, expected {PHOTO_LEN}")
    if fp_len not in FINGERPRINT_LENS:
        raise CardLayoutError(f"fingerprint length {fp_len} not in {FINGERPRINT_LENS}")
    if len(data) != head + text_len + photo_len + fp_len:
        raise CardLayoutError(
            f"read data is {len(data)} bytes, lengths announce {head + text_len + photo_len + fp_len}"
        )
    text = data[head : head + text_len]
    photo = data[head + text_len : head + text_len + photo_len]
    return text, photo, data[head + text_len + photo_len :]


def build_read_data(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    """A read reply's data (the simulator's side of ``split_read_data``)."""
    parts = [len(text).to_bytes(2, "big"), len(photo).to_bytes(2, "big")]
    if fingerprint is not None:
        parts.append(len(fingerprint).to_bytes(2, "big"))
    return b"".join(parts) + text + photo + (fingerprint or b"")


def decode_read_reply(reply: Reply, with_fingerprint: bool = False) -> IdCard:
    """The card in a successful read reply."""
    text, photo, fp = split_read_data(reply.data, with_fingerprint)
    return decode_text(text, photo, fp)
