"""``hallq devices decode|scan``: field tools over the same parsers and links the drivers use.

    hallq devices decode --protocol hallbus "A5 05 01 02 01 00 …"
    echo "ff 68 08 08 68 05 02 0a 0a 0a 01 02 03 2b 16" | hallq devices decode --protocol vendor68
    hallq devices scan --port /dev/ttyUSB0 --baud 9600 --addresses 1-32

Output is JSON on stdout; exit status 0 on success, 2 on bad arguments or data, 1 on bus errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from devices.bus.api import BusError
from devices.bus.decode import decode, parse_hex
from devices.bus.model import Protocol
from devices.bus.scan import parse_addresses, scan
from devices.idcard.decode import decode_bytes as decode_ga467

PROTOCOLS = [p.value for p in Protocol]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallq devices", description="RS-485 device tools")
    sub = parser.add_subparsers(dest="command", required=True)
    dec = sub.add_parser("decode", help="captured bytes (hex) to JSON frames")
    dec.add_argument("--protocol", choices=[*PROTOCOLS, "ga467"], default="hallbus")
    dec.add_argument("--show-personal", action="store_true", help="ga467: unmasked")
    dec.add_argument("hex", nargs="*", help="hex bytes; read from stdin if none given")
    sc = sub.add_parser("scan", help="list the devices that answer on a bus")
    sc.add_argument("--port", required=True, help="port URL (/dev/ttyUSB0, socket://…, spy://…)")
    sc.add_argument("--protocol", choices=PROTOCOLS, default="hallbus")
    sc.add_argument("--baud", type=int, default=9600)
    sc.add_argument("--addresses", default="1-247", help="e.g. 1-32,40")
    sc.add_argument("--retries", type=int, default=1)
    sc.add_argument("--listen", type=float, default=5.0, help="vendor68: seconds to listen")
    return parser


def _emit(value: object) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hallq devices …``; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "decode":
        text = " ".join(args.hex) if args.hex else sys.stdin.read()
        try:
            data = parse_hex(text)
        except ValueError as exc:
            sys.stderr.write(f"not hex: {exc}\n")
            return 2
        if args.protocol == "ga467":
            _emit(decode_ga467(data, show_personal=args.show_personal))
        else:
            _emit(decode(args.protocol, data))
        return 0
    logging.basicConfig(level=logging.WARNING)
    try:
        addresses = parse_addresses(args.addresses)
        found = scan(args.port, args.protocol, addresses, baudrate=args.baud,
                     retries=args.retries, listen_s=args.listen)  # fmt: skip
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except BusError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    _emit(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
