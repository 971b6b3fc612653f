"""The kiosk presenter: screen state and flows, on the GUI thread, over ``KioskService``.

Widgets call the presenter's methods (a touch) and render what its signals carry (immutable
snapshots from ``kiosk.model``); they never see the service or a device. Everything that
may block — center calls, printing, argon2 — runs on a worker pool and comes back as a
queued call on the GUI thread; device callbacks arrive from the devices' threads the same
way. The flows:

    home ─ service ─▶ info ─ 取号 ─────────────▶ working ─▶ ticket | fallback | message
                        ├ 刷卡取号 / ID required ─▶ identify ─▶ working
                        └ 绿色通道 ─▶ green ─▶ (identify) ─▶ working
    home ─ 预约签到 ─▶ checkin (QR or ID card) ─▶ working
    home (elderly) ─ service ─▶ identify (skip allowed unless required) ─▶ working
    hall name ×5 ─▶ pin ─▶ admin (devices, test ticket, exit)

Any screen but home and working goes home after ``idle_ms`` without a touch.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kiosk.model import HomeModel, Identity, PrintOutcome
from kiosk.ports import CitizenCard, DeviceState, IdCardData
from kiosk.service import KioskRefusal, KioskService

log = logging.getLogger(__name__)

ELDERLY_AGE = 60
CARD_HOLD_S = 30.0
ADMIN_TAPS = 5
ADMIN_TAP_WINDOW_S = 3.0


class Screen(enum.Enum):
    """The kiosk's screens."""

    HOME = "home"
    INFO = "info"
    IDENTIFY = "identify"
    GREEN = "green"
    CHECKIN = "checkin"
    WORKING = "working"
    TICKET = "ticket"
    FALLBACK = "fallback"
    MESSAGE = "message"
    PIN = "pin"
    ADMIN = "admin"


PROMPTS = {
    Screen.HOME: "您好，请选择您要办理的业务",
    Screen.IDENTIFY: "请将身份证放在读卡区",
    Screen.CHECKIN: "请将预约二维码对准摄像头，或刷身份证",
    Screen.WORKING: "正在出票，请稍候",
    Screen.FALLBACK: "号票打印失败，请拍照记下屏幕上的号码",
}


class Purpose(enum.Enum):
    """Why the identify screen is shown."""

    TICKET = "ticket"
    CHECKIN = "checkin"


@dataclass(frozen=True)
class IdentifyModel:
    """The identify screen."""

    title: str
    prompt: str
    error: str
    allow_skip: bool
    citizen_card: bool
    """A citizen card reader is available."""
    hint: str = ""


class _Bridge(QObject):
    """Carries a callable to the GUI thread (queued when emitted from another thread)."""

    call = Signal(object)


