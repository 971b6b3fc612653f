"""Appointment codes signed by the center: a good code checks in once; a forged, tampered,
expired or reused one is refused with the citizen's words (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from center.clock import ManualClock
from center.db.tables import appointments, tickets
from center.engine.center import Center
from center.engine.states import Lane
from center.engine.tickets import APPOINTMENT_KEY_PURPOSE
from center.errors import InvalidState, NotFound, Refused
from config.schema import HallConfig
from devices.camera.appointment import (
    AppointmentToken,
    ExpiredCode,
    ForgedCode,
    NotAnAppointmentCode,
    sign,
    verify,
)
from tests.center.conftest import SHANGHAI, hall_dict

START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
END = START + dt.timedelta(minutes=30)
DAY_END = dt.datetime(2026, 11, 24, 3, 0, tzinfo=SHANGHAI)  # the hall day ends at 03:00


def key_of(center: Center) -> bytes:
    assert center.ctx.pii is not None
    return center.ctx.pii.derive_key(APPOINTMENT_KEY_PURPOSE)


def stored_code(center: Center, appointment_id: int) -> str:
    with center.store.read() as conn:
        return str(
            conn.execute(
                select(appointments.c.code).where(appointments.c.id == appointment_id)
            ).scalar_one()
        )


def issued(center: Center) -> int:
    with center.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(tickets)).scalar_one())


def test_a_good_code_is_signed_expires_with_the_day_and_checks_in_once(center: Center) -> None:
    app = center.tickets.book("estate", START, END)
    token = verify(app.code, key_of(center), START)
    assert app.code.startswith("hallq1.")
    assert token.code == stored_code(center, app.id) and token.service == "estate"
    assert (token.slot_start, token.slot_end) == (START, END)
    assert token.expires_at == DAY_END
    ticket = center.tickets.check_in(app.code, source_ref="k1")
    assert ticket.lane is Lane.APPOINTMENT and ticket.service == "estate"
    with pytest.raises(InvalidState, match="already checked in") as reused:
        center.tickets.check_in(app.code)
    assert reused.value.zh == "该预约已签到或已取消"
    assert issued(center) == 1


def test_a_code_signed_with_another_key_is_forged(center: Center) -> None:
    app = center.tickets.book("estate", START, END)
    genuine = verify(app.code, key_of(center), START)
    forged = sign(genuine, b"not-the-centers-key-0123456789ab")
    with pytest.raises(NotFound, match="forged") as err:
        center.tickets.check_in(forged)
    assert err.value.zh == ForgedCode.citizen_message
    assert issued(center) == 0


def test_a_tampered_code_is_refused(center: Center) -> None:
    """Another appointment's code, or a later expiry, under the first one's signature."""
    first = center.tickets.book("estate", START, END)
    second = center.tickets.book("estate", START, END)
    signature = first.code.rsplit(".", 1)[1]
    other_payload = second.code.split(".")[1]
    for tampered in (
        f"hallq1.{other_payload}.{signature}",
        first.code[:-10] + ("A" if first.code[-10] != "A" else "B") + first.code[-9:],
        first.code.replace("hallq1.", "hallq1.x", 1),
    ):
        with pytest.raises(NotFound) as err:
            center.tickets.check_in(tampered)
        assert err.value.zh == ForgedCode.citizen_message
    assert issued(center) == 0


def test_an_expired_code_is_refused(center: Center, clock: ManualClock) -> None:
    app = center.tickets.book("estate", START, END)
    clock.set(DAY_END + dt.timedelta(hours=6))  # Tuesday 09:00: open, but the code is spent
    with pytest.raises(Refused, match="expired") as err:
        center.tickets.check_in(app.code)
    assert err.value.zh == ExpiredCode.citizen_message
    # and a genuine signature over an expiry already past
    token = dataclasses.replace(
        verify(app.code, key_of(center), START), expires_at=DAY_END - dt.timedelta(days=1)
    )
    with pytest.raises(Refused):
        center.tickets.check_in(sign(token, key_of(center)))
    assert issued(center) == 0


def test_plain_and_unknown_codes(center: Center) -> None:
    """The stored code alone is not accepted (only what the center signed); a genuine
    signature over a code that was never booked is not found."""
    app = center.tickets.book("estate", START, END)
    with pytest.raises(NotFound) as err:
        center.tickets.check_in(stored_code(center, app.id))
    assert err.value.zh == NotAnAppointmentCode.citizen_message
    unknown = AppointmentToken("NeverBooked12345", "estate", START, END, START, DAY_END)
    with pytest.raises(NotFound) as err:
        center.tickets.check_in(sign(unknown, key_of(center)))
    assert err.value.zh == "未找到该预约"
    assert issued(center) == 0


def test_without_a_data_key_codes_stay_plain(
    db_url: str, clock: ManualClock, make_center: Callable[..., Center]
) -> None:
    make_center()  # creates the schema
    cfg = HallConfig.model_validate(hall_dict())
    plain = Center.open(cfg, db_url, clock=clock)
    try:
        app = plain.tickets.book("estate", START, END)
        assert not app.code.startswith("hallq1.") and app.code == stored_code(plain, app.id)
        signed = sign(AppointmentToken(app.code, "estate", START, END, START, DAY_END), b"k" * 32)
        with pytest.raises(Refused) as err:
            plain.tickets.check_in(signed)
        assert err.value.zh == "预约码无法使用，请到咨询台办理"
        assert plain.tickets.check_in(app.code).service == "estate"
    finally:
        plain.close()
