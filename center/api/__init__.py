"""The center's HTTP JSON API (FastAPI): kiosks, staff, devices, displays, supervisors."""
