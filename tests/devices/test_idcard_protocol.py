"""GA/T 467 protocol: ID number checksum, text block, statuses, masking, the decode tool."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import personal
from devices.idcard import frames, idnumber
from devices.idcard import protocol as p
from devices.idcard.decode import decode
from devices.idcard.sim import sample_card

from .idcard_fixtures import fixture_bytes, public_frames

PUBLIC = public_frames()


def _reply(name: str) -> p.Reply:
    (frame,) = frames.FrameParser().feed(fixture_bytes(name))
    assert isinstance(frame, frames.Frame)
    return p.reply_of(frame)


# ---------------------------------------------------------------- ID numbers


@pytest.mark.parametrize(
    "number", ["11010519491231002X", "440524188001010014", "11010519491231002x"]
)
def test_valid_id_numbers(number: str) -> None:
    assert idnumber.is_valid(number)
    assert idnumber.validate(number) == number.upper()


def test_check_characters_of_the_examples() -> None:
    assert idnumber.check_char("11010519491231002") == "X"
    assert idnumber.check_char("44052418800101001") == "4"
    assert idnumber.birth_date("440524188001010014") == dt.date(1880, 1, 1)
    assert idnumber.is_male("440524188001010014") and not idnumber.is_male("11010519491231002X")


@pytest.mark.parametrize(
    "number",
    ["110105194912310021", "44052418800101001X", "11010519491231002", "11010519491231002XX",
     "11010519491331002X", "1101051949123100AX", "１１０１０５１９４９１２３１００２Ｘ", ""],
)  # fmt: skip
def test_invalid_id_numbers(number: str) -> None:
    assert not idnumber.is_valid(number)
    with pytest.raises(idnumber.IdNumberError) as info:
        idnumber.validate(number)
    assert number[:10] not in str(info.value) or not number  # the number is never echoed


@settings(max_examples=200, deadline=None)
@given(
    first17=st.text(alphabet="0123456789", min_size=17, max_size=17),
    wrong=st.sampled_from("0123456789X"),
)
def test_exactly_one_check_character_fits(first17: str, wrong: str) -> None:
    right = idnumber.check_char(first17)
    assert idnumber.CHECK_CHARS.count(right) == 1
    if wrong != right:
        with pytest.raises(idnumber.IdNumberError):
            idnumber.validate(first17 + wrong)


# ---------------------------------------------------------------- text block


def test_decode_fictitious_read_reply() -> None:
    """GIVEN a read reply written by an independent script THEN every field decodes."""
    reply = _reply("read_reply_fictitious.hex")
    assert reply.status == p.Status.OK
    card = p.decode_read_reply(reply)
    assert card.name == "王测试"
    assert card.gender == p.Gender.MALE and card.gender.label == "男"
    assert (card.nation_code, card.nation) == ("03", "回")
    assert card.birth == dt.date(1880, 1, 1)
    assert card.address == "广东省汕头市示例路8号测试楼"
    assert card.id_number == "440524188001010014" and card.id_number_ok
    assert card.issuer == "汕头市公安局示例分局"
    assert (card.valid_from, card.valid_to) == (dt.date(2015, 1, 1), dt.date(2035, 1, 1))
    assert card.photo == bytes((i * 7 + 3) % 256 for i in range(1024))
    assert not card.expired(dt.date(2035, 1, 1)) and card.expired(dt.date(2035, 1, 2))


def test_residence_permit_is_refused_not_misread() -> None:
    reply = _reply("read_reply_j_permit.hex")
    with pytest.raises(p.UnsupportedCardType) as info:
        p.decode_read_reply(reply)
    assert info.value.card_type == "J"
    assert "港澳台居民居住证" in str(info.value) and "王" not in str(info.value)


def test_long_term_validity() -> None:
    card = sample_card(valid_to=None)
    text = p.encode_text(card)
    assert text[204:208] == "长期".encode("utf-16-le")
    decoded = p.decode_text(text)
    assert decoded.valid_to is None and not decoded.expired(dt.date(2999, 1, 1))
    assert decoded.to_dict()["valid_to"] == "长期"


def test_layout_errors_are_clear() -> None:
    good = bytearray(p.encode_text(sample_card()))
    with pytest.raises(p.CardLayoutError, match="256"):
        p.decode_text(bytes(good[:200]))
    bad_date = bytearray(good)
    bad_date[36:52] = "19491340".encode("utf-16-le")
    with pytest.raises(p.CardLayoutError, match="birth"):
        p.decode_text(bytes(bad_date))
    bad_gender = bytearray(good)
    bad_gender[30:32] = "5".encode("utf-16-le")
    with pytest.raises(p.CardLayoutError, match="gender"):
        p.decode_text(bytes(bad_gender))
    with pytest.raises(p.CardLayoutError, match="photo length"):
        p.split_read_data(b"\x01\x00\x02\x00" + bytes(good) + bytes(512))
    with pytest.raises(p.CardLayoutError, match="announce"):
        p.split_read_data(b"\x01\x00\x04\x00" + bytes(good) + bytes(1000))


names = st.text(alphabet="张王李赵欧阳小明测试樊", min_size=1, max_size=15)
addresses = st.text(alphabet="北京市东城区街道路号楼0123456789", min_size=1, max_size=35)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))


@settings(max_examples=150, deadline=None)
@given(name=names, address=addresses, birth=dates, valid_from=dates, valid_to=st.none() | dates,
       nation=st.sampled_from(sorted(p.NATIONS)), gender=st.sampled_from(list(p.Gender)))  # fmt: skip
def test_text_round_trip(
    name: str, address: str, birth: dt.date, valid_from: dt.date, valid_to: dt.date | None,
    nation: str, gender: p.Gender,
) -> None:  # fmt: skip
    card = sample_card(name=name, address=address, birth=birth, valid_from=valid_from,
                       valid_to=valid_to, nation_code=nation, gender=gender)  # fmt: skip
    data = p.build_read_data(p.encode_text(card), card.photo)
    assert p.decode_read_reply(p.Reply(0, 0, 0x90, data)) == card


def test_nation_table() -> None:
    assert len([c for c in p.NATIONS if int(c) <= 56]) == 56
    assert p.NATIONS["01"] == "汉" and p.NATIONS["56"] == "基诺" and p.NATIONS["10"] == "朝鲜"
    assert sample_card(nation_code="57").nation == "57"


def test_status_table_covers_hardware_notes() -> None:
    codes = [0x90, 0x91, 0x9F, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x37, 0x3F,
             0x40, 0x41, 0x47, 0x60, 0x66, 0x80, 0x81]  # fmt: skip
    for code in codes:
        zh, en = p.status_text(code)
        assert zh and en and "未知" not in zh
    assert p.status_text(0x80)[0] == "寻找居民身份证失败"
    assert p.status_text(0x9F)[0] == "寻找居民身份证成功"
    assert p.status_text(0x55) == ("未知状态 0x55", "unknown status 0x55")


# ---------------------------------------------------------------- personal data


def test_repr_and_dict_mask_personal_data() -> None:
    card = sample_card(name="欧阳小明", id_number="11010519491231002X")
    text = repr(card) + str(card) + json.dumps(card.to_dict(), ensure_ascii=False)
    assert "欧阳小明" not in text and "11010519491231002X" not in text
    assert "欧**明" in text and "1101**********002X" in text
    assert "示例街道" not in text and "1949-12-31" not in text
    full = card.to_dict(show_personal=True)
    assert full["name"] == "欧阳小明" and full["birth"] == "1949-12-31"
    assert repr(p.Reply(0, 0, 0x90, "欧阳".encode())) == "Reply(sw=0x000090, data=6 bytes)"


def test_mask_helpers_match_the_centre() -> None:
    assert personal.mask_name("张三") == "张*"
    assert personal.mask_name("张小三") == "张*三"
    assert personal.mask_id_number("11010519491231002X") == "1101**********002X"
    assert personal.mask_address("北京市东城区东华门街道1号") == "北京市东城区****"
    assert personal.mask_date("1949-12-31") == "1949-**-**"


# ---------------------------------------------------------------- decode tool


def test_decode_exchange_of_public_frames() -> None:
    out = decode(
        ["AA AA AA 96 69 00 03 20 01 22", "aaaaaa9669000800009f0000000097",
         "AA:AA:AA:96:69:00:04:00:00:81:85"]
    )  # fmt: skip
    assert [o["direction"] for o in out] == ["request", "reply", "reply"]
    assert out[0]["command"] == "find_card"
    assert (out[1]["status"], out[1]["text_zh"]) == ("card_found", "寻找居民身份证成功")
    assert (out[2]["status"], out[2]["text_en"]) == ("select_failed", "selecting the card failed")


def test_decode_masks_a_read_reply_unless_asked() -> None:
    raw = fixture_bytes("read_reply_fictitious.hex").hex()
    (masked,) = decode(raw)
    dumped = json.dumps(masked, ensure_ascii=False)
    assert "王测试" not in dumped and "440524188001010014" not in dumped
    assert "8b 73" not in masked["raw"]  # 王 in UTF-16LE: the text bytes are cut
    assert masked["card"]["name"] == "王*试" and masked["card"]["id_number_valid"] is True
    (full,) = decode(raw, show_personal=True)
    assert full["card"]["name"] == "王测试" and full["card"]["id_number"] == "440524188001010014"
    assert len(full["raw"].split()) == 1295


def test_decode_reports_junk_and_refused_cards() -> None:
    out = decode("00 11 " + fixture_bytes("read_reply_j_permit.hex").hex())
    assert out[0] == {"error": "no preamble", "raw": "00 11"}
    assert out[1]["card_type"] == "J" and "not supported" in out[1]["card_error"]
    with pytest.raises(ValueError):
        decode("AA ZZ")


def test_hallq_devices_decode_ga467(capsys: pytest.CaptureFixture[str]) -> None:
    from devices.bus.cli import main

    raw = fixture_bytes("read_reply_fictitious.hex").hex()
    assert main(["decode", "--protocol", "ga467", "AA AA AA 96 69 00 03 30 01 32", raw]) == 0
    request, reply = json.loads(capsys.readouterr().out)
    assert request["command"] == "read_text_photo"
    assert reply["card"]["id_number"] == "4405**********0014"
    assert main(["decode", "--protocol", "ga467", "--show-personal", raw]) == 0
    (full,) = json.loads(capsys.readouterr().out)
    assert full["card"]["name"] == "王测试"


@settings(max_examples=300, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)), max_size=8))
def test_fuzz_text_block_gives_a_card_or_a_layout_error(edits: list[tuple[int, int]]) -> None:
    block = bytearray(p.encode_text(sample_card()))
    for pos, value in edits:
        block[pos] = value
    try:
        card = p.decode_text(bytes(block))
    except p.CardLayoutError:
        return
    assert isinstance(card, p.IdCard)
    json.dumps(card.to_dict(), ensure_ascii=False)
