"""Thin adapters from the ``devices/`` packages to the kiosk's ports (``kiosk.ports``).

Each adapter is the one place that knows a driver's own classes and signatures, and turns
its errors into the kiosk's (``Unreachable``, ``Refused``, ``PrintFailure``) and its state
into a ``DeviceState``. Driver modules are imported when an adapter is built or started,
never at import time, so the kiosk starts without a device stack it does not use.

What each one relies on:

* ``ClientCenter``: ``devices.client`` — ``CenterClient`` (``hall_status``, ``check_in``,
  ``check_in_person``),
  ``KioskTickets`` (``issue``, ``refill``, ``sync``), ``LeaseStore`` (``remaining``,
  ``unsynced``), ``Outbox`` (``fault``, ``recovery``, ``start``), ``EventStream``.
* ``EscposPrinter``: ``devices.printer.driver.TicketPrinter`` (``from_config``,
  ``print_ticket``, ``status``) and its ``PaperOut``/``PrinterOffline``/``PrinterError``.
* ``GaT467Reader``: ``devices.idcard.service.IdCardService`` and ``devices.idcard.errors``.
* ``CameraScanner``: ``devices.camera.qr.QrScanner`` (``start``, ``pause``, ``resume``).
* ``PcscCitizenCards``: ``devices.citizencard.monitor.CitizenCardMonitor`` (``start``,
  ``stop``, ``snapshot``; ``CardEvent``/``CardEventKind``), ``CitizenCardConfig`` and
  ``CardIdentity.key``, ``devices.citizencard.errors`` (``prompt``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from devices.client import (
    CenterClient,
    CenterRefused,
    CenterUnreachable,
    KioskTickets,
    LeaseStore,
    NoLease,
    NotAuthorized,
    Outbox,
    RetryPolicy,
)
from devices.client.client import Person
from devices.client.models import HallStatus, Ticket
from kiosk.ports import (
    CitizenCard,
    DeviceState,
    IdCardData,
    PrintFailure,
    Refused,
    Unreachable,
)

log = logging.getLogger(__name__)

EVENT_KINDS = ("ticket.", "window.", "lease.")


class ClientCenter:
    """The center through ``devices.client``: HTTP calls, lease, outbox and event stream."""

    def __init__(
        self,
        base_url: str,
        token: str,
        state_dir: Path,
        lease_services: Sequence[str],
        *,
        timeout: float = 2.0,
        attempts: int = 2,
        stream: bool = True,
        lease_size: int = 5,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.base_url = base_url
        self.client = CenterClient(
            base_url,
            token,
            timeout=timeout,
            retry=RetryPolicy(attempts=attempts, base_seconds=0.05, cap_seconds=0.5),
        )
        self.leases = (
            LeaseStore(state_dir / "leases.db", clock=clock)
            if clock is not None
            else LeaseStore(state_dir / "leases.db")
        )
        self.tickets = KioskTickets(self.client, self.leases, lease_services, lease_size=lease_size)
        self.outbox = Outbox(state_dir / "outbox.db", self.client, idle_seconds=2.0)
        self._stream: Any = None
        if stream:
            from devices.client.stream import EventStream

            self._stream = EventStream(
                base_url, token, position=state_dir / "stream-position.json", kinds=EVENT_KINDS
            )
        self._online: bool | None = None
        self._problem = ""
        self._lock = threading.Lock()
        self._upkeep: threading.Thread | None = None

    def _note(self, ok: bool, problem: str = "") -> None:
        with self._lock:
            if ok != self._online:
                log.info("center %s%s", "reachable" if ok else "unreachable: ", problem)
            self._online, self._problem = ok, problem

    def hall_status(self) -> HallStatus:
        """Queues per service now; Unreachable if the center does not answer."""
        try:
            status = self.client.hall_status()
        except (CenterUnreachable, NotAuthorized) as exc:
            self._note(False, str(exc))
            raise Unreachable(str(exc)) from None
        self._note(True)
        return status

    def issue(self, service: str, *, priority_class: str | None, person: Any | None) -> Ticket:
        """A ticket from the center, or from the lease while it is unreachable."""
        try:
            ticket = self.tickets.issue(service, priority_class=priority_class, person=person)
        except NotAuthorized as exc:
            self._note(False, str(exc))
            raise Unreachable(str(exc)) from None
        except CenterRefused as exc:
            self._note(True)
            raise Refused(exc.message, exc.zh, exc.code) from None
        except (CenterUnreachable, NoLease) as exc:
            self._note(False, str(exc))
            raise Unreachable(str(exc)) from None
        self._note(not ticket.offline, "issued offline" if ticket.offline else "")
        return ticket

    def check_in(self, code: str) -> Ticket:
        """A ticket for the appointment ``code``."""
        return self._checked_in(lambda: self.client.check_in(code))

    def check_in_person(self, person: Person) -> Ticket:
        """A ticket for ``person``'s appointment of today (found by the ID number)."""
        return self._checked_in(lambda: self.client.check_in_person(person))

    def _checked_in(self, call: Callable[[], Ticket]) -> Ticket:
        try:
            ticket = call()
        except NotAuthorized as exc:
            raise Unreachable(str(exc)) from None
        except CenterRefused as exc:
            self._note(True)
            raise Refused(exc.message, exc.zh, exc.code) from None
        except CenterUnreachable as exc:
            self._note(False, str(exc))
            raise Unreachable(str(exc)) from None
        self._note(True)
        return ticket

    def report_fault(self, code: str, message: str, detail: dict[str, Any]) -> None:
        """Queue a fault report on disk (delivered in order when the center answers)."""
        self.outbox.fault(code, message, **detail)

    def report_recovery(self, code: str, message: str) -> None:
        """Queue the end of a fault."""
        self.outbox.recovery(code, message)

    def maintain(self) -> None:
        """Send tickets issued offline and top up the lease (needs the center)."""
        try:
            self.tickets.sync()
            self.tickets.refill()
        except (CenterUnreachable, NotAuthorized) as exc:
            self._note(False, str(exc))
            return
        except CenterRefused as exc:
            log.warning("center refused lease upkeep: %s", exc.message)
            return
        self._note(True)

    def link(self) -> DeviceState:
        """Reachable or not, the event stream, offline tickets not yet synced."""
        with self._lock:
            online, problem = self._online, self._problem
        stream = self._stream.status if self._stream is not None else None
        pending = len(self.leases.unsynced())
        leased = sum(self.leases.remaining(s) for s in self.tickets.services)
        parts = [f"{pending} offline tickets to sync", f"{leased} leased numbers left"]
        if stream is not None:
            parts.append(f"event stream {stream.state.value}")
        if problem:
            parts.append(problem)
        live = stream is not None and stream.available
        if online is None and not live:
            return DeviceState(False, "unknown", "; ".join(parts))
        ok = bool(online) or (online is None and live)
        state = ("live" if live else "online") if ok else "offline"
        return DeviceState(ok, state, "; ".join(parts))

    def start(self, on_event: Callable[[str], None]) -> None:
        """Start the outbox, the event stream and a first lease top-up (in the background)."""
        self.outbox.start()
        if self._stream is not None:
            self._stream.start(lambda event: on_event(event.kind))
        self._upkeep = threading.Thread(target=self.maintain, name="kiosk-lease", daemon=True)
        self._upkeep.start()

    def stop(self) -> None:
        """Stop background work and close the files."""
        if self._stream is not None:
            self._stream.stop()
        if self._upkeep is not None:
            self._upkeep.join(timeout=10)
        self.outbox.close()
        self.leases.close()
        self.client.close()


