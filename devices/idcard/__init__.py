"""Resident ID card reader (GA/T 467 SAM, serial): frames, protocol, driver, simulator.

``IdCardReader`` (driver.py) needs pyserial; everything else here is pure Python.
"""
