"""The case database: tables, connections and migrations (SQLite embedded, PostgreSQL in production)."""
