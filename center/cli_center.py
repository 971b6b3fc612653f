"""``hallq center`` (serve the API) and ``hallq device`` (device tokens).

    hallq center --config HALL.toml [--database URL] [--host 127.0.0.1] [--port 8470]
                 [--ssl-keyfile KEY --ssl-certfile CERT] [--threads 4] [--log-level info]
    hallq center --dump-openapi docs/api/openapi.json
    hallq device add --kind kiosk|display|evaluator|keypad --name NAME [--window N] [--rotate]
    hallq device list
    hallq device revoke --name NAME

The database is ``--database``, else ``$HALLQ_DATABASE``, else ``var/hallq.db`` under the
current directory. The server binds to loopback unless ``--host`` says otherwise; TLS is
uvicorn's, switched on by giving both ``--ssl-keyfile`` and ``--ssl-certfile``.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from center.api.settings import DEFAULT_WORKER_THREADS, MAX_GREEN_SLOTS, ApiSettings
from center.auth.devices import DeviceRegistry
from center.auth.roles import DEVICE_ROLES, Role
from center.clock import SystemClock
from center.db.connect import make_engine, upgrade
from center.engine.center import Center, default_sqlite_url
from center.engine.store import Store
from center.errors import HallqError
from center.maintenance import Maintainer
from center.pii import DataKeyError, load_key
from config import load as load_config
from config.schema import HallConfig

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def database_url(given: str | None) -> str:
    """``--database``, else ``$HALLQ_DATABASE``, else the embedded SQLite file."""
    return given or os.environ.get("HALLQ_DATABASE") or default_sqlite_url(Path.cwd())


def _data_key(cfg: HallConfig, config_path: str) -> str | None:
    sec = cfg.security
    key_file = Path(config_path).parent / sec.data_key_file if sec.data_key_file else None
    try:
        return load_key(sec.data_key_env, key_file)
    except DataKeyError as exc:
        log.warning("%s: personal data (ID numbers, names) will be refused", exc)
        return None


# --- hallq center -------------------------------------------------------------------------


GC_YOUNG_THRESHOLD = 10_000
"""Allocations between two collections of the youngest generation (Python's default: 700)."""


def freeze_startup_objects() -> None:
    """Exempt what start-up built (config, app, metadata) from garbage collection, and
    collect the young generations less often.

    A full collection of the start-up objects took up to 125 ms on the load test's machine,
    a stall every request in flight waited out; after ``gc.freeze`` the collector only walks
    what requests create (36 ms at most there). Under load most of that is the state of the
    requests in flight, which every young collection walks again although little of it is
    garbage yet: with Python's default threshold the collector took 6 % of the center's CPU
    in the load test, with pauses of 12-24 ms every 0.4 s."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def center_parser() -> argparse.ArgumentParser:
    """Arguments of ``hallq center``."""
    p = argparse.ArgumentParser(prog="hallq center", description="Serve the hall's HTTP API.")
    p.add_argument("--config", help="the hall's TOML file")
    p.add_argument("--database", help="database URL (sqlite:///… or postgresql+psycopg://…)")
    p.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: loopback)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--ssl-keyfile", help="TLS private key (PEM), with --ssl-certfile")
    p.add_argument("--ssl-certfile", help="TLS certificate chain (PEM), with --ssl-keyfile")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_WORKER_THREADS,
        help="worker threads for database work (default %(default)s; more only adds GIL contention)",
    )
    p.add_argument(
        "--green-slots",
        type=int,
        default=ApiSettings().green_slots,
        help="PostgreSQL: database requests served at once on the event loop "
        f"(default %(default)s, at most {MAX_GREEN_SLOTS})",
    )
    p.add_argument(
        "--dump-openapi",
        metavar="PATH",
        help="write the OpenAPI document to PATH ('-' for stdout) and exit",
    )
    return p


def dump_openapi(path: str) -> None:
    """Write the OpenAPI document as committed in docs/api/openapi.json."""
    from center.api.app import openapi_document

    text = json.dumps(openapi_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if path == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")


def center_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hallq center``; returns the exit status."""
    args = center_parser().parse_args(argv)
    if args.dump_openapi:
        dump_openapi(args.dump_openapi)
        return 0
    if not args.config:
        center_parser().error("--config is required to serve")
    if args.threads < 1:
        center_parser().error("--threads must be at least 1")
    if not 1 <= args.green_slots <= MAX_GREEN_SLOTS:
        center_parser().error(f"--green-slots must be between 1 and {MAX_GREEN_SLOTS}")
    if bool(args.ssl_keyfile) != bool(args.ssl_certfile):
        center_parser().error("TLS needs both --ssl-keyfile and --ssl-certfile")
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    cfg = load_config(args.config)
    if args.host not in LOOPBACK and not args.ssl_certfile:
        log.warning(
            "serving on %s without TLS: tokens and PINs cross the network in clear", args.host
        )
    return _serve(cfg, args)


def _serve(cfg: HallConfig, args: argparse.Namespace) -> int:
    import uvicorn

    from center.api.app import create_app

    center = Center.open(cfg, database_url(args.database), data_key=_data_key(cfg, args.config))
    maintainer = Maintainer(center)
    try:
        closed = center.close_past_days()
        if closed:
            log.info("cancelled %d tickets left over from earlier hall days", closed)
        maintainer.start()
        freeze_startup_objects()
        uvicorn.run(
            create_app(
                center, ApiSettings(worker_threads=args.threads, green_slots=args.green_slots)
            ),
            host=args.host,
            port=args.port,
            ssl_keyfile=args.ssl_keyfile,
            ssl_certfile=args.ssl_certfile,
            log_level=args.log_level,
            proxy_headers=False,
            server_header=False,
        )
    finally:
        maintainer.stop()
        center.close()
    return 0


# --- hallq device -------------------------------------------------------------------------


def device_parser() -> argparse.ArgumentParser:
    """Arguments of ``hallq device``."""
    p = argparse.ArgumentParser(prog="hallq device", description="Manage device tokens.")
    p.add_argument("--database", help="database URL (default: $HALLQ_DATABASE or var/hallq.db)")
    p.add_argument("--config", help="the hall's TOML file (checks window numbers)")
    sub = p.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="register a device and print its token once")
    add.add_argument("--kind", required=True, choices=sorted(r.value for r in DEVICE_ROLES))
    add.add_argument("--name", required=True)
    add.add_argument("--window", type=int, help="the window of an evaluator or keypad")
    add.add_argument("--rotate", action="store_true", help="replace an active device's token")
    sub.add_parser("list", help="list registered devices")
    revoke = sub.add_parser("revoke", help="stop accepting a device's token")
    revoke.add_argument("--name", required=True)
    return p


