"""Typed schema of a hall: one TOML file (plus includes) validated once at start.

Every model forbids unknown keys and is frozen: the running hall reads its
configuration, it never edits it. Cross-references between sections (a window
naming a service, a post naming a staff member) are checked by
``config.validate.cross_check`` so that each error carries its exact key path.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,24}$")]
StaffNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2,16}$")]
Prefix = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,2}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=4000)]

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _time_of_day(value: object) -> object:
    """Accept a TOML time or ``"HH:MM[:SS]"`` text, never a number (pydantic reads seconds)."""
    if isinstance(value, dt.time):
        return value
    found = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if found:
        hour, minute, second = found.groups()
        try:
            return dt.time(int(hour), int(minute), int(second or 0))
        except ValueError:
            pass
    raise PydanticCustomError("time_of_day", "Input should be a time like 09:00")


TimeOfDay = Annotated[dt.time, BeforeValidator(_time_of_day)]

DEFAULT_WINDOW_CLASSES: dict[str, str] = {
    "general": "通办窗口",
    "theme": "主题窗口",
    "specialist": "专业窗口",
    "undifferentiated": "无差别综合窗口",
    "comprehensive": "综合窗口",
    "issue": "发证窗口",
}

DEFAULT_CASE_KINDS: dict[str, str] = {
    "immediate": "即办件",
    "promised": "承诺件",
    "joint": "联办件",
    "referred": "上报件",
    "urgent": "急办件",
    "returned": "退回件",
    "awaiting_documents": "补办件",
}


class Strict(BaseModel):
    """Base for every config model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Hall(Strict):
    """Identity of the hall."""

    code: Code
    name: Text
    timezone: str = "Asia/Shanghai"
    day_boundary: TimeOfDay = dt.time(3, 0)
    """The hall day (and every service's ticket numbering) starts at this local time."""


class Session(Strict):
    """One opening session of a day, e.g. the morning before the lunch break."""

    start: TimeOfDay
    end: TimeOfDay


class Hours(Strict):
    """Business hours and the calendar the hall keeps."""

    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = [1, 2, 3, 4, 5]
    sessions: list[Session] = Field(
        default_factory=lambda: [
            Session(start=dt.time(9, 0), end=dt.time(12, 0)),
            Session(start=dt.time(13, 30), end=dt.time(17, 30)),
        ],
        min_length=1,
    )
    last_ticket_minutes: Annotated[int, Field(ge=0, le=240)] = 0
    """Stop issuing tickets this many minutes before a session ends."""
    holiday_calendar: Literal["cn", "none"] = "cn"
    """``cn``: the State Council's holidays and make-up days (chinese-calendar)."""
    closed_days: list[dt.date] = []
    """Extra closed days, and holidays of a year the calendar package does not know yet."""
    open_days: list[dt.date] = []
    """Extra working days (make-up weekend days, 调休) the package does not know yet."""
    calendar_years: list[Annotated[int, Field(ge=2000, le=2100)]] = []
    """Years whose official schedule is entered above by hand: deadlines in them are final."""


class Publication(Strict):
    """The published facts of a service (八公开 / 十公开), shown at the kiosk."""

    conditions: LongText = ""
    materials: list[Text] = []
    legal_basis: LongText = ""
    process: LongText = ""
    time_limit: LongText = ""
    fees: LongText = ""
    place: LongText = ""
    supervisor: LongText = ""
    complaint_phone: Annotated[str, StringConstraints(max_length=40)] = ""


class Service(Strict):
    """A queue a ticket is taken for (业务类别), mapped to one or more service items."""

    code: Code
    name: Text
    prefix: Prefix
    window_class: Code
    department: str = ""
    item_type: str = "行政许可"
    number_digits: Annotated[int, Field(ge=2, le=4)] = 3
    daily_max: Annotated[int, Field(ge=1, le=9999)] | None = None
    daily_warning: Annotated[int, Field(ge=1, le=9999)] | None = None
    """Issued-today count at which kiosks say numbers are running out and supervisors are warned."""
    appointments: bool = False
    id_required: bool = False
    per_person_daily: Annotated[int, Field(ge=1, le=50)] | None = None
    green_channel: bool = True
    expected_minutes: Annotated[float, Field(gt=0, le=480)] = 10.0
    """Handling time assumed for wait estimates until real service times are known."""
    promised_days: Annotated[int, Field(ge=0, le=365)] | None = None
    statutory_days: Annotated[int, Field(ge=0, le=365)] | None = None
    case_kinds: list[Code] = []
    """Case kinds a window may register for this service; empty means all."""
    info: Publication = Publication()


class Posts(Strict):
    """A/B posts of a window: the primary (A) and its backups (B)."""

    a: StaffNumber
    b: list[StaffNumber] = []


class Window(Strict):
    """A service counter."""

    number: Annotated[int, Field(ge=1, le=999)]
    name: Text
    window_class: Code
    services: list[Code] = Field(min_length=1)
    """Services this window calls, in order of precedence."""
    selection: Literal["precedence", "oldest"] = "precedence"
    """``precedence``: empty the first service before the next; ``oldest``: oldest ticket first."""
    posts: Posts | None = None
    tidal: bool = False


class Staff(Strict):
    """A clerk, supervisor or administrator."""

    number: StaffNumber
    name: Text
    role: Literal["staff", "supervisor", "admin"] = "staff"
    pin_hash: Annotated[str, StringConstraints(pattern=r"^\$argon2(id|i|d)\$")]
    department: str = ""


