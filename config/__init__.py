"""The hall described in TOML, validated once at start."""

from config.loader import ConfigError, Problem, load
from config.schema import HallConfig

__all__ = ["ConfigError", "HallConfig", "Problem", "load"]
