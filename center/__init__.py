"""The hall's central case database and queue engine (no Qt, no serial)."""
