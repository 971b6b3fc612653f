"""Load a hall: read the TOML files, validate them against the schema, cross-check.

Three passes, each reporting everything it finds:

1. read the file and its includes (syntax errors, missing files, cycles, conflicts);
2. validate the merged table against ``config.schema`` (types, ranges, unknown keys);
3. cross-check sections against each other (``config.validate``).

A pass runs only when the one before it found nothing, because its findings would
mostly repeat the earlier ones (a missing include makes every service it held "unknown").
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError

from config.messages import schema_problems
from config.problems import ConfigError, Problem
from config.schema import HallConfig
from config.sources import read_hall
from config.validate import cross_check

__all__ = ["ConfigError", "Problem", "load"]

log = logging.getLogger(__name__)


def load(path: str | Path) -> HallConfig:
    """Read, validate and cross-check a hall file; raise ``ConfigError`` listing every problem."""
    merged = read_hall(path)
    if merged.problems:
        raise ConfigError(merged.problems)
    try:
        hall = HallConfig.model_validate(merged.data)
    except ValidationError as error:
        raise ConfigError(schema_problems(error, merged.provenance)) from None
    problems = cross_check(hall, merged.provenance)
    if problems:
        raise ConfigError(problems)
    log.info(
        "loaded hall %s from %s: %d services, %d windows",
        hall.hall.code,
        path,
        len(hall.services),
        len(hall.windows),
    )
    return hall
