"""The kiosk's backend, behind the presenter: no Qt, blocking calls, one object per kiosk.

``KioskService`` turns the hall config, the center (``CenterPort``) and the devices
(``kiosk.ports``) into what the screens need: the home screen's tiles, a service's
published facts, identities (masked), tickets issued exactly once and printed at most once,
with the on-screen fallback when the printer cannot print, faults reported to the center,
the admin PIN check and a snapshot of every device.

Every method may block (center calls, printer I/O, argon2): the presenter runs them off the
GUI thread. Personal data is never logged; identities are shown masked (张*三).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from config.schema import HallConfig, Kiosk, Service
from devices import personal
from devices.client.client import Person
from devices.client.models import HallStatus, ServiceStatus, Ticket
from kiosk.model import (
    HomeModel,
    Identity,
    IssuedTicket,
    PrintOutcome,
    ServiceInfo,
    ServiceTile,
    TileGroup,
    TileState,
)
from kiosk.ports import (
    CardReaderPort,
    CenterPort,
    CitizenCard,
    DeviceState,
    IdCardData,
    IdReaderPort,
    PrinterPort,
    PrintFailure,
    Refused,
    ScannerPort,
    Unreachable,
)

log = logging.getLogger(__name__)

PLAIN_CODE = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
SIGNED_PREFIX = "hallq1."
OFFLINE_QR = "{number} {service_name}"
"""What the QR code of a ticket without a rating link holds (issued offline from a lease)."""
PAPER_LOW = "printer.paper_low"
PIN_LOCK_AFTER = 5
PIN_LOCK_SECONDS = 60.0
OFFLINE_REFUSAL = "网络繁忙，暂时无法取号，请稍候再试或到服务台咨询"
FALLBACK_MESSAGE = "号票打印失败，请拍照记下您的号码和二维码，或到另一台取号机取号"
SECTION_TITLES = (
    ("conditions", "办理条件"),
    ("materials", "申请材料"),
    ("process", "办理流程"),
    ("time_limit", "办理时限"),
    ("fees", "收费标准"),
    ("legal_basis", "设定依据"),
    ("place", "办理地点"),
    ("supervisor", "监督机构"),
    ("complaint_phone", "投诉电话"),
)


class KioskRefusal(Exception):
    """The kiosk cannot do what the citizen asked; ``zh`` says why, for the screen."""

    def __init__(self, zh: str, code: str = "refused") -> None:
        super().__init__(zh)
        self.zh = zh
        self.code = code


def _minutes(seconds: float | None) -> int | None:
    return None if seconds is None else max(0, math.ceil(seconds / 60))


def _running_out(svc: Service, st: ServiceStatus) -> bool:
    """True once the day's issued count reaches the service's warning level."""
    if not svc.daily_warning or not svc.daily_max:
        return False
    return svc.daily_max - st.remaining_today >= svc.daily_warning


def age_on(birth: dt.date | None, today: dt.date) -> int | None:
    """Full years of age on ``today``."""
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class KioskService:
    """Everything the kiosk screens ask for, in plain blocking calls."""

    def __init__(
        self,
        cfg: HallConfig,
        kiosk: Kiosk,
        center: CenterPort,
        *,
        printer: PrinterPort | None = None,
        id_reader: IdReaderPort | None = None,
        card_reader: CardReaderPort | None = None,
        scanner: ScannerPort | None = None,
        appointment_keys: Sequence[bytes] = (),
        center_url: str | None = None,
        ticket_url: str = OFFLINE_QR,
        render: Callable[[Any, int], Any] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.cfg = cfg
        self.kiosk = kiosk
        self.center = center
        self.printer = printer
        self.id_reader = id_reader
        self.card_reader = card_reader
        self.scanner = scanner
        self.appointment_keys = list(appointment_keys)
        self.center_url = center_url.rstrip("/") if center_url else None
        """The center's address as citizens' phones reach it: ticket QR codes point below it."""
        self.ticket_url = ticket_url
        """The QR of a ticket without a rating link: a template with ``{hall}``, ``{day}``,
        ``{number}``, ``{service}`` and ``{service_name}``."""
        self.tz = ZoneInfo(cfg.hall.timezone)
        self._render = render
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()
        self._status: HallStatus | None = None
        self._stale = True
        self._printer_state = DeviceState(printer is not None, "unknown", "not asked yet")
        self._faults: set[str] = set()
        self._pin_failures = 0
        self._pin_locked_until = 0.0
        codes = kiosk.services or [s.code for s in cfg.services]
        self.services: list[Service] = [cfg.services_by_code[c] for c in codes]

    # --- home ----------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """Hall local time."""
        return self._clock().astimezone(self.tz)

    def refresh(self) -> HomeModel:
        """Ask the center for the queues; on no answer keep the last figures (stale)."""
        try:
            status = self.center.hall_status()
        except Unreachable as exc:
            log.info("hall status not refreshed: %s", exc)
            with self._lock:
                self._stale = True
        else:
            with self._lock:
                self._status, self._stale = status, False
        return self.home()

    def home(self) -> HomeModel:
        """The home screen from the last known status (no I/O)."""
        with self._lock:
            status, stale = self._status, self._stale
        by_code = {s.code: s for s in status.services} if status else {}
        open_now = status.open_for_tickets if status else True
        groups: list[TileGroup] = []
        for cls, cls_name in self.cfg.window_classes.items():
            tiles = tuple(
                self._tile(svc, by_code.get(svc.code), open_now, status)
                for svc in self.services
                if svc.window_class == cls
            )
            if tiles:
                groups.append(TileGroup(cls, cls_name, tiles))
        return HomeModel(
            self.cfg.hall.name,
            open_now,
            status.notice if status else "",
            tuple(groups),
            status.at.astimezone(self.tz) if status else None,
            stale,
        )

    def _tile(
        self, svc: Service, st: ServiceStatus | None, open_now: bool, status: HallStatus | None
    ) -> ServiceTile:
        state, note = TileState.OPEN, ""
        if not open_now:
            state, note = TileState.CLOSED, (status.notice if status else "") or "暂停取号"
        elif st is not None and st.remaining_today <= 0:
            state, note = TileState.FULL, "今日号源已取完"
        elif svc.id_required:
            note = "需刷身份证取号"
        elif st is not None and _running_out(svc, st):
            note = f"号源紧张，剩余 {st.remaining_today} 个"
        if state is TileState.OPEN and st is not None and st.open_windows == 0 and not note:
            note = "窗口暂未开放，可先取号等候"
        return ServiceTile(
            svc.code,
            svc.name,
            svc.window_class,
            st.waiting if st else None,
            _minutes(st.wait_seconds) if st else None,
            state,
            note,
            svc.id_required,
            svc.appointments,
        )

    def service(self, code: str) -> Service:
        """The configured service ``code`` offered here; KioskRefusal if not."""
        for svc in self.services:
            if svc.code == code:
                return svc
        raise KioskRefusal("本机不办理此业务", "not_offered")

    # --- published facts -----------------------------------------------------------------

    def info(self, code: str) -> ServiceInfo:
        """The service's 八公开/十公开 texts, with defaults from the config where empty."""
        svc = self.service(code)
        pub = svc.info
        sections: list[tuple[str, str]] = []
        for key, title in SECTION_TITLES:
            value: Any = getattr(pub, key)
            if key == "materials":
                text = "\n".join(f"{i}. {m}" for i, m in enumerate(value, 1))
            elif key == "time_limit" and not value:
                text = self._default_time_limit(svc)
            elif key == "place" and not value:
                text = self._default_place(svc)
            else:
                text = str(value)
            if text:
                sections.append((title, text))
        return ServiceInfo(
            svc.code,
            svc.name,
            svc.department,
            svc.item_type,
            tuple(sections),
            svc.id_required,
            tuple(self.green_classes(code)),
        )

    @staticmethod
    def _default_time_limit(svc: Service) -> str:
        parts = []
        if svc.promised_days is not None:
            parts.append(
                "即时办结" if svc.promised_days == 0 else f"承诺{svc.promised_days}个工作日"
            )
        if svc.statutory_days:
            parts.append(f"法定{svc.statutory_days}个工作日")
        return "，".join(parts)

    def _default_place(self, svc: Service) -> str:
        names = [w.name for w in self.cfg.windows if svc.code in w.services]
        return "、".join(names)

    def green_classes(self, code: str) -> list[tuple[str, str]]:
        """Green-channel classes a citizen may choose for ``code`` (hall policy)."""
        if not self.service(code).green_channel:
            return []
        return [(c, pc.name) for c, pc in self.cfg.priority.classes.items() if pc.kiosk]

    def elderly_class(self, code: str) -> str | None:
        """The green-channel class elderly mode uses for ``code``, if the policy allows one."""
        classes = dict(self.green_classes(code))
        return "elderly" if "elderly" in classes else None

    # --- identification ------------------------------------------------------------------

    def identify_id_card(self, card: IdCardData) -> Identity:
        """An identity from a resident ID card (the driver already refused expired cards)."""
        today = self.now().date()
        if card.valid_to is not None and card.valid_to < today:
            raise KioskRefusal("身份证已过期，请使用有效证件", "expired")
        log.info("ID card identified: %s", personal.fingerprint(card.id_number))
        return Identity(
            "idcard",
            personal.mask_name(card.name),
            personal.mask_id_number(card.id_number),
            age_on(card.birth, today),
            Person(card.id_number, card.name),
        )

    def identify_citizen_card(self, card: CitizenCard) -> Identity:
        """An identity from a citizen card.

        A card that gave its holder's ID number stands for that person at the center. A card
        known only by its key (its UID) identifies the visit at this kiosk alone: the center's
        API has no field for a card, so nothing of it is sent or stored, the ticket is
        issued as an anonymous one, and services that need an ID card are refused.
        """
        log.info("citizen card identified: %s", personal.fingerprint(card.card_key))
        masked_name = personal.mask_name(card.name) if card.name else ""  # none on the ticket
        if not card.id_number:
            return Identity("citizencard", masked_name, "", None, None)
        return Identity(
            "citizencard",
            masked_name,
            personal.mask_id_number(card.id_number),
            None,
            Person(card.id_number, card.name),
        )

    # --- tickets -------------------------------------------------------------------------

    def issue(
        self, code: str, identity: Identity | None = None, priority_class: str | None = None
    ) -> IssuedTicket:
        """Take a ticket (from the center, or the lease while it is unreachable)."""
        svc = self.service(code)
        tile = self.home().tile(code)
        if tile is not None and not tile.enabled:
            raise KioskRefusal(tile.note or "此业务暂停取号", tile.state.value)
        person = identity.person if identity is not None else None
        if svc.id_required and person is None:
            raise KioskRefusal("此业务需刷居民身份证取号", "id_required")
        if priority_class is not None and priority_class not in dict(self.green_classes(code)):
            raise KioskRefusal("此业务不提供该绿色通道，请咨询工作人员", "priority")
        try:
            ticket = self.center.issue(code, priority_class=priority_class, person=person)
        except Refused as exc:
            raise KioskRefusal(exc.zh, exc.code) from None
        except Unreachable:
            raise KioskRefusal(OFFLINE_REFUSAL, "offline") from None
        priority = self.cfg.priority.classes.get(priority_class or "")
        return self._issued(
            ticket,
            (identity.masked_name or None) if identity is not None else None,
            priority.name if priority is not None else None,
        )

    def _issued(
        self,
        ticket: Ticket,
        masked_name: str | None,
        priority: str | None,
        appointment: bool = False,
    ) -> IssuedTicket:
        with self._lock:
            known = {s.code: s for s in self._status.services} if self._status else {}
        st = known.get(ticket.service)
        ahead = ticket.ahead if ticket.ahead is not None else (st.waiting if st else 0)
        wait = (
            ticket.wait_seconds if ticket.ahead is not None else (st.wait_seconds if st else None)
        )
        issued_at = ticket.issued_at.astimezone(self.tz)
        name = ticket.service_name
        if name == ticket.service and ticket.service in self.cfg.services_by_code:
            name = self.cfg.services_by_code[ticket.service].name
        qr = self._qr(ticket, name, issued_at.date())
        return IssuedTicket(
            ticket.number,
            ticket.service,
            name,
            issued_at,
            int(ahead),
            _minutes(wait),
            ticket.offline,
            qr,
            masked_name,
            priority,
            appointment,
        )

    def _qr(self, ticket: Ticket, service_name: str, day: dt.date) -> str:
        """The ticket's QR code: its status and rating page at the center, or (issued offline
        from a lease, so without a rating link) just its number and service."""
        if ticket.rating_path and self.center_url:
            return self.center_url + ticket.rating_path
        return self.ticket_url.format(
            hall=self.cfg.hall.code,
            day=day.isoformat(),
            number=ticket.number,
            service=ticket.service,
            service_name=service_name,
        )

    def check_in_code(self, text: str) -> IssuedTicket:
        """A ticket for the appointment whose QR code says ``text``."""
        code = self._appointment_code(text.strip())
        try:
            ticket = self.center.check_in(code)
        except Refused as exc:
            raise KioskRefusal(exc.zh, exc.code) from None
        except Unreachable:
            raise KioskRefusal(
                "网络繁忙，预约暂时无法签到，请稍候再试或到咨询台办理", "offline"
            ) from None
        return self._issued(ticket, None, "预约", appointment=True)

    def _appointment_code(self, text: str) -> str:
        """What to send the center for the scanned ``text``.

        A signed code goes to the center whole (the center checks it again and looks up the
        appointment). With keys of its own the kiosk first checks the signature and expiry,
        refusing a forged or expired code without a call; without keys it leaves that to
        the center.
        """
        from devices.camera.appointment import AppointmentCodeError, NotAnAppointmentCode, verify

        if text.startswith(SIGNED_PREFIX):
            if not self.appointment_keys:
                return text
            try:
                verify(text, self.appointment_keys, self._clock())
            except AppointmentCodeError as exc:
                log.info("appointment code refused: %s", type(exc).__name__)
                raise KioskRefusal(exc.citizen_message, "appointment_code") from None
            return text
        if PLAIN_CODE.match(text):
            return text
        raise KioskRefusal(NotAnAppointmentCode.citizen_message, "appointment_code")

    def check_in_identity(self, identity: Identity) -> IssuedTicket:
        """Check in the identified citizen's appointment of today."""
        if identity.person is None:  # a citizen card known only by its UID
            raise KioskRefusal("请刷居民身份证或出示预约二维码签到", "unsupported")
        try:
            ticket = self.center.check_in_person(identity.person)
        except Refused as exc:
            raise KioskRefusal(exc.zh, exc.code) from None
        except Unreachable:
            raise KioskRefusal(
                "网络繁忙，预约暂时无法签到，请稍候再试或到咨询台办理", "offline"
            ) from None
        return self._issued(ticket, identity.masked_name or None, "预约", appointment=True)

    # --- printing ------------------------------------------------------------------------

    def ticket_image(self, ticket: IssuedTicket, width: int | None = None) -> Any:
        """The ticket as the printer prints it (1-bit image)."""
        from devices.ticket.render import render_ticket

        content = self._content(ticket)
        dots = width or (self.kiosk.printer.width_dots if self.kiosk.printer else 576)
        if self._render is not None:
            return self._render(content, dots)
        return render_ticket(content, dots)

    def _content(self, ticket: IssuedTicket) -> Any:
        from devices.ticket.render import DEFAULT_NOTES, TicketContent

        notes: tuple[str, ...] = DEFAULT_NOTES
        if ticket.priority_name and not ticket.appointment:
            notes = (f"绿色通道：{ticket.priority_name}", *DEFAULT_NOTES)
        elif ticket.appointment:
            notes = ("预约签到", *DEFAULT_NOTES)
        return TicketContent(
            self.cfg.hall.name,
            ticket.number,
            ticket.service_name,
            ticket.ahead,
            ticket.wait_minutes,
            ticket.issued_at.replace(tzinfo=None),
            ticket.qr_payload,
            ticket.masked_name,
            notes,
        )

    def text_lines(self, ticket: IssuedTicket) -> tuple[str, ...]:
        """The ticket as text lines (for the on-screen fallback)."""
        from devices.ticket.render import render_text_lines

        return tuple(render_text_lines(self._content(ticket)))

    def print(self, ticket: IssuedTicket) -> PrintOutcome:
        """Print ``ticket`` once; on any failure the outcome says to show it on screen."""
        lines = self.text_lines(ticket)
        if self.printer is None:
            self._fault("printer.missing", "no ticket printer configured", {})
            return PrintOutcome(ticket, False, "printer.missing", FALLBACK_MESSAGE, lines)
        try:
            written = self.printer.print_ticket(self.ticket_image(ticket))
        except PrintFailure as exc:
            log.warning("ticket %s not printed: %s", ticket.number, exc)
            self._printer_state = DeviceState(False, exc.state, str(exc))
            self._fault(exc.code, str(exc), {"state": exc.state, "sent": exc.sent})
            return PrintOutcome(ticket, False, exc.code, FALLBACK_MESSAGE, lines)
        self._printer_ok()
        return PrintOutcome(ticket, True, None, "请取走您的号票", lines, written)

    def take(
        self, code: str, identity: Identity | None = None, priority_class: str | None = None
    ) -> PrintOutcome:
        """Issue a ticket and print it (what one touch of "取号" does)."""
        return self.print(self.issue(code, identity, priority_class))

    def test_ticket(self) -> PrintOutcome:
        """Print a test ticket from the admin screen (no number is issued)."""
        now = self.now()
        qr = self.ticket_url.format(
            hall=self.cfg.hall.code,
            day=now.date().isoformat(),
            number="TEST",
            service="test",
            service_name="打印测试",
        )
        ticket = IssuedTicket("测试", "test", "打印测试", now, 0, None, False, qr)
        return self.print(ticket)

    # --- faults and device status --------------------------------------------------------

    def _fault(self, code: str, message: str, detail: dict[str, Any]) -> None:
        if code in self._faults:
            return
        self._faults.add(code)
        text = " ".join(message.split())[:200]
        try:
            self.center.report_fault(code, text, {"kiosk": self.kiosk.name, **detail})
        except Exception:
            log.exception("could not queue the fault report %s", code)

    def _recover(self, prefix: str, keep: frozenset[str] = frozenset()) -> None:
        for code in sorted(c for c in self._faults if c.startswith(prefix) and c not in keep):
            self._faults.discard(code)
            try:
                self.center.report_recovery(code, "recovered")
            except Exception:
                log.exception("could not queue the recovery report %s", code)

    def _printer_ok(self, paper_low: bool | None = None) -> None:
        """The printer printed or says it can: end its faults (paper low only when known)."""
        keep = frozenset() if paper_low is False else frozenset({PAPER_LOW})
        self._recover("printer.", keep)
        if paper_low:
            self._fault(PAPER_LOW, "paper near end", {})

    @property
    def active_faults(self) -> set[str]:
        """Fault codes reported and not yet recovered (``printer.paper_out``…)."""
        return set(self._faults)

    def poll_printer(self) -> DeviceState:
        """Ask the printer (bounded I/O); report a fault or its end on a change."""
        if self.printer is None:
            self._printer_state = DeviceState(False, "missing", "no printer configured")
            return self._printer_state
        state = self.printer.status()
        self._printer_state = state
        if state.available:
            self._printer_ok(paper_low=state.state == "paper_low")
        else:
            self._fault(f"printer.{state.state}", state.detail or state.state, {})
        return state

    def devices(self) -> dict[str, DeviceState]:
        """Every device and the center link, for the admin screen (no I/O)."""
        missing = DeviceState(False, "missing", "not configured")
        return {
            "printer": self._printer_state if self.printer else missing,
            "id_reader": self.id_reader.state() if self.id_reader else missing,
            "card_reader": self.card_reader.state() if self.card_reader else missing,
            "camera": self.scanner.state() if self.scanner else missing,
            "center": self.center.link(),
        }

    # --- admin ---------------------------------------------------------------------------

    def check_admin(self, pin: str) -> bool:
        """True if ``pin`` is an administrator's (argon2); locks after repeated failures."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        if time.monotonic() < self._pin_locked_until:
            raise KioskRefusal("密码错误次数过多，请稍后再试", "locked")
        hasher = PasswordHasher()
        for staff in self.cfg.staff:
            if staff.role != "admin":
                continue
            try:
                if hasher.verify(staff.pin_hash, pin):
                    self._pin_failures = 0
                    log.info("admin %s unlocked the kiosk", staff.number)
                    return True
            except (VerificationError, InvalidHashError):
                continue
        self._pin_failures += 1
        log.warning("wrong admin PIN at the kiosk (%d in a row)", self._pin_failures)
        if self._pin_failures >= PIN_LOCK_AFTER:
            self._pin_locked_until = time.monotonic() + PIN_LOCK_SECONDS
            self._pin_failures = 0
        return False
