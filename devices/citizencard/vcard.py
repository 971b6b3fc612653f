"""A tiny virtual contactless card for the vsmartcard ``vpcd`` reader driver of pcscd.

vpcd (Debian ``vsmartcard-vpcd``) makes pcscd show a reader, "Virtual PCD 00 00", that
listens on TCP 35963 (the next slot on 35964). A card is "inserted" when a client connects
and "removed" when it disconnects. Every message either way is a 2-byte big-endian length
and a payload. A 1-byte payload from vpcd is control: 0 power off, 1 power on, 2 reset
(no answer to any of them), 4 "send your ATR" (answer: the ATR). Anything longer is a
command APDU; the card answers with response data + SW1 SW2.

This card answers:

    FF CA 00 00 Le               GET UID (as a PC/SC reader does for contactless cards)
    00 A4 04 00 Lc AID [Le]      SELECT the application
    00 A4 02|00 00 02 FID        SELECT an EF (inside the application, if it has one)
    00 B0 P1 P2 Le               READ BINARY of the selected EF

    python -m devices.citizencard.vcard --uid 04A1B2C3 --aid A00000000386980701 \\
        --file EF05=3131303130353139343931323331303032580000 [--port 35963]

runs it until killed (that is the "remove the card" of the tests).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

log = logging.getLogger(__name__)

VPCD_PORT = 35963
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4
DEFAULT_ATR = bytes.fromhex("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A")
"""The PC/SC part 3 ATR a contactless reader reports for a MIFARE Classic 1K card."""

SW_OK = b"\x90\x00"
SW_NOT_FOUND = b"\x6a\x82"
SW_NO_EF = b"\x69\x86"
SW_WRONG_P1P2 = b"\x6b\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_INS = b"\x6d\x00"
SW_CLA = b"\x6e\x00"
SW_FUNC = b"\x6a\x81"


class CardApplet:
    """The card's answers to APDUs (pure: bytes in, bytes out)."""

    def __init__(
        self, uid: bytes, aid: bytes | None = None, files: dict[bytes, bytes] | None = None
    ):
        self.uid = uid
        self.aid = aid
        self.files = dict(files or {})
        self._app_selected = aid is None
        self._current: bytes | None = None

    def reset(self) -> None:
        """Power cycle: nothing selected."""
        self._app_selected = self.aid is None
        self._current = None

    def answer(self, command: bytes) -> bytes:
        """Response APDU (data + SW1 SW2) for one command APDU."""
        if len(command) < 4:
            return SW_WRONG_LENGTH
        cla, ins, p1, p2 = command[:4]
        if cla == 0xFF and ins == 0xCA:
            return self.uid + SW_OK if p1 == 0 else SW_FUNC
        if cla != 0x00:
            return SW_CLA
        if ins == 0xA4:
            return self._select(p1, command[5 : 5 + command[4]] if len(command) > 5 else b"")
        if ins == 0xB0:
            return self._read_binary(((p1 & 0x7F) << 8) | p2, command[4] if len(command) > 4 else 0)
        return SW_INS

    def _select(self, p1: int, name: bytes) -> bytes:
        if p1 == 0x04:
            if self.aid is not None and name == self.aid:
                self._app_selected, self._current = True, None
                return SW_OK
            return SW_NOT_FOUND
        if p1 in (0x00, 0x02) and self._app_selected and name in self.files:
            self._current = name
            return SW_OK
        return SW_NOT_FOUND

    def _read_binary(self, offset: int, le: int) -> bytes:
        if self._current is None:
            return SW_NO_EF
        content = self.files[self._current]
        if offset > len(content):
            return SW_WRONG_P1P2
        return content[offset : offset + (le or 256)] + SW_OK


class VirtualCard:
    """A vpcd client: ``insert()`` connects to the reader, ``remove()`` disconnects."""

    def __init__(
        self,
        applet: CardApplet,
        *,
        host: str = "127.0.0.1",
        port: int = VPCD_PORT,
        atr: bytes = DEFAULT_ATR,
    ) -> None:
        self.applet = applet
        self.host = host
        self.port = port
        self.atr = atr
        self.apdus = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def inserted(self) -> bool:
        """True while connected to the reader."""
        return self._sock is not None

    def insert(self, timeout: float = 5.0) -> None:
        """Connect to vpcd (retrying until ``timeout``) and start answering."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        self.applet.reset()
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Disconnect: the reader sees the card leave."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                head = _recv_exact(sock, 2)
                if head is None:
                    return
                (length,) = struct.unpack(">H", head)
                payload = _recv_exact(sock, length)
                if payload is None:
                    return
                reply = self.handle(payload)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            return

    def handle(self, payload: bytes) -> bytes | None:
        """The answer to one vpcd message (None for power and reset controls)."""
        if len(payload) == 1:
            if payload[0] == CTRL_ATR:
                return self.atr
            if payload[0] in (CTRL_OFF, CTRL_ON, CTRL_RESET):
                self.applet.reset()
            return None
        self.apdus += 1
        return self.applet.answer(payload)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _parse_files(specs: Sequence[str]) -> dict[bytes, bytes]:
    files = {}
    for spec in specs:
        fid, _, content = spec.partition("=")
        files[bytes.fromhex(fid)] = bytes.fromhex(content)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """Run a virtual card until SIGTERM/SIGINT; exit 1 if vpcd cannot be reached."""
    parser = argparse.ArgumentParser(prog="python -m devices.citizencard.vcard")
    parser.add_argument("--uid", required=True, help="hex, e.g. 04A1B2C3")
    parser.add_argument("--aid", default="", help="hex AID of the application")
    parser.add_argument("--file", action="append", default=[], help="FID=hexcontent")
    parser.add_argument("--atr", default=DEFAULT_ATR.hex())
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=VPCD_PORT)
    args = parser.parse_args(argv)
    applet = CardApplet(
        bytes.fromhex(args.uid), bytes.fromhex(args.aid) or None, _parse_files(args.file)
    )
    card = VirtualCard(applet, host=args.host, port=args.port, atr=bytes.fromhex(args.atr))
    done = threading.Event()

    def _quit(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _quit)
    signal.signal(signal.SIGINT, _quit)
    try:
        card.insert()
    except OSError as exc:
        sys.stderr.write(f"cannot reach vpcd at {args.host}:{args.port}: {exc}\n")
        return 1
    sys.stdout.write("inserted\n")
    sys.stdout.flush()
    while not done.wait(0.1) and card.inserted and card._thread and card._thread.is_alive():
        pass
    card.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