class KioskPresenter(QObject):
    """Screen state and flows of one kiosk."""

    screen_changed = Signal(object)
    home_changed = Signal(object)
    info_changed = Signal(object)
    green_changed = Signal(object)
    identify_changed = Signal(object)
    ticket_changed = Signal(object)
    message_changed = Signal(str)
    working_changed = Signal(str)
    devices_changed = Signal(object)
    admin_message = Signal(str)
    pin_message = Signal(str)
    elderly_changed = Signal(bool)
    exit_requested = Signal()
    spoken = Signal(str)

    def __init__(
        self,
        service: KioskService,
        *,
        idle_ms: int | None = None,
        speaker: Any = None,
        refresh_ms: int = 30_000,
        poll_ms: int = 15_000,
        debounce_ms: int = 300,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.speaker = speaker
        self.screen = Screen.HOME
        self.elderly = False
        self.selected: str | None = None
        self.priority_class: str | None = None
        self.purpose = Purpose.TICKET
        self.identity: Identity | None = None
        self.last_outcome: PrintOutcome | None = None
        self.last_message = ""
        self.home_model: HomeModel = service.home()
        self.device_states: dict[str, DeviceState] = {}
        self._identify: IdentifyModel | None = None
        self._held: tuple[IdCardData | CitizenCard, float] | None = None
        self._taps: list[float] = []
        self._busy = False
        self._closed = False
        self._pending = 0
        self._bridge = _Bridge()
        self._bridge.call.connect(self._run_call)
        # Plain Python worker threads (one for the citizen's actions, one for background
        # refreshes); results come back through the bridge's queued signal.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="kiosk-action")
        self._bg = ThreadPoolExecutor(1, thread_name_prefix="kiosk-background")
        self.idle = QTimer(self, singleShot=True)
        self.idle.setInterval(idle_ms if idle_ms is not None else service.kiosk.idle_seconds * 1000)
        self.idle.timeout.connect(self._idle_timeout)
        self._refresh_timer = QTimer(self, interval=refresh_ms)
        self._refresh_timer.timeout.connect(self.refresh)
        self._poll_timer = QTimer(self, interval=poll_ms)
        self._poll_timer.timeout.connect(self.poll_devices)
        self._debounce = QTimer(self, singleShot=True, interval=debounce_ms)
        self._debounce.timeout.connect(self.refresh)

    # --- plumbing ------------------------------------------------------------------------

    @Slot(object)
    def _run_call(self, fn: Callable[[], None]) -> None:
        if not self._closed:
            fn()

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread (safe from any thread)."""
        self._bridge.call.emit(fn)

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        fn: Callable[[], Any],
        ok: Callable[[Any], None],
        fail: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._pending += 1

        def done(result: Any, exc: BaseException | None) -> None:
            def back() -> None:
                self._pending -= 1
                if exc is None:
                    ok(result)
                elif fail is not None:
                    fail(exc)
                else:
                    log.error("kiosk background task failed", exc_info=exc)

            self.post(back)

        def task() -> None:
            try:
                result = fn()
            except BaseException as exc:
                done(None, exc)
                return
            done(result, None)

        pool.submit(task)

    @property
    def pending(self) -> int:
        """Background tasks not yet finished (for tests)."""
        return self._pending

    def _show(self, screen: Screen) -> None:
        self.screen = screen
        if self.service.scanner is not None:
            if screen is Screen.CHECKIN:
                self.service.scanner.resume()
            else:
                self.service.scanner.pause()
        if screen in (Screen.HOME, Screen.WORKING):
            self.idle.stop()
        else:
            self.idle.start()
        self.screen_changed.emit(screen)
        prompt = PROMPTS.get(screen)
        if screen is Screen.TICKET and self.last_outcome is not None:
            from kiosk.speech import spell_number

            prompt = f"请取走您的号票，您的号码是{spell_number(self.last_outcome.ticket.number)}"
        if prompt:
            self.say(prompt)

    def say(self, text: str) -> None:
        """Speak ``text`` in elderly mode."""
        if not self.elderly:
            return
        self.spoken.emit(text)
        if self.speaker is not None:
            self.speaker.say(text)

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the devices, the center link and the timers; first refresh."""
        svc = self.service
        svc.center.start(lambda kind: self.post(self._debounce.start))
        if svc.id_reader is not None:
            svc.id_reader.start(
                lambda card: self.post(lambda: self._card(card)),
                lambda kind, prompt: self.post(lambda: self._card_error(kind, prompt)),
                lambda state: self.post(self._devices_now),
            )
        if svc.card_reader is not None:
            svc.card_reader.start(
                lambda card: self.post(lambda: self._card(card)),
                lambda kind, prompt: self.post(lambda: self._card_error(kind, prompt)),
                lambda state: self.post(self._devices_now),
            )
        if svc.scanner is not None:
            svc.scanner.start(lambda code: self.post(lambda: self._code(code)))
        self._refresh_timer.start()
        self._poll_timer.start()
        self.refresh()
        self.poll_devices()

    def shutdown(self) -> None:
        """Stop timers, wait for tasks, stop devices and the center link."""
        self._closed = True
        for timer in (self.idle, self._refresh_timer, self._poll_timer, self._debounce):
            timer.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._bg.shutdown(wait=True, cancel_futures=True)
        svc = self.service
        for device in (svc.scanner, svc.card_reader, svc.id_reader):
            if device is not None:
                device.stop()
        if svc.printer is not None:
            svc.printer.close()
        svc.center.stop()
        if self.speaker is not None:
            self.speaker.close()

    # --- home and status -----------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Refresh the hall status in the background."""
        self._submit(self._bg, self.service.refresh, self._home_ready)

    def _home_ready(self, model: HomeModel) -> None:
        self.home_model = model
        self.home_changed.emit(model)

    @Slot()
    def poll_devices(self) -> None:
        """Ask the printer and keep the center's lease topped up (background)."""

        def work() -> dict[str, DeviceState]:
            self.service.poll_printer()
            maintain = getattr(self.service.center, "maintain", None)
            if maintain is not None:
                maintain()
            return self.service.devices()

        self._submit(self._bg, work, self._devices_ready)

    def _devices_now(self) -> None:
        self._devices_ready(self.service.devices())

    def _devices_ready(self, states: dict[str, DeviceState]) -> None:
        self.device_states = states
        self.devices_changed.emit(states)

    def touch(self) -> None:
        """A citizen touched the screen: restart the idle timer."""
        if self.idle.isActive():
            self.idle.start()

    def _idle_timeout(self) -> None:
        if self.screen not in (Screen.HOME, Screen.WORKING):
            log.info("idle on %s: back home", self.screen.value)
            self.go_home()

    @Slot()
    def go_home(self) -> None:
        """Back to the home screen; forget the visit."""
        if self._busy:
            return
        self.selected = self.priority_class = self.identity = None
        self._identify = None
        self._show(Screen.HOME)

    def set_elderly(self, on: bool) -> None:
        """Switch elderly mode (larger text, fewer choices, spoken prompts)."""
        self.elderly = on
        self.elderly_changed.emit(on)
        if on:
            self.say(PROMPTS[Screen.HOME])

    # --- taking a ticket -----------------------------------------------------------------

    def choose_service(self, code: str) -> None:
        """A service tile was touched."""
        if self._busy:
            return
        tile = self.home_model.tile(code)
        if tile is not None and not tile.enabled:
            self._message(tile.note or "此业务暂停取号")
            return
        self.selected, self.priority_class, self.identity = code, None, None
        if self.elderly:
            self._begin_identify(Purpose.TICKET, allow_skip=not tile.id_required if tile else True)
            return
        self.info_changed.emit(self.service.info(code))
        self._show(Screen.INFO)

    def take_ticket(self) -> None:
        """取号 on the info screen."""
        if self.selected is None or self._busy:
            return
        if self.service.service(self.selected).id_required:
            self._begin_identify(Purpose.TICKET, allow_skip=False)
        else:
            self._take(None)

    def identify(self) -> None:
        """刷卡取号 on the info screen: the citizen chooses to identify."""
        if self.selected is not None:
            self._begin_identify(Purpose.TICKET, allow_skip=False)

    def green_channel(self) -> None:
        """绿色通道 on the info screen."""
        if self.selected is None:
            return
        self.green_changed.emit(self.service.green_classes(self.selected))
        self._show(Screen.GREEN)

    def choose_green(self, priority_class: str) -> None:
        """A green-channel class was chosen."""
        if self.selected is None:
            return
        self.priority_class = priority_class
        if self.service.service(self.selected).id_required:
            self._begin_identify(Purpose.TICKET, allow_skip=False)
        else:
            self._take(None)

    def skip_identify(self) -> None:
        """不刷卡，直接取号 (where the service allows it)."""
        if self._identify is not None and self._identify.allow_skip:
            self._take(None)

    def _begin_identify(self, purpose: Purpose, *, allow_skip: bool) -> None:
        self.purpose = purpose
        card_reader = self.service.card_reader
        citizen = card_reader is not None and card_reader.state().available
        hint = "刷身份证可享老年人优先（绿色通道）" if self.elderly and allow_skip else ""
        self._identify = IdentifyModel(
            "身份识别",
            "请将居民身份证放在读卡区" + ("，或刷市民卡" if citizen else ""),
            "",
            allow_skip,
            citizen,
            hint,
        )
        self.identify_changed.emit(self._identify)
        self._show(Screen.IDENTIFY)
        held, self._held = self._held, None
        if held is not None and time.monotonic() - held[1] <= CARD_HOLD_S:
            self._card(held[0])

    def _card(self, card: IdCardData | CitizenCard) -> None:
        if self.screen not in (Screen.IDENTIFY, Screen.CHECKIN) or self._busy:
            self._held = (card, time.monotonic())
            return
        try:
            identity = (
                self.service.identify_id_card(card)
                if isinstance(card, IdCardData)
                else self.service.identify_citizen_card(card)
            )
        except KioskRefusal as exc:
            self._card_error("refused", exc.zh)
            return
        self.identity = identity
        if self.screen is Screen.CHECKIN or self.purpose is Purpose.CHECKIN:
            self._work(lambda: self.service.print(self.service.check_in_identity(identity)))
            return
        old = identity.age is not None and identity.age >= ELDERLY_AGE
        if self.elderly and old and self.selected is not None and self.priority_class is None:
            self.priority_class = self.service.elderly_class(self.selected)
        self._take(identity)

    def _card_error(self, kind: str, prompt: str) -> None:
        log.info("card error on %s: %s", self.screen.value, kind)
        if self.screen is Screen.IDENTIFY and self._identify is not None:
            self._identify = IdentifyModel(
                self._identify.title,
                self._identify.prompt,
                prompt,
                self._identify.allow_skip,
                self._identify.citizen_card,
                self._identify.hint,
            )
            self.identify_changed.emit(self._identify)
            self.say(prompt)
            self.idle.start()
        elif self.screen is Screen.CHECKIN:
            self._message(prompt)

    def _take(self, identity: Identity | None) -> None:
        code, priority = self.selected, self.priority_class
        if code is None:
            return
        self._work(lambda: self.service.take(code, identity, priority))

    # --- appointments --------------------------------------------------------------------

    def check_in(self) -> None:
        """预约签到 on the home screen."""
        if self._busy:
            return
        self.purpose = Purpose.CHECKIN
        self.selected = None
        self._show(Screen.CHECKIN)
        held, self._held = self._held, None
        if held is not None and time.monotonic() - held[1] <= CARD_HOLD_S:
            self._card(held[0])

    def _code(self, text: str) -> None:
        if self.screen is not Screen.CHECKIN or self._busy:
            return
        self._work(lambda: self.service.print(self.service.check_in_code(text)))

    # --- results -------------------------------------------------------------------------

    def _work(self, fn: Callable[[], PrintOutcome]) -> None:
        self._busy = True
        self.working_changed.emit("正在出票，请稍候…")
        self._show(Screen.WORKING)
        self._submit(self._pool, fn, self._done, self._failed)

    def _done(self, outcome: PrintOutcome) -> None:
        self._busy = False
        self.last_outcome = outcome
        self.ticket_changed.emit(outcome)
        self._show(Screen.TICKET if outcome.printed else Screen.FALLBACK)
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, KioskRefusal):
            self._message(exc.zh)
        else:
            log.error("issuing a ticket failed", exc_info=exc)
            self._message("暂时无法取号，请到服务台咨询")

    def _message(self, text: str) -> None:
        self.last_message = text
        self.message_changed.emit(text)
        self._show(Screen.MESSAGE)
        self.say(text)

    # --- admin ---------------------------------------------------------------------------

    def admin_tap(self) -> None:
        """The hall name was touched: five times within three seconds opens the PIN pad."""
        now = time.monotonic()
        self._taps = [t for t in self._taps if now - t <= ADMIN_TAP_WINDOW_S] + [now]
        if len(self._taps) >= ADMIN_TAPS and not self._busy:
            self._taps.clear()
            self.pin_message.emit("请输入管理员密码")
            self._show(Screen.PIN)

    def submit_pin(self, pin: str) -> None:
        """Check an admin PIN (argon2, in the background)."""
        if self.screen is not Screen.PIN:
            return

        def checked(ok: bool) -> None:
            if ok:
                self._show(Screen.ADMIN)
                self._devices_now()
                self.poll_devices()
            else:
                self.pin_message.emit("密码错误")

        def refused(exc: BaseException) -> None:
            self.pin_message.emit(exc.zh if isinstance(exc, KioskRefusal) else "无法验证密码")

        self._submit(self._pool, lambda: self.service.check_admin(pin), checked, refused)

    def print_test(self) -> None:
        """Print a test ticket (admin screen)."""
        if self.screen is not Screen.ADMIN:
            return

        def done(outcome: PrintOutcome) -> None:
            self.admin_message.emit(
                "测试票已打印" if outcome.printed else f"测试票未打印：{outcome.fault}"
            )
            self._devices_now()

        self._submit(self._pool, self.service.test_ticket, done)

    def exit_kiosk(self) -> None:
        """Leave kiosk mode (admin screen only)."""
        if self.screen is Screen.ADMIN:
            log.info("kiosk exit requested by an administrator")
            self.exit_requested.emit()
