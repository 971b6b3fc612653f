"""Opening the database: engine settings per backend, and migrations to the newest schema.

SQLite (the embedded default, a file under ``var/``) runs in WAL mode so readers never wait
for the writer, and every writing transaction starts with ``BEGIN IMMEDIATE`` so two writers
queue at the start instead of failing half-way (that is what makes call-next atomic there).
A transaction opened with ``readonly=True`` starts a plain deferred ``BEGIN`` instead.
PostgreSQL is chosen by a ``postgresql+psycopg://`` URL; call-next uses row locks there.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, *, pool_size: int = 32) -> Engine:
    """An engine for ``url`` with the settings hallq relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    # No pre-ping: it costs a round trip per transaction. A connection the server dropped
    # fails once, SQLAlchemy then invalidates the pool, and the next checkout reconnects.
    # Sessions in UTC: timestamps read through psycopg directly (center.engine.pgraw) are
    # then the same UTC datetimes SQLAlchemy's UTCDateTime gives.
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_recycle=3600,
        hide_parameters=True,
        connect_args={"options": "-c TimeZone=UTC"},
    )

    @event.listens_for(engine, "do_connect")
    def _green_connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        from center.db.green_psycopg import open_connection  # the postgres extra's

        return open_connection(cargs, cparams)

    @event.listens_for(engine, "checkin")
    def _green_checkin(dbapi_conn: Any, _record: Any) -> None:
        if dbapi_conn is not None:  # None: invalidated, closed (and released) already
            dbapi_conn.release()  # a GreenConnection (_green_connect): the loop stops watching

    return engine


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if not database or database == ":memory:":
        raise ValueError("use a SQLite file: an in-memory database is private to one connection")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a database error message never carries bound values into a log.
    engine = create_engine(
        url,
        connect_args={"timeout": 60, "check_same_thread": False},
        pool_size=64,
        max_overflow=64,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at hallq's migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
