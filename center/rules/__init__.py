"""Pure queue and calendar rules: no I/O, no database."""
