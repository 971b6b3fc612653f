"""The ticket (号票) as a 1-bit image ``width_dots`` wide, and the same content as text lines.

Pure: no printer, no clock. The ticket is drawn with a CJK font of the kiosk's, so every
ESC/POS printer prints the same Chinese ticket whatever code pages it has (hardware-notes:
python-escpos sends CJK text as raw GB18030; printers differ). Layout, top to bottom: hall
name, service, the number (as large as fits), people ahead, estimated wait, masked name,
time taken, the QR code (ticket status and rating page), its caption and the notes.

Sizes scale with ``width_dots``: 576 dots is 72 mm at 203 dpi (80 mm paper), 384 dots is
48 mm (58 mm paper). 1 dot ≈ 0.125 mm, so a QR module of 6 dots is 0.75 mm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import qrcode
from PIL import Image, ImageDraw, ImageFont

from devices.ticket.fonts import FontChoice, find_cjk_font, load_font

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in dots."""

DEFAULT_NOTES = ("请留意叫号，过号需重新取号",)
DEFAULT_QR_CAPTION = "扫码查看排队进度，办结后请评价"
REFERENCE_WIDTH = 576
MIN_QR_MODULE = 3
"""Dots per QR module: below 3 (0.375 mm) phones struggle with thermal print."""


@dataclass(frozen=True)
class TicketContent:
    """What a ticket says. Personal data arrives already masked."""

    hall_name: str
    number: str
    service_name: str
    people_ahead: int
    wait_minutes: int | None
    issued_at: dt.datetime
    """Shown as is (hall local time): the caller converts."""
    qr_payload: str
    """The URL of the ticket's status and rating page."""
    masked_name: str | None = None
    """张*三 when the person was identified; must contain '*'."""
    notes: tuple[str, ...] = DEFAULT_NOTES
    qr_caption: str = DEFAULT_QR_CAPTION

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise ValueError("a ticket needs a number")
        if self.people_ahead < 0:
            raise ValueError("people_ahead cannot be negative")
        if not self.qr_payload:
            raise ValueError("a ticket needs a QR payload")
        if self.masked_name is not None and "*" not in self.masked_name:
            # A full name on paper left in the hall is a leak; refuse rather than print it.
            raise ValueError("masked_name must be masked (张*三), not a full name")


@dataclass(frozen=True)
class TextLine:
    """One line of the ticket, with its role (for the screen) and relative size."""

    role: str
    text: str
    size: int
    """Font size in dots at 576 dots wide."""


def ticket_lines(content: TicketContent) -> list[TextLine]:
    """The ticket's text lines, top to bottom, without the QR code."""
    lines = [
        TextLine("hall", content.hall_name, 34),
        TextLine("service", content.service_name, 38),
        TextLine("number", content.number, 220),
        TextLine("ahead", f"您前面还有 {content.people_ahead} 人等候", 30),
    ]
    if content.wait_minutes is not None:
        wait = (
            f"预计等候约 {content.wait_minutes} 分钟"
            if content.wait_minutes > 0
            else "预计即将叫号"
        )
        lines.append(TextLine("wait", wait, 30))
    if content.masked_name:
        lines.append(TextLine("name", f"姓名：{content.masked_name}", 28))
    lines.append(TextLine("time", f"取号时间：{content.issued_at:%Y-%m-%d %H:%M}", 26))
    return lines


def render_text_lines(content: TicketContent) -> list[str]:
    """The ticket as plain lines, for a screen when the printer cannot print."""
    lines = [line.text for line in ticket_lines(content)]
    lines.append(content.qr_caption)
    lines.extend(content.notes)
    return lines


@dataclass
class RenderedTicket:
    """The ticket image and where its parts are (for tests and previews)."""

    image: Image.Image
    boxes: dict[str, Box] = field(default_factory=dict)
    qr_module_dots: int = 0


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR modules of ``payload``, quiet zone (4 modules) included; True is dark."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(payload)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_image(payload: str, module_dots: int) -> Image.Image:
    """The QR code as an 'L' image, ``module_dots`` per module."""
    matrix = qr_matrix(payload)
    n = len(matrix)
    small = Image.new("L", (n, n), 255)
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    return small.resize((n * module_dots, n * module_dots), Image.Resampling.NEAREST)