def device_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hallq device``; returns the exit status."""
    args = device_parser().parse_args(argv)
    windows = None
    if args.config:
        windows = frozenset(load_config(args.config).windows_by_number)
    engine = make_engine(database_url(args.database))
    try:
        upgrade(engine)
        registry = DeviceRegistry(Store(engine), SystemClock(), windows)
        return _device_command(registry, args)
    except HallqError as exc:
        sys.stderr.write(f"hallq device: {exc.message}\n")
        return 1
    finally:
        engine.dispose()


def _device_command(registry: DeviceRegistry, args: argparse.Namespace) -> int:
    if args.command == "add":
        token = registry.add(args.name, Role(args.kind), args.window, rotate=args.rotate)
        sys.stderr.write(
            f"device {args.name} ({args.kind}) registered; its token is shown only now:\n"
        )
        sys.stdout.write(token + "\n")
    elif args.command == "revoke":
        registry.revoke(args.name)
        sys.stderr.write(f"device {args.name} revoked\n")
    else:
        for d in registry.list():
            state = "revoked" if d.revoked_at else (d.state or "-")
            seen = d.last_seen_at.isoformat(timespec="seconds") if d.last_seen_at else "never"
            window = str(d.window) if d.window is not None else "-"
            sys.stdout.write(f"{d.name}\t{d.kind}\twindow {window}\t{state}\tlast seen {seen}\n")
    return 0


if __name__ == "__main__":  # python -m center.cli_center --dump-openapi docs/api/openapi.json
    sys.exit(center_main())