class PriorityClass(Strict):
    """A green-channel class (绿色通道) and the head start it is given."""

    name: Text
    head_start_minutes: Annotated[float, Field(ge=0, le=240)]
    kiosk: bool = True
    """May the citizen choose this class at the kiosk (else staff or guides assign it)."""


def _default_priority_classes() -> dict[str, PriorityClass]:
    return {
        "elderly": PriorityClass(name="老年人", head_start_minutes=20),
        "disabled": PriorityClass(name="残疾人", head_start_minutes=20),
        "veteran": PriorityClass(name="军人", head_start_minutes=20),
        "pregnant": PriorityClass(name="孕妇", head_start_minutes=20),
        "urgent": PriorityClass(name="急办件", head_start_minutes=45, kiosk=False),
    }


class Priority(Strict):
    """How the next ticket is chosen (see docs/queueing.md)."""

    classes: dict[Code, PriorityClass] = Field(default_factory=_default_priority_classes)
    priority_per_regular: Annotated[int, Field(ge=1, le=20)] = 3
    """N:1 interleave: at most N priority calls in a row at a window while regular tickets wait."""
    appointment_early_minutes: Annotated[int, Field(ge=0, le=240)] = 15
    appointment_late_minutes: Annotated[int, Field(ge=0, le=240)] = 15
    transfer_position: Literal["keep", "front"] = "keep"
    """A transferred ticket keeps its original take time, or goes to the front of its new queue."""
    no_show_requeue_minutes: Annotated[int, Field(ge=0, le=480)] = 30
    """A no-show may be put back in the queue once within this many minutes (0: never)."""
    requeue_position: Literal["keep", "end"] = "keep"


class Evaluation(Strict):
    """Ratings (好差评)."""

    invite_timeout_seconds: Annotated[int, Field(ge=5, le=3600)] = 60
    followup: Literal["qr", "sms", "none"] = "qr"
    """How a visit that was not rated at the window is followed up."""
    rectify_days: Annotated[int, Field(ge=1, le=60)] = 5
    """Working days to rectify a bad rating."""


class Printer(Strict):
    """A kiosk's ESC/POS ticket printer."""

    transport: Literal["serial", "usb", "network", "file"]
    target: Text
    """Serial port path, ``vid:pid``, ``host:port`` or a file path."""
    baud: int = 9600
    width_dots: Annotated[int, Field(ge=200, le=1024)] = 576


class Kiosk(Strict):
    """A self-service ticket kiosk."""

    name: Code
    orientation: Literal["portrait", "landscape"] = "portrait"
    services: list[Code] = []
    """Services offered here; empty means all."""
    printer: Printer | None = None
    id_reader: str | None = None
    """Port URL of the resident ID card (GA/T 467) reader."""
    card_reader: str | None = None
    """PC/SC reader name (prefix) for citizen cards."""
    camera: str | None = None
    """Camera index, video file or image sequence for appointment QR codes."""
    idle_seconds: Annotated[int, Field(ge=5, le=600)] = 60


class BusDevice(Strict):
    """A device on an RS-485 bus."""

    address: Annotated[int, Field(ge=1, le=247)]
    kind: Literal["window_strip", "hall_board", "evaluator", "keypad"]
    protocol: Literal["hallbus", "vendor68", "ledchain"] = "hallbus"
    model: str = "hallq"
    window: Annotated[int, Field(ge=1, le=999)] | None = None
    lines: Annotated[int, Field(ge=1, le=16)] = 2


class Bus(Strict):
    """One RS-485 bus: a port URL (``/dev/ttyUSB0``, ``socket://…``, ``loop://``) and its devices."""

    name: Code
    port: Text
    baud: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    devices: list[BusDevice] = []


class Devices(Strict):
    """Kiosks and serial buses."""

    kiosks: list[Kiosk] = []
    buses: list[Bus] = []


class Voice(Strict):
    """Spoken calls."""

    enabled: bool = True
    template: Text = "请{number}号到{window}号窗口办理"
    repeat: Annotated[int, Field(ge=1, le=5)] = 2
    voice: str = "cmn-latn-pinyin"
    speed: Annotated[int, Field(ge=80, le=300)] = 140


class Security(Strict):
    """Where the key that protects personal data at rest comes from."""

    data_key_env: str = "HALLQ_DATA_KEY"
    data_key_file: str | None = None
    """Path (relative to the config file) of a file holding the base64 key."""


class HallConfig(Strict):
    """A whole hall."""

    hall: Hall
    hours: Hours = Hours()
    window_classes: dict[Code, Text] = Field(default_factory=lambda: dict(DEFAULT_WINDOW_CLASSES))
    case_kinds: dict[Code, Text] = Field(default_factory=lambda: dict(DEFAULT_CASE_KINDS))
    services: list[Service] = Field(min_length=1)
    windows: list[Window] = Field(min_length=1)
    staff: list[Staff] = []
    priority: Priority = Priority()
    evaluation: Evaluation = Evaluation()
    devices: Devices = Devices()
    voice: Voice = Voice()
    security: Security = Security()

    @cached_property
    def services_by_code(self) -> dict[str, Service]:
        """Services keyed by code."""
        return {s.code: s for s in self.services}

    @cached_property
    def windows_by_number(self) -> dict[int, Window]:
        """Windows keyed by number."""
        return {w.number: w for w in self.windows}

    @cached_property
    def staff_by_number(self) -> dict[str, Staff]:
        """Staff keyed by staff number (工号)."""
        return {s.number: s for s in self.staff}
