"""The same scan against real hardware: ``HALLQ_BUS_PORT=/dev/ttyUSB0 pytest --hardware``.

Optional: ``HALLQ_BUS_BAUD`` (default 9600) and ``HALLQ_BUS_PROTOCOL`` (default hallbus).
"""

from __future__ import annotations

import os

import pytest

from devices.bus.scan import scan


@pytest.mark.hardware
def test_something_answers_on_the_configured_bus() -> None:
    port = os.environ.get("HALLQ_BUS_PORT")
    if not port:
        pytest.skip("set HALLQ_BUS_PORT to the bus's port URL")
    protocol = os.environ.get("HALLQ_BUS_PROTOCOL", "hallbus")
    found = scan(
        port, protocol, range(1, 33), baudrate=int(os.environ.get("HALLQ_BUS_BAUD", "9600"))
    )
    assert found, f"no {protocol} device answered on {port}"
