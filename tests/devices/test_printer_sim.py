"""TicketPrinter against the simulated printer, over TCP (escpos Network) and a pty (Serial).

The contract under test: a ticket is sent at most once; whenever it is not surely printed a
typed PrinterError says so, with the stage (before/after sending) and whether bytes were
sent; what the printer put on paper decodes back to the ticket and its QR code.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops

from config.schema import Printer
from devices.printer.driver import (
    PaperOut,
    PrinterOffline,
    PrinterOptions,
    PrintFailed,
    Stage,
    TicketPrinter,
    encode_job,
)
from devices.printer.sim import PtyPrinterSim, SimPrinter, TcpPrinterSim
from devices.printer.status import PaperLevel, PrinterState
from devices.printer.stream import Kind, decode_all
from devices.printer.transport import parse_target
from devices.ticket.render import TicketContent, render_ticket

cv2 = pytest.importorskip("cv2")

URL = "https://hall.example.gov.cn/t/7c1d09aa42"
FAST = PrinterOptions(reply_timeout_s=0.3, job_timeout_s=3.0, poll_s=0.1, probe_timeout_s=0.5)


@pytest.fixture(scope="module")
def ticket() -> Image.Image:
    content = TicketContent(
        hall_name="某某县政务服务中心",
        number="B107",
        service_name="社会保障卡",
        people_ahead=3,
        wait_minutes=12,
        issued_at=dt.datetime(2025, 3, 4, 14, 5),
        qr_payload=URL,
    )
    return render_ticket(content, 576)


@dataclass
class Rig:
    """A simulated printer and a TicketPrinter connected to it."""

    sim: SimPrinter
    printer: TicketPrinter
    transport: str


@pytest.fixture(params=["network", "serial"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    sim = SimPrinter()
    front: TcpPrinterSim | PtyPrinterSim = (
        TcpPrinterSim(sim) if request.param == "network" else PtyPrinterSim(sim)
    )
    with front:
        config = Printer(transport=request.param, target=front.target, baud=115200)
        printer = TicketPrinter.from_config(config, FAST)
        yield Rig(sim, printer, request.param)
        printer.close()


def decode_qr(image: Image.Image) -> str:
    text, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(np.array(image.convert("L")))
    return str(text)


def cuts_received(sim: SimPrinter) -> int:
    commands, _ = decode_all(bytes(sim.received))
    return sum(c.kind is Kind.CUT for c in commands)


def test_a_ticket_is_printed_cut_and_its_qr_decodes_from_the_paper(
    rig: Rig, ticket: Image.Image
) -> None:
    assert rig.printer.open().state is PrinterState.READY
    result = rig.printer.print_ticket(ticket)
    assert result.confirmed
    assert result.status.state is PrinterState.READY
    assert rig.printer.available
    [job] = rig.sim.jobs
    assert job.cut and not job.interrupted
    assert job.commands == ["GS v 0", "ESC d", "GS V"]
    printed = job.image()
    assert printed.size == ticket.size
    assert ImageChops.difference(printed.convert("L"), ticket.convert("L")).getbbox() is None
    assert decode_qr(printed) == URL


def test_paper_out_before_printing_sends_nothing(rig: Rig, ticket: Image.Image) -> None:
    rig.sim.run_out_of_paper()
    with pytest.raises(PaperOut) as caught:
        rig.printer.print_ticket(ticket)
    assert caught.value.stage is Stage.BEFORE
    assert not caught.value.sent
    assert caught.value.status.state is PrinterState.PAPER_OUT
    assert not rig.printer.available
    assert rig.sim.jobs == []
    commands, _ = decode_all(bytes(rig.sim.received))
    assert {c.kind for c in commands} == {Kind.REALTIME_STATUS}


def test_paper_running_out_while_printing_is_reported_after(rig: Rig, ticket: Image.Image) -> None:
    """GIVEN 300 dot rows of paper left WHEN a ~840-row ticket is printed THEN PaperOut is
    raised after sending, the job is flagged interrupted and uncut, and nothing is resent."""
    rig.sim.run_out_of_paper(after_dots=300)
    with pytest.raises(PaperOut) as caught:
        rig.printer.print_ticket(ticket)
    assert caught.value.stage is Stage.AFTER
    assert caught.value.sent
    [job] = rig.sim.jobs
    assert job.interrupted and not job.cut
    assert job.image().height == 300
    assert cuts_received(rig.sim) == 1


def test_offline_printer_is_refused_before_sending(rig: Rig, ticket: Image.Image) -> None:
    rig.sim.go_offline()
    with pytest.raises(PrinterOffline) as caught:
        rig.printer.print_ticket(ticket)
    assert caught.value.stage is Stage.BEFORE and not caught.value.sent
    assert caught.value.status.state is PrinterState.COVER_OPEN
    assert rig.sim.jobs == []


def test_switched_off_printer_is_offline_then_prints_once_restored(
    rig: Rig, ticket: Image.Image
) -> None:
    changes: list[PrinterState] = []
    rig.printer.on_change = lambda status: changes.append(status.state)
    rig.printer.open()
    rig.sim.power_off()
    with pytest.raises(PrinterOffline) as caught:
        rig.printer.print_ticket(ticket)
    assert caught.value.status.state is PrinterState.NO_REPLY
    assert not caught.value.sent
    assert rig.printer.state is PrinterState.NO_REPLY
    rig.sim.restore()
    assert rig.printer.status().state is PrinterState.READY
    rig.printer.print_ticket(ticket)
    assert len(rig.sim.jobs) == 1 and rig.sim.jobs[0].cut
    assert cuts_received(rig.sim) == 1
    assert changes == [PrinterState.READY, PrinterState.NO_REPLY, PrinterState.READY]


def test_near_end_still_prints_and_says_so(rig: Rig, ticket: Image.Image) -> None:
    rig.sim.set_near_end()
    result = rig.printer.print_ticket(ticket)
    assert result.confirmed
    assert result.status.state is PrinterState.PAPER_LOW
    assert result.status.paper is PaperLevel.NEAR_END
    assert rig.printer.available


def test_cover_opened_while_printing_is_offline_after(rig: Rig, ticket: Image.Image) -> None:
    """GIVEN a printer whose cover opens mid-job (buffered data waits) THEN PrinterOffline after."""
    original = rig.sim.feed

    def open_on_raster(data: bytes) -> None:
        if len(data) > 8:  # the ticket itself (status queries and the probe are 3 bytes)
            rig.sim.go_offline()
        original(data)

    rig.sim.feed = open_on_raster  # type: ignore[method-assign]
    with pytest.raises(PrinterOffline) as caught:
        rig.printer.print_ticket(ticket)
    assert caught.value.stage is Stage.AFTER and caught.value.sent
    assert caught.value.status.state is PrinterState.COVER_OPEN
    assert rig.sim.jobs == [] and rig.sim.buffered > 0  # waiting in the buffer, not printed
    assert rig.printer.confirms_jobs is True  # the probe was answered before the cover opened


def test_a_printer_without_gs_r_prints_unconfirmed() -> None:
    sim = SimPrinter(answers_gs_r=False)
    image = Image.new("1", (64, 16), 1)
    with TcpPrinterSim(sim) as front:
        printer = TicketPrinter.from_config(Printer(transport="network", target=front.target), FAST)
        with printer:
            first = printer.print_ticket(image)
            second = printer.print_ticket(image)
    assert not first.confirmed and not second.confirmed
    assert first.status.state is PrinterState.READY
    assert [job.cut for job in sim.jobs] == [True, True]


def test_a_confirmation_that_never_comes_is_a_failure_not_a_reprint() -> None:
    """GIVEN a printer that answered the probe but stops processing its buffer (and keeps
    answering DLE EOT as online) THEN PrintFailed after the job timeout, sent once."""
    sim = SimPrinter()
    image = Image.new("1", (64, 16), 1)
    options = PrinterOptions(reply_timeout_s=0.3, job_timeout_s=0.6, poll_s=0.1, confirm_jobs=True)
    with TcpPrinterSim(sim) as front:
        printer = TicketPrinter.from_config(
            Printer(transport="network", target=front.target), options
        )
        printer.open()
        sim._run = lambda: None  # type: ignore[method-assign]  # the buffer is stuck
        with pytest.raises(PrintFailed, match="did not confirm") as caught:
            printer.print_ticket(image)
        printer.close()
    assert caught.value.stage is Stage.AFTER and caught.value.sent
    assert caught.value.status.state is PrinterState.READY
    assert sim.buffered > 0 and cuts_received(sim) == 1


def test_file_transport_appends_and_cannot_check(tmp_path: Path, ticket: Image.Image) -> None:
    target = tmp_path / "kiosk.prn"
    printer = TicketPrinter.from_config(Printer(transport="file", target=str(target)))
    with printer:
        assert printer.state is PrinterState.UNCHECKED and printer.available
        one = printer.print_ticket(ticket)
        printer.print_ticket(ticket)
    assert not one.confirmed and one.status.state is PrinterState.UNCHECKED
    job = encode_job(ticket, 576)
    assert target.read_bytes() == job + job
    with TicketPrinter.from_config(Printer(transport="file", target=str(target))) as again:
        again.print_ticket(ticket)
    assert target.read_bytes() == job * 3  # reopening appends, never truncates


def test_unreachable_network_printer_is_no_reply() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = PrinterOptions(connect_timeout_s=0.5, reply_timeout_s=0.2)
    printer = TicketPrinter.from_config(
        Printer(transport="network", target=f"127.0.0.1:{port}"), options
    )
    status = printer.open()
    assert status.state is PrinterState.NO_REPLY
    assert "127.0.0.1" in status.detail
    with pytest.raises(PrinterOffline) as caught:
        printer.print_ticket(Image.new("1", (64, 8), 1))
    assert caught.value.stage is Stage.BEFORE and not caught.value.sent


def test_missing_serial_port_is_no_reply(tmp_path: Path) -> None:
    printer = TicketPrinter.from_config(
        Printer(transport="serial", target=str(tmp_path / "ttyUSB9")), FAST
    )
    status = printer.status()
    assert status.state is PrinterState.NO_REPLY
    assert "ttyUSB9" in status.detail


def test_an_image_wider_than_the_paper_is_refused_before_any_io() -> None:
    with pytest.raises(ValueError, match="wide"):
        encode_job(Image.new("1", (640, 8), 1), 576)


@pytest.mark.parametrize(
    ("transport", "target", "expected"),
    [
        ("network", "192.168.1.50", ("192.168.1.50", 9100)),
        ("network", "printer.local:9101", ("printer.local", 9101)),
        ("network", "[::1]:9100", ("::1", 9100)),
        ("usb", "0416:5011", (0x0416, 0x5011)),
        ("usb", "0x04b8:0x0e15", (0x04B8, 0x0E15)),
    ],
)
def test_targets(transport: str, target: str, expected: tuple[object, object]) -> None:
    spec = parse_target(transport, target)
    got = (spec.host, spec.port) if transport == "network" else (spec.vendor_id, spec.product_id)
    assert got == expected


@pytest.mark.parametrize(
    ("transport", "target", "message"),
    [
        ("network", "host:99999", "host:port"),
        ("usb", "04165011", "vid:pid"),
        ("usb", "0000:0001", "0001..FFFF"),
        ("serial", " ", "empty"),
        ("bluetooth", "x", "one of"),
    ],
)
def test_bad_targets(transport: str, target: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_target(transport, target)
