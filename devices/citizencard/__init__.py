"""Citizen card / social security card over PC/SC (pyscard, imported lazily).

``monitor.CitizenCardMonitor`` reports insert/remove with the card's identity (UID and an
optional file); ``vcard`` is a virtual card for the vsmartcard ``vpcd`` reader, for tests.
"""
