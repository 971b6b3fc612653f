"""A real PC/SC stack for the citizen card tests: Debian's pcscd with the vpcd virtual reader.

``pcscd`` fixture (module scope): runs ``pcscd --foreground`` as root with its socket in the
default place (/run/pcscd/pcscd.comm) and Debian's /etc/reader.conf.d/vpcd, which makes two
readers, "Virtual PCD 00 00" (TCP 35963) and "Virtual PCD 00 01" (TCP 35964). It waits until
both readers are listed (≈ 0.1 s), yields, and stops the daemon with SIGTERM. A pcscd that is
already running is reused, and left running, if it has the vpcd readers.

Missing pieces skip the tests with the reason (fail instead when CI or HALLQ_REQUIRE_PCSC=1
is set): pyscard, the pcscd binary, the vpcd driver, root.

``vcard_process`` starts ``python -m devices.citizencard.vcard`` (our virtual card) as a
separate process: starting it inserts the card, terminating it removes the card.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
SOCKET = Path("/run/pcscd/pcscd.comm")
READER_0 = "Virtual PCD 00 00"
READER_1 = "Virtual PCD 00 01"
PORTS = {READER_0: 35963, READER_1: 35964}
START_TIMEOUT_S = 10.0
REPO = Path(__file__).resolve().parents[2]


def _required() -> bool:
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("HALLQ_REQUIRE_PCSC") == "1"


def _missing(reason: str) -> None:
    if _required():
        pytest.fail(f"{reason} (required here: CI or HALLQ_REQUIRE_PCSC=1 is set)", pytrace=False)
    pytest.skip(reason)


def _list_readers() -> list[str] | None:
    """Readers pcscd lists now, or None if no pcscd answers on the default socket."""
    from smartcard import scard

    rc, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rc != scard.SCARD_S_SUCCESS:
        return None
    try:
        rc, readers = scard.SCardListReaders(context, [])
        return list(readers) if rc == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(context)


@dataclass
class PcscDaemon:
    """The running daemon: ``process`` is None when an existing one is reused."""

    process: subprocess.Popen[bytes] | None
    readers: list[str]
    start_s: float
    log: Path


def _wait_for_readers(process: subprocess.Popen[bytes] | None) -> list[str]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        readers = _list_readers() or []
        if READER_0 in readers and READER_1 in readers:
            return readers
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.05)
    return []


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscDaemon]:
    """pcscd with the two vpcd readers, for the module's tests."""
    try:
        import smartcard.scard  # noqa: F401
    except ImportError as exc:
        _missing(f"pyscard is not installed ({exc}); pip install pyscard")
    binary = shutil.which("pcscd") or (
        "/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else ""
    )
    if not binary:
        _missing("pcscd is not installed (Debian package pcscd)")
    if not VPCD_DRIVER.exists():
        _missing(f"{VPCD_DRIVER} is missing (Debian package vsmartcard-vpcd)")
    log = tmp_path_factory.mktemp("pcscd") / "pcscd.log"
    existing = _list_readers()
    if existing is not None:
        if READER_0 not in existing:
            _missing(f"a pcscd without the vpcd readers is already running (readers: {existing})")
        yield PcscDaemon(None, existing, 0.0, log)
        return
    if os.geteuid() != 0:
        _missing("pcscd must run as root to create /run/pcscd (run the tests as root)")
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "--foreground", "--error"], stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        readers = _wait_for_readers(process)
        if not readers:
            text = log.read_text(errors="replace")[-2000:]
            pytest.fail(f"pcscd did not list the vpcd readers in {START_TIMEOUT_S} s:\n{text}")
        yield PcscDaemon(process, readers, time.monotonic() - started, log)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class VcardProcess:
    """Our virtual card as a separate process; ``insert()``/``remove()`` start and stop it."""

    def __init__(self, uid: str, port: int, aid: str = "", files: dict[str, str] | None = None):
        self.argv = [sys.executable, "-m", "devices.citizencard.vcard", "--uid", uid,
                     "--port", str(port)]  # fmt: skip
        if aid:
            self.argv += ["--aid", aid]
        for fid, content in (files or {}).items():
            self.argv += ["--file", f"{fid}={content}"]
        self.process: subprocess.Popen[bytes] | None = None

    def insert(self, timeout: float = 10.0) -> None:
        """Start the card process and wait until it has connected to vpcd."""
        self.process = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else b""
        if line.strip() != b"inserted":
            self.remove()
            raise RuntimeError(f"virtual card did not start: {line!r}")

    def remove(self) -> None:
        """Stop the card process (the card leaves the reader)."""
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def vcard_process() -> Iterator[Callable[..., VcardProcess]]:
    """Factory of virtual card processes; every one is stopped when the test ends."""
    made: list[VcardProcess] = []

    def make(uid: str, port: int = PORTS[READER_0], **kwargs: object) -> VcardProcess:
        card = VcardProcess(uid, port, **kwargs)  # type: ignore[arg-type]
        made.append(card)
        return card

    yield make
    for card in made:
        with contextlib.suppress(Exception):
            card.remove()
