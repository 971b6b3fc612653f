"""The self-service ticket kiosk (PySide6)."""
