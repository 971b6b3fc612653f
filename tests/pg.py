"""A throwaway PostgreSQL server for the test session.

The server listens on a unix socket in its own temporary directory only
(``listen_addresses=''``), so parallel runs never race for a TCP port. PostgreSQL
refuses to run as root: when the tests run as root, the directory is handed to the
``postgres`` user (created by Debian's ``postgresql`` package) and every server
command runs through ``runuser -u postgres --``.

URLs look like ``postgresql+psycopg://postgres@/NAME?host=DIR``.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

SUPERUSER = "postgres"
DEBIAN_ROOT = Path("/usr/lib/postgresql")
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
}
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; the socket file adds "/.s.PGSQL.NNNNN"


class PostgresNotFound(RuntimeError):
    """No PostgreSQL server binaries (initdb, pg_ctl) on this machine."""


class PostgresError(RuntimeError):
    """The temporary server could not be set up, started or stopped."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def find_postgres_bin() -> Path | None:
    """Directory holding initdb and pg_ctl: PATH first, then the newest Debian version."""
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "pg_ctl").exists():
        return Path(initdb).parent
    candidates = [
        path
        for path in DEBIAN_ROOT.glob("*/bin")
        if (path / "initdb").exists() and (path / "pg_ctl").exists()
    ]
    return max(candidates, key=_version_key) if candidates else None


def _world_traversable(path: Path) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def _base_dir(as_root: bool) -> Path:
    """Where to make the server's directory: the postgres user must reach the socket."""
    base = Path(tempfile.gettempdir()).resolve()
    too_long = len(str(base)) > _SOCKET_PATH_MAX - 40
    if too_long or (as_root and not _world_traversable(base)):
        base = Path("/tmp")
    return base


class TempPostgres:
    """A PostgreSQL cluster in a temporary directory, started and removed as a context."""

    def __init__(
        self, bin_dir: Path | None = None, settings: Mapping[str, str] | None = None
    ) -> None:
        found = bin_dir or find_postgres_bin()
        if found is None:
            raise PostgresNotFound(
                "PostgreSQL server binaries (initdb, pg_ctl) are neither on PATH nor under "
                f"{DEBIAN_ROOT}/*/bin: run `make deps` (installs Debian's postgresql)"
            )
        self.bin_dir: Path = found
        self.settings: dict[str, str] = {**SETTINGS, **(settings or {})}
        self.as_root: bool = os.geteuid() == 0
        self.dir: Path | None = None
        self.started: bool = False
        self._admin: Any = None

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> TempPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Create the directory, initdb and start the server; clean up on any failure."""
        try:
            self.dir = self._make_dir()
            data = self.dir / "data"
            self._run(
                "initdb",
                "-D", str(data),
                "-U", SUPERUSER,
                "-A", "trust",
                "-E", "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )  # fmt: skip
            options = ["-c", "listen_addresses=", "-k", str(self.dir)]
            for key, value in self.settings.items():
                options += ["-c", f"{key}={value}"]
            self._run(
                "pg_ctl",
                "-D", str(data),
                "-l", str(self.dir / "log"),
                "-w",
                "-t", "60",
                "-o", shlex.join(options),
                "start",
            )  # fmt: skip
            self.started = True
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.dir is None:
            return
        try:
            # A start that timed out may have left a postmaster running: stop it too.
            if self.started or (self.dir / "data" / "postmaster.pid").exists():
                data = str(self.dir / "data")
                try:
                    self._run("pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "30", "stop")
                except PostgresError:
                    self._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
                self.started = False
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # -- databases -------------------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self._socket_dir()}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self._admin_execute("CREATE DATABASE {}", name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection a test left open."""
        self._admin_execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)

    # -- helpers ---------------------------------------------------------------------

    def _socket_dir(self) -> Path:
        if self.dir is None or not self.started:
            raise PostgresError("the temporary PostgreSQL server is not running")
        return self.dir

    def _admin_execute(self, statement: str, name: str) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(f"database name {name!r} must match {_NAME.pattern}")
        if self._admin is None:
            import psycopg

            self._admin = psycopg.connect(
                host=str(self._socket_dir()), user=SUPERUSER, dbname="postgres", autocommit=True
            )
        self._admin.execute(statement.format(name))

    def _make_dir(self) -> Path:
        path = Path(tempfile.mkdtemp(prefix="hallq-pg-", dir=_base_dir(self.as_root)))
        path.chmod(0o755)
        if self.as_root:
            try:
                user = pwd.getpwnam(SUPERUSER)
            except KeyError:
                shutil.rmtree(path)
                raise PostgresError(
                    f"running as root needs a {SUPERUSER!r} user to own the server "
                    "(Debian's postgresql package creates it): run `make deps`"
                ) from None
            os.chown(path, user.pw_uid, user.pw_gid)
        return path

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        result = subprocess.run(
            command,
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"{shlex.join(command)} exited with {result.returncode}\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _log_tail(self, lines: int = 30) -> str:
        log = self.dir / "log" if self.dir else None
        if log is None or not log.exists():
            return ""
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        return "server log:\n" + "\n".join(tail)
