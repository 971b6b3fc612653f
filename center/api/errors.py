"""Every refusal as one JSON shape: ``{"error": code, "message": …, "zh": …}``.

Engine refusals map by their type: not found 404, forbidden 403, wrong state or policy 409;
authentication 401 (with ``WWW-Authenticate``), PIN throttling 429 (with ``Retry-After``).
A request the schema rejects is a 422 whose message names each field and its problem, and
whose ``fields`` list them one by one. Submitted values are never echoed (they may be PINs
or ID numbers). Anything unexpected is logged and answered with a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from center.auth.errors import TooManyAttempts, Unauthenticated
from center.errors import Forbidden, HallqError, InvalidState, NotFound, Refused

log = logging.getLogger(__name__)


class KeyReused(HallqError):
    """The same idempotency key was sent with a different request."""

    code = "idempotency_key_reused"


STATUS: list[tuple[type[HallqError], int]] = [
    (Unauthenticated, 401),
    (KeyReused, 422),
    (Forbidden, 403),
    (NotFound, 404),
    (TooManyAttempts, 429),
    (InvalidState, 409),
    (Refused, 409),
]

HTTP_CODES = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权进行此操作"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持此操作"),
    413: ("too_large", "请求内容过大"),
    415: ("unsupported_media_type", "请以JSON格式提交"),
}


class FieldProblem(BaseModel):
    """One field of a rejected request."""

    field: str
    """Where: ``body.level``, ``query.limit``, ``header.Idempotency-Key``, ``path.window``."""
    problem: str


class ErrorOut(BaseModel):
    """The body of every 4xx and 5xx reply."""

    error: str
    """Stable machine-readable code (``not_found``, ``invalid_state``, ``invalid_request``…)."""
    message: str
    zh: str | None = None
    """What to show a citizen or clerk, in Chinese."""
    fields: list[FieldProblem] | None = None


def error_response(
    status: int,
    code: str,
    message: str,
    zh: str | None = None,
    *,
    fields: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON error reply."""
    body = ErrorOut(error=code, message=message, zh=zh, fields=fields)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def status_of(exc: HallqError) -> int:
    """The HTTP status for an engine or auth refusal."""
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def _hallq_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HallqError)
    status = status_of(exc)
    headers = None
    if isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(status, exc.code, exc.message, exc.zh, headers=headers)


def _field_name(err: dict[str, Any]) -> str:
    loc: Sequence[Any] = err.get("loc", ())
    if err.get("type") == "json_invalid":
        return f"body (at character {loc[1]})" if len(loc) > 1 else "body"
    out = str(loc[0]) if loc else "request"
    for p in loc[1:]:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _problem(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "json_invalid":
        return f"is not valid JSON ({ctx.get('error', 'decode error')})"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        return "has characters or a form that is not allowed"
    if kind == "string_unicode":
        return "is not valid Unicode text"
    msg = str(err.get("msg", "is invalid"))
    return msg[0].lower() + msg[1:] if msg else "is invalid"


def validation_problems(errors: Sequence[Any]) -> list[FieldProblem]:
    """Pydantic's errors as (field, problem) pairs, without the submitted values."""
    return [FieldProblem(field=_field_name(e), problem=_problem(e)) for e in errors]


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = validation_problems(exc.errors())
    message = "; ".join(f"{p.field}: {p.problem}" for p in problems) or "invalid request"
    return error_response(422, "invalid_request", message, "提交的内容有误", fields=problems)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code, zh = HTTP_CODES.get(exc.status_code, ("error", None))
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, zh, headers=exc.headers)


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error while handling a request", exc_info=exc)
    return error_response(500, "internal", "internal error: see the center's log", "系统内部错误")


def install(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""
    app.add_exception_handler(HallqError, _hallq_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in [
        (401, "No valid bearer token"),
        (403, "The caller's role may not do this"),
        (404, "Something named in the request does not exist"),
        (409, "Refused in the current state or by the hall's rules"),
        (413, "The request body is too large"),
        (422, "The request does not match the schema; `fields` names each problem"),
    ]
}
"""Documented on every protected endpoint."""