class EscposPrinter:
    """The ESC/POS ticket printer through ``devices.printer.driver.TicketPrinter``."""

    def __init__(self, printer_cfg: Any, options: Any = None) -> None:
        from devices.printer.driver import TicketPrinter

        self.printer = TicketPrinter.from_config(printer_cfg, options)

    def print_ticket(self, image: Any) -> int:
        """Print once; bytes written; PrintFailure when not surely printed."""
        from devices.printer.driver import PaperOut, PrinterError, PrinterOffline

        try:
            result = self.printer.print_ticket(image)
        except PaperOut as exc:
            raise PrintFailure(
                str(exc), "printer.paper_out", exc.status.state.value, sent=exc.sent
            ) from None
        except PrinterOffline as exc:
            raise PrintFailure(
                str(exc), "printer.offline", exc.status.state.value, sent=exc.sent
            ) from None
        except PrinterError as exc:
            raise PrintFailure(
                str(exc), "printer.failed", exc.status.state.value, sent=exc.sent
            ) from None
        except Exception as exc:  # a driver bug must not leave the citizen without a ticket
            log.exception("printer driver failed")
            raise PrintFailure(str(exc), "printer.failed", "error", sent=True) from None
        return int(result.bytes_sent)

    def status(self) -> DeviceState:
        """Ask the printer now (DLE EOT)."""
        st = self.printer.status()
        return DeviceState(st.available, st.state.value, st.detail)

    def close(self) -> None:
        """Close the link."""
        self.printer.close()


