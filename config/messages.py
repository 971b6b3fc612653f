"""Pydantic validation errors rewritten as readable problems.

Each message says what was expected and what was found, in the words of a hall file:
``expected a time like 09:00, got "9点"``, ``must be at least 1, got 0``,
``unknown key "prefx", did you mean "prefix"? (allowed: code, name, prefix, …)``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from config import schema
from config.problems import Loc, Problem, Provenance


def _pattern(annotated: Any) -> str:
    return next(m.pattern for m in get_args(annotated)[1:] if hasattr(m, "pattern"))


_PATTERNS: dict[str, str] = {
    _pattern(schema.Code): 'expected a code of 1 to 24 letters, digits, "_" or "-"',
    _pattern(schema.StaffNumber): "expected a staff number of 2 to 16 letters or digits",
    _pattern(schema.Prefix): 'expected 1 or 2 capital letters, like "A" or "AB"',
}

_SIMPLE: dict[str, str] = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text in quotes",
    "list_type": "expected a list",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "time_of_day": "expected a time like 09:00",
    "time_type": "expected a time like 09:00",
    "time_parsing": "expected a time like 09:00",
    "date_type": "expected a date like 2026-10-01",
    "date_parsing": "expected a date like 2026-10-01",
    "date_from_datetime_parsing": "expected a date like 2026-10-01",
    "date_from_datetime_inexact": "expected a date like 2026-10-01",
}

_BOUNDS: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("ge", "must be at least {}"),
    "greater_than": ("gt", "must be greater than {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "less_than": ("lt", "must be less than {}"),
}


def schema_problems(error: ValidationError, provenance: Provenance) -> list[Problem]:
    """Every error pydantic found, each reported in the file that wrote the key."""
    problems = []
    for detail in error.errors(include_url=False):
        loc, message = explain(detail)
        problems.append(provenance.problem(loc, message))
    return problems


def explain(detail: ErrorDetails) -> tuple[Loc, str]:
    """The key path to report and a readable message for one pydantic error."""
    loc: Loc = tuple(detail["loc"])
    kind = detail["type"]
    if loc and loc[-1] == "[key]":
        return loc[:-1], f"invalid name: {value_message(detail)}"
    if kind == "missing" and loc:
        return loc[:-1], f'missing required key "{loc[-1]}"'
    if kind == "extra_forbidden" and loc:
        return loc, unknown_key(loc)
    return loc, value_message(detail)


def value_message(detail: ErrorDetails) -> str:
    """What was wrong with a value, and what was expected instead."""
    kind, value = detail["type"], detail["input"]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    got = f", got {show(value)}"
    if kind in _SIMPLE:
        return _SIMPLE[kind] + got
    if kind in _BOUNDS:
        name, template = _BOUNDS[kind]
        return template.format(show(ctx[name])) + got
    if kind == "literal_error":
        return f"expected {ctx['expected'].replace(chr(39), chr(34))}{got}"
    if kind == "string_pattern_mismatch":
        return _pattern_message(detail["loc"], ctx["pattern"], got)
    if kind == "string_too_short":
        return "must not be empty" if ctx["min_length"] == 1 else _length("at least", ctx, value)
    if kind == "string_too_long":
        return _length("at most", ctx, value)
    if kind in ("too_short", "too_long"):
        word, limit = ("least", "min_length") if kind == "too_short" else ("most", "max_length")
        items = "item" if ctx[limit] == 1 else "items"
        return f"must have at {word} {ctx[limit]} {items}, got {ctx['actual_length']}"
    return f"{detail['msg']}{got}"


def unknown_key(loc: Loc) -> str:
    """``unknown key "prefx", did you mean "prefix"? (allowed: …)``."""
    key = str(loc[-1])
    model = model_at(loc[:-1])
    allowed = list(model.model_fields) if model else []
    if not loc[:-1]:
        allowed.append("include")
    message = f'unknown key "{key}"'
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        message += f', did you mean "{close[0]}"?'
    if allowed:
        message += f" (allowed: {', '.join(allowed)})"
    return message


def model_at(loc: Loc) -> type[BaseModel] | None:
    """The schema model that validates the table at ``loc`` of a hall, if any."""
    current: Any = schema.HallConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def show(value: Any) -> str:
    """A value as it would be written in TOML, shortened: ``"9点"``, ``true``, ``a table``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated[...]`` and ``X | None`` down to ``X``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        else:
            return annotation


def _pattern_message(loc: tuple[int | str, ...], pattern: str, got: str) -> str:
    if loc and loc[-1] == "pin_hash":
        # Never echo the value: it is probably a PIN typed in by mistake.
        return 'expected an argon2 hash starting with "$argon2id$" (see docs/config.md)'
    return _PATTERNS.get(pattern, f"expected text matching {pattern}") + got


def _length(bound: str, ctx: dict[str, Any], value: Any) -> str:
    limit = ctx.get("min_length", ctx.get("max_length"))
    return f"must be {bound} {limit} characters long, got {len(str(value))}"