NO_LINE_START = "）)］]】》」』，,。.、；;：:！!？?…·%％"
"""Closing punctuation never starts a line (禁则): it takes the previous character along."""


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Greedy wrap to ``width`` dots; CJK breaks anywhere, so any character may break."""
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and font.getlength(current + ch) > width:
            carry = ""
            if ch in NO_LINE_START and len(current) > 1:
                current, carry = current[:-1], current[-1]
            lines.append(current.rstrip())
            current = (carry + ch).lstrip()
        else:
            current += ch
    if current or not lines:
        lines.append(current)
    return lines


class _Canvas:
    """A tall white page drawn top to bottom, cropped at the end."""

    def __init__(self, width: int, font: FontChoice) -> None:
        self.width = width
        self.scale = width / REFERENCE_WIDTH
        self.margin = max(8, round(16 * self.scale))
        self.font = font
        self.image = Image.new("L", (width, 6 * width), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = self.margin
        self.boxes: dict[str, Box] = {}

    def _grow(self, needed: int) -> None:
        if self.y + needed > self.image.height:
            bigger = Image.new("L", (self.width, self.image.height * 2 + needed), 255)
            bigger.paste(self.image, (0, 0))
            self.image = bigger
            self.draw = ImageDraw.Draw(self.image)

    def _mark(self, role: str, box: Box) -> None:
        old = self.boxes.get(role)
        if old is not None:
            box = (
                min(old[0], box[0]),
                min(old[1], box[1]),
                max(old[2], box[2]),
                max(old[3], box[3]),
            )
        self.boxes[role] = box

    def text(self, role: str, text: str, size: int, *, gap: int = 6) -> None:
        """Centred text, wrapped to the width."""
        font = load_font(self.font, max(12, round(size * self.scale)))
        usable = self.width - 2 * self.margin
        line_height = round(font.size * 1.25)
        for line in wrap(text, font, usable):
            self._grow(line_height)
            x = self.width / 2
            self.draw.text((x, self.y), line, font=font, fill=0, anchor="mt")
            left, top, right, bottom = self.draw.textbbox((x, self.y), line, font=font, anchor="mt")
            self._mark(role, (int(left), int(top), int(right), int(bottom)))
            self.y += line_height
        self.y += round(gap * self.scale)

    def number(self, text: str, size: int) -> None:
        """The ticket number: as large as fits the width, with a stroke for weight."""
        usable = self.width - 2 * self.margin
        px = max(24, round(size * self.scale))
        while True:
            font = load_font(self.font, px)
            stroke = max(1, px // 40)
            left, top, right, bottom = (int(v) for v in font.getbbox(text, stroke_width=stroke))
            if right - left <= usable or px <= 24:
                break
            px = int(px * 0.92)
        height = bottom - top
        self._grow(height + 2 * self.margin)
        x = (self.width - (right - left)) / 2 - left
        y = self.y - top
        self.draw.text((x, y), text, font=font, fill=0, stroke_width=stroke, stroke_fill=0)
        self._mark("number", (int(x + left), self.y, int(x + right), self.y + height))
        self.y += height + self.margin

    def rule(self) -> None:
        """A horizontal line across the ticket."""
        thickness = max(2, round(2 * self.scale))
        self._grow(thickness + self.margin)
        self.draw.rectangle(
            (self.margin, self.y, self.width - self.margin, self.y + thickness - 1), fill=0
        )
        self.y += thickness + round(self.margin * 0.75)

    def qr(self, payload: str) -> int:
        """The QR code, centred, about half the width; returns dots per module."""
        modules = len(qr_matrix(payload))
        module = max(MIN_QR_MODULE, int(self.width * 0.5) // modules)
        picture = qr_image(payload, module)
        if picture.width > self.width:
            raise ValueError(
                f"QR payload too long for a {self.width}-dot ticket ({modules} modules)"
            )
        self._grow(picture.height)
        x = (self.width - picture.width) // 2
        self.image.paste(picture, (x, self.y))
        self._mark("qr", (x, self.y, x + picture.width, self.y + picture.height))
        self.y += picture.height
        return module

    def finish(self) -> Image.Image:
        """The used part of the page as a 1-bit image (threshold, no dithering)."""
        self.y += self.margin
        used = self.image.crop((0, 0, self.width, self.y))
        return used.convert("1", dither=Image.Dither.NONE)


def render_ticket_layout(
    content: TicketContent, width_dots: int = REFERENCE_WIDTH, *, font: FontChoice | None = None
) -> RenderedTicket:
    """The ticket image (mode '1', ``width_dots`` wide) and the boxes of its parts."""
    if not 200 <= width_dots <= 1024:
        raise ValueError(f"width_dots must be 200..1024, not {width_dots}")
    canvas = _Canvas(width_dots, font or find_cjk_font())
    lines = ticket_lines(content)
    for line in lines:
        if line.role == "number":
            canvas.number(line.text, line.size)
        else:
            canvas.text(line.role, line.text, line.size)
        if line.role == "hall":
            canvas.rule()
    module = canvas.qr(content.qr_payload)
    canvas.text("caption", content.qr_caption, 24)
    if content.notes:
        canvas.rule()
        for note in content.notes:
            canvas.text("notes", note, 24, gap=2)
    return RenderedTicket(canvas.finish(), canvas.boxes, module)


def render_ticket(
    content: TicketContent, width_dots: int = REFERENCE_WIDTH, *, font: FontChoice | None = None
) -> Image.Image:
    """The ticket as a 1-bit image ``width_dots`` wide, ready for ``TicketPrinter``."""
    return render_ticket_layout(content, width_dots, font=font).image
