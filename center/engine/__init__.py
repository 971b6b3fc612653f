"""The queue engine and case service: pure rules applied in database transactions."""
