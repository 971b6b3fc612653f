"""The ticket image: size, 1-bit, a large number, a QR code that decodes to the payload."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from devices.ticket import fonts
from devices.ticket.fonts import FontNotFound, find_cjk_font, load_font
from devices.ticket.render import (
    TicketContent,
    qr_matrix,
    render_text_lines,
    render_ticket,
    render_ticket_layout,
    wrap,
)

cv2 = pytest.importorskip("cv2")

URL = "https://hall.example.gov.cn/t/3f9a2c7e1b?h=county"


@pytest.fixture(scope="module", autouse=True)
def cjk_font() -> None:
    try:
        find_cjk_font()
    except FontNotFound as exc:
        pytest.fail(str(exc))


def content(**changes: object) -> TicketContent:
    base = TicketContent(
        hall_name="某某县政务服务中心",
        number="A012",
        service_name="不动产登记（抵押、转移、变更）",
        people_ahead=7,
        wait_minutes=25,
        issued_at=dt.datetime(2025, 3, 4, 9, 31),
        qr_payload=URL,
        masked_name="张*三",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def decode(image: Image.Image) -> str:
    grey = np.array(image.convert("L"))
    text, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(grey)
    return str(text)


@pytest.mark.parametrize("width", [576, 384, 512])
def test_image_is_one_bit_and_exactly_the_paper_width(width: int) -> None:
    image = render_ticket(content(), width)
    assert image.mode == "1"
    assert image.width == width
    assert width < image.height < 3 * width  # a ticket, not a banner or a scroll


@pytest.mark.parametrize("width", [576, 384])
def test_qr_code_decodes_back_to_the_payload(width: int) -> None:
    layout = render_ticket_layout(content(), width)
    assert decode(layout.image) == URL
    assert layout.qr_module_dots >= 3
    left, top, right, bottom = layout.boxes["qr"]
    assert decode(layout.image.crop((left, top, right, bottom))) == URL


def test_number_is_the_largest_thing_on_the_ticket() -> None:
    """GIVEN a 576-dot ticket WHEN rendered THEN the number is at least 20 mm tall and
    taller than every (one-line) text, and its box is mostly ink-bearing (not empty)."""
    layout = render_ticket_layout(content(service_name="社会保障卡"), 576)
    boxes = layout.boxes
    left, top, right, bottom = boxes["number"]
    height = bottom - top
    assert height >= 160  # 8 dots/mm: 20 mm
    for role in ("hall", "service", "ahead", "wait", "name", "time", "caption", "notes"):
        b = boxes[role]
        assert (b[3] - b[1]) * 3 < height, role
    ink = np.array(layout.image.crop(boxes["number"]).convert("L")) < 128
    assert 0.2 < ink.mean() < 0.8
    assert right - left > 576 // 2


def test_parts_are_in_reading_order_and_inside_the_ticket() -> None:
    layout = render_ticket_layout(content(), 576)
    order = ["hall", "service", "number", "ahead", "wait", "name", "time", "qr", "caption", "notes"]
    tops = [layout.boxes[role][1] for role in order]
    assert tops == sorted(tops)
    for role, (left, top, right, bottom) in layout.boxes.items():
        assert 0 <= left < right <= 576 and 0 <= top < bottom <= layout.image.height, role


def test_optional_lines_are_left_out() -> None:
    layout = render_ticket_layout(content(wait_minutes=None, masked_name=None, notes=()), 576)
    assert {"wait", "name", "notes"}.isdisjoint(layout.boxes)
    assert decode(layout.image) == URL


def test_full_names_are_never_printed() -> None:
    with pytest.raises(ValueError, match="masked"):
        content(masked_name="张小三")


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"number": " "}, "number"), ({"people_ahead": -1}, "negative"), ({"qr_payload": ""}, "QR")],
)
def test_bad_content_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        content(**changes)


def test_text_lines_for_the_screen() -> None:
    lines = render_text_lines(content())
    assert lines[:3] == ["某某县政务服务中心", "不动产登记（抵押、转移、变更）", "A012"]
    assert "您前面还有 7 人等候" in lines
    assert "预计等候约 25 分钟" in lines
    assert "姓名：张*三" in lines
    assert "取号时间：2025-03-04 09:31" in lines
    assert lines[-1] == "请留意叫号，过号需重新取号"
    assert "预计即将叫号" in render_text_lines(content(wait_minutes=0))


def test_long_service_names_wrap_without_a_line_starting_with_punctuation() -> None:
    font = load_font(find_cjk_font(), 38)
    lines = wrap("不动产登记（抵押、转移、变更）", font, 520)
    assert len(lines) == 2
    assert "".join(lines) == "不动产登记（抵押、转移、变更）"
    assert all(line and line[0] not in "）、，。" for line in lines)


def test_a_payload_too_long_for_the_paper_is_refused() -> None:
    assert len(qr_matrix(URL)) < 45
    with pytest.raises(ValueError, match="too long"):
        render_ticket(content(qr_payload="x" * 2000), 384)


def test_width_outside_the_config_range_is_refused() -> None:
    with pytest.raises(ValueError, match=r"200\.\.1024"):
        render_ticket(content(), 100)


def test_missing_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    find_cjk_font.cache_clear()
    monkeypatch.setattr(fonts, "CANDIDATES", (("/nonexistent/font.ttc", "Hei"),))
    try:
        with pytest.raises(FontNotFound, match="fonts-wqy-microhei"):
            find_cjk_font()
    finally:
        find_cjk_font.cache_clear()


def test_a_given_font_must_exist_and_have_hanzi() -> None:
    with pytest.raises(FontNotFound, match="does not exist"):
        find_cjk_font("/nonexistent/font.ttf")
    latin = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if latin.is_file():
        with pytest.raises(FontNotFound, match="no Chinese glyphs"):
            find_cjk_font(str(latin))