def _error_kind(exc: Exception) -> str:
    from devices.idcard import errors

    for cls, kind in (
        (errors.CardExpired, "expired"),
        (errors.CardRemoved, "removed"),
        (errors.UnsupportedCard, "unsupported"),
        (errors.BadChecksum, "checksum"),
        (errors.ReaderFault, "fault"),
        (errors.ReaderTimeout, "fault"),
    ):
        if isinstance(exc, cls):
            return kind
    return "error"


class GaT467Reader:
    """The resident ID card reader through ``devices.idcard.service.IdCardService``."""

    def __init__(
        self,
        url: str,
        baudrate: int = 115200,
        *,
        timing: Any = None,
        poll_s: float = 0.5,
        reopen_s: float = 2.0,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timing = timing
        self.poll_s = poll_s
        self.reopen_s = reopen_s
        self.today = today
        self._service: Any = None

    def start(
        self,
        on_card: Callable[[IdCardData], None],
        on_error: Callable[[str, str], None],
        on_state: Callable[[DeviceState], None],
    ) -> None:
        """Open the reader on its own thread and report cards."""
        from devices.idcard.service import IdCardService

        def card(c: Any) -> None:
            on_card(IdCardData(c.name, c.id_number, c.birth, c.valid_to))

        def error(exc: Any) -> None:
            on_error(_error_kind(exc), str(exc.prompt))

        def state(s: Any) -> None:
            on_state(DeviceState(bool(s.available), s.state.value, s.error))

        self._service = IdCardService(
            self.url,
            self.baudrate,
            on_card=card,
            on_error=error,
            on_state=state,
            timing=self.timing,
            poll_s=self.poll_s,
            reopen_s=self.reopen_s,
            today=self.today,
        )
        self._service.start()

    def stop(self) -> None:
        """Stop the thread and close the port."""
        if self._service is not None:
            self._service.stop()
            self._service = None

    def state(self) -> DeviceState:
        """The latest snapshot (no I/O)."""
        if self._service is None:
            return DeviceState(False, "stopped")
        snap = self._service.snapshot
        return DeviceState(bool(snap.available), snap.state.value, snap.error)


class CameraScanner:
    """The appointment QR camera through ``devices.camera.qr.QrScanner``."""

    def __init__(self, spec: str, *, max_rate: float = 5.0) -> None:
        self.spec = spec
        self.max_rate = max_rate
        self._scanner: Any = None

    def start(self, on_code: Callable[[str], None]) -> None:
        """Open the camera paused (a thread decodes only while resumed)."""
        from devices.camera.qr import QrScanner

        self._scanner = QrScanner(self.spec, on_code=on_code, max_rate=self.max_rate)
        self._scanner.pause()
        self._scanner.start()

    def resume(self) -> None:
        """Decode frames."""
        if self._scanner is not None:
            self._scanner.resume()

    def pause(self) -> None:
        """Decode nothing."""
        if self._scanner is not None:
            self._scanner.pause()

    def stop(self) -> None:
        """Release the camera."""
        if self._scanner is not None:
            self._scanner.stop()
            self._scanner = None

    def state(self) -> DeviceState:
        """The scanner's state (no I/O)."""
        if self._scanner is None:
            return DeviceState(False, "stopped")
        s = self._scanner
        return DeviceState(s.state.value in ("running", "ended"), s.state.value, s.error)


class PcscCitizenCards:
    """The citizen card reader through ``devices.citizencard.monitor.CitizenCardMonitor``.

    Watches the PC/SC readers whose name contains ``reader_name`` (``Kiosk.card_reader``).
    An inserted card is reported as a ``CitizenCard`` keyed by ``CardIdentity.key``
    (``uid:<hex>``…) with no ID number: a UID says which card, not who holds it. A card that
    cannot be read gives ``on_error("read_failed", prompt)``; PC/SC going away or coming
    back gives ``on_state``. ``smartcard`` is imported by ``devices.citizencard`` only.
    """

    def __init__(
        self,
        reader_name: str,
        *,
        aid: bytes | None = None,
        file_id: bytes | None = None,
        field: tuple[int, int] | None = None,
        poll_s: float = 0.2,
        retry_s: float = 1.0,
    ) -> None:
        self.reader_name = reader_name
        self.aid, self.file_id, self.field = aid, file_id, field
        self.poll_s = poll_s
        self.retry_s = retry_s
        self._monitor: Any = None
        self._problem = ("starting", "")

    def start(
        self,
        on_card: Callable[[CitizenCard], None],
        on_error: Callable[[str, str], None],
        on_state: Callable[[DeviceState], None],
    ) -> None:
        """Start the monitor thread (it retries on its own while PC/SC is unavailable)."""
        from devices.citizencard.errors import CitizenCardError, NoReader
        from devices.citizencard.monitor import CardEvent, CardEventKind, CitizenCardMonitor
        from devices.citizencard.reader import CitizenCardConfig

        def event(ev: CardEvent) -> None:
            if ev.kind is CardEventKind.INSERTED and ev.identity is not None:
                on_card(CitizenCard(ev.identity.key))
            elif ev.kind is CardEventKind.READ_FAILED:
                on_error("read_failed", (ev.error or CitizenCardError()).prompt)
            elif ev.kind is CardEventKind.UNAVAILABLE:
                word = "no_reader" if isinstance(ev.error, NoReader) else "no_service"
                self._problem = (word, str(ev.error or ""))
                on_state(self.state())
            elif ev.kind is CardEventKind.AVAILABLE:
                self._problem = ("", "")
                on_state(self.state())

        config = CitizenCardConfig(
            aid=self.aid, file_id=self.file_id, field=self.field, reader_name=self.reader_name
        )
        self._monitor = CitizenCardMonitor(event, config, poll_s=self.poll_s, retry_s=self.retry_s)
        self._monitor.start()

    def stop(self) -> None:
        """Stop the monitor and release the PC/SC context."""
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None

    def state(self) -> DeviceState:
        """The monitor's snapshot (no I/O): ``ready``, ``card_present`` or why not."""
        if self._monitor is None:
            return DeviceState(False, "stopped")
        snap = self._monitor.snapshot
        if not snap.available:
            word, detail = self._problem
            return DeviceState(False, word or "starting", detail or snap.error)
        readers = ", ".join(snap.readers)
        return DeviceState(True, "card_present" if snap.cards else "ready", f"readers: {readers}")
