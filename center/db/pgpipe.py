"""One round trip to PostgreSQL: statements sent through libpq's pipeline mode directly.

psycopg's cursors and pipelines are general: they track results per cursor, manage their
own prepared statements, and drive their work through layers of Python generators. On the
hot paths (a call, a ticket, a finish) that general machinery cost more of the center's CPU
than the server took to run the statements. Here a batch of statements goes out as libpq
calls on the connection psycopg holds, in one pipeline, and comes back as results:

- parameters are adapted by psycopg's own ``Transformer`` (the same dumpers and loaders,
  so the same types as through a cursor), and rows are loaded by it into named tuples;
- each statement is prepared once per connection and parameter types, under a name of its
  own (``hq_…``: psycopg's are ``_pg3_…``), and executed by name after that;
- the waiting is the connection's own ``wait``: inside a greenlet on the event loop it
  yields to the loop (``center.db.green_psycopg``), elsewhere it blocks as psycopg would.

The connection must be in the transaction the caller expects: ``begin=True`` sends the
BEGIN psycopg would have sent before a first statement. An error in any statement raises
the exception psycopg would raise (``psycopg.errors``); the rest of the batch is skipped
by the server, and the transaction is then failed, as with any statement error.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import fetch_many, send

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
_OK = frozenset({pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK})
_ABORTED = pq.ExecStatus.PIPELINE_ABORTED
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_TEXT = pq.Format.TEXT
_names = itertools.count(1)
_AUTO = PyFormat.AUTO

Batch = Sequence[tuple[bytes, Sequence[Any] | None]]
"""Statements with ``$n`` placeholders, each with its parameter values (None: see
``round_trip``)."""


@functools.cache
def numbered(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """``sql`` with SQLAlchemy's ``:name`` parameters as ``$1, $2, …``, and the names in
    that order (a name used twice is one parameter). ``::type`` casts are left alone."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql).encode(), tuple(names)


def statement(sql: str, params: Any) -> tuple[bytes, list[Any]]:
    """A batch entry for ``sql`` with ``:name`` parameters taken from the mapping ``params``."""
    query, names = numbered(sql)
    return query, [params[name] for name in names]


@functools.cache
def row_type(names: tuple[str, ...]) -> Any:
    """The named tuple class of rows with these columns."""
    return namedtuple("Row", names, rename=True)


def round_trip(raw: Any, batch: Batch, *, begin: bool = False) -> list[pq.abc.PGresult]:
    """Run ``batch`` on the psycopg connection ``raw`` in one round trip (after a BEGIN if
    ``begin``); each statement's result, in order. Raises the first statement's error.

    An entry whose values are None is sent as it is, unprepared (``COMMIT``)."""
    pgconn = raw.pgconn
    prepared = _prepared(raw)
    tx = Transformer(raw)
    plan: list[tuple[bytes, Any, Any, tuple[int, ...] | None]] = []
    for query, values in batch:  # adapt everything before anything is sent
        if values is None:
            plan.append((query, None, None, None))
        elif not values:
            plan.append((query, None, None, ()))
        else:
            params = tx.dump_sequence(values, [_AUTO] * len(values))
            plan.append((query, params, list(tx.formats or ()), tuple(tx.types or ())))
    sent: list[tuple[bytes, tuple[int, ...]] | None] = []  # a new prepare's key, or None
    pgconn.enter_pipeline_mode()
    try:
        if begin:
            pgconn.send_query_params(b"BEGIN", None)
            sent.append(None)
        for query, params, formats, types in plan:
            if types is None:
                pgconn.send_query_params(query, None)
            elif prepared is None:
                pgconn.send_query_params(
                    query, params, param_types=types, param_formats=formats, result_format=_TEXT
                )
            else:
                key = (query, types)
                name = prepared.get(key)
                if name is None:
                    name = prepared[key] = b"hq_%d" % next(_names)  # taken back if it fails
                    pgconn.send_prepare(name, query, param_types=types)
                    sent.append(key)
                pgconn.send_query_prepared(name, params, param_formats=formats, result_format=_TEXT)
            sent.append(None)
        pgconn.pipeline_sync()
        results = raw.wait(_exchange(pgconn))
    except BaseException:
        for new in sent:  # whether the server prepared them is not known
            if new is not None and prepared is not None:
                prepared.pop(new, None)
        _abandon(raw)
        raise
    pgconn.exit_pipeline_mode()
    out: list[pq.abc.PGresult] = []
    failed: pq.abc.PGresult | None = None
    for new, result in zip(sent, results, strict=True):
        if result.status in _OK:
            if new is None:
                out.append(result)
            continue
        if new is not None and prepared is not None:
            del prepared[new]
        if failed is None and result.status != _ABORTED:
            failed = result
    if failed is not None:
        error = errors.error_from_result(failed, encoding=raw.info.encoding)
        if isinstance(error, errors.InvalidSqlStatementName) and prepared is not None:
            prepared.clear()  # dropped behind our back: prepare again from the next one on
        raise error
    return out[1:] if begin else out


def rows(raw: Any, result: pq.abc.PGresult) -> list[Any]:
    """``result``'s rows as named tuples, their values loaded as psycopg loads them."""
    if not result.ntuples:
        return []
    tx = Transformer(raw)
    tx.set_pgresult(result)
    names = tuple(result.fname(i).decode() for i in range(result.nfields))  # type: ignore[union-attr]
    return tx.load_rows(0, result.ntuples, row_type(names)._make)


def _exchange(pgconn: Any) -> Any:
    """Flush the pipeline, then read every result up to its sync (psycopg's generators)."""
    yield from send(pgconn)
    results: list[pq.abc.PGresult] = []
    while True:
        got = yield from fetch_many(pgconn)
        if not got:
            raise errors.InternalError("PostgreSQL ended a pipeline without its sync")
        if got[0].status == _SYNC:
            return results
        results.extend(got)


def _prepared(raw: Any) -> dict[tuple[bytes, tuple[int, ...]], bytes] | None:
    """The statements prepared on ``raw``'s session, by query and parameter types.

    Only a connection that is told when they are dropped keeps them
    (``GreenConnection.hallq_prepared``); on any other (None) nothing is prepared."""
    return getattr(raw, "hallq_prepared", None)


def _abandon(raw: Any) -> None:
    """The round trip broke off (the connection failed): a pipeline half read cannot be
    used again, so the connection is closed; the pool then replaces it."""
    try:
        raw.pgconn.exit_pipeline_mode()
    except Exception:
        raw.close()
