"""A real reader: ``HALLQ_IDCARD_PORT=/dev/ttyUSB0 pytest --hardware -k idcard_hardware``.

Optional: ``HALLQ_IDCARD_BAUD`` (default 115200). Place a valid card on the reader first.
Nothing personal is printed: the assertions use the masked form.
"""

from __future__ import annotations

import os

import pytest

from devices.idcard.driver import IdCardReader


@pytest.mark.hardware
def test_real_reader_reads_the_card_on_it() -> None:
    port = os.environ.get("HALLQ_IDCARD_PORT")
    if not port:
        pytest.skip("set HALLQ_IDCARD_PORT to the reader's port URL")
    baud = int(os.environ.get("HALLQ_IDCARD_BAUD", "115200"))
    with IdCardReader(port, baud) as reader:
        assert len(bytes.fromhex(reader.read_sam_id())) == 16
        card = reader.read_card(10.0, accept_expired=True)
    assert card.id_number_ok, repr(card)
    assert len(card.photo) == 1024
