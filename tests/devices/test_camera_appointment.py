"""Signed appointment codes: genuine ones pass; forged, tampered and expired ones do not."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.camera.appointment import (
    AppointmentCodeError,
    AppointmentToken,
    ExpiredCode,
    ForgedCode,
    NotAnAppointmentCode,
    sign,
    verify,
)

CST = dt.timezone(dt.timedelta(hours=8))
KEY = b"hallq-test-key-0123456789abcdef!"
OTHER_KEY = b"another-hall-key-0123456789abcd!"
TOKEN = AppointmentToken(
    code="Xq3v9LpA2mRtY7kB",
    service="SB",
    slot_start=dt.datetime(2025, 3, 4, 9, 0, tzinfo=CST),
    slot_end=dt.datetime(2025, 3, 4, 9, 30, tzinfo=CST),
    issued_at=dt.datetime(2025, 3, 1, 16, 12, 5, tzinfo=CST),
    expires_at=dt.datetime(2025, 3, 4, 17, 30, tzinfo=CST),
)
# The code for TOKEN and KEY (tests/fixtures/camera/README.md): the format must not drift.
GOLDEN = (
    "hallq1.eyJjb2RlIjoiWHEzdjlMcEEybVJ0WTdrQiIsImVuZCI6IjIwMjUtMDMtMDRUMDk6MzA6MDArMDg6MDAiLC"
    "JleHAiOiIyMDI1LTAzLTA0VDE3OjMwOjAwKzA4OjAwIiwiaXNzdWVkIjoiMjAyNS0wMy0wMVQxNjoxMjowNSswODow"
    "MCIsInNlcnZpY2UiOiJTQiIsInN0YXJ0IjoiMjAyNS0wMy0wNFQwOTowMDowMCswODowMCJ9."
    "e1gHK5UIrrud9Y187wVTyRP9fV29IcIMj0NMQaGxLsM"
)
DURING = dt.datetime(2025, 3, 4, 9, 10, tzinfo=CST)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_golden_code() -> None:
    assert sign(TOKEN, KEY) == GOLDEN
    assert verify(GOLDEN, KEY, DURING) == TOKEN


def test_golden_payload_is_the_documented_json() -> None:
    payload = GOLDEN.split(".")[1]
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert body == {
        "code": "Xq3v9LpA2mRtY7kB",
        "service": "SB",
        "start": "2025-03-04T09:00:00+08:00",
        "end": "2025-03-04T09:30:00+08:00",
        "issued": "2025-03-01T16:12:05+08:00",
        "exp": "2025-03-04T17:30:00+08:00",
    }


def test_a_code_signed_with_another_key_is_forged() -> None:
    with pytest.raises(ForgedCode, match="signature"):
        verify(sign(TOKEN, OTHER_KEY), KEY, DURING)


def test_a_tampered_payload_is_forged() -> None:
    """GIVEN a genuine code WHEN its payload is rewritten (another service, a later slot)
    and the old signature kept THEN it is rejected as forged."""
    _, payload, signature = GOLDEN.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["end"] = "2025-03-04T23:59:00+08:00"
    tampered = f"hallq1.{b64(json.dumps(body, sort_keys=True, separators=(',', ':')).encode())}.{signature}"
    with pytest.raises(ForgedCode):
        verify(tampered, KEY, DURING)


def test_a_signature_moved_to_another_payload_is_forged() -> None:
    other = sign(dataclasses.replace(TOKEN, code="AAAAAAAAAAAAAAAA"), KEY)
    mixed = ".".join([*other.split(".")[:2], GOLDEN.split(".")[2]])
    with pytest.raises(ForgedCode):
        verify(mixed, KEY, DURING)


@pytest.mark.parametrize(
    "code",
    [
        "hallq1.abc",
        "hallq1.a.b.c",
        "hallq1.not base64!.e1gH",
        "hallq1..",
        GOLDEN[:-4],
    ],
)
def test_malformed_codes_are_forged(code: str) -> None:
    with pytest.raises(ForgedCode):
        verify(code, KEY, DURING)


@pytest.mark.parametrize(
    "text", ["https://example.com/pay?id=1", "", "HALLQ1." + GOLDEN[7:], "hallq1" + "x" * 2000]
)
def test_other_qr_codes_are_not_appointment_codes(text: str) -> None:
    with pytest.raises(NotAnAppointmentCode) as caught:
        verify(text, KEY, DURING)
    assert "预约码" in caught.value.citizen_message


def test_expired_at_exp_not_at_slot_end() -> None:
    late_but_today = dt.datetime(2025, 3, 4, 16, 0, tzinfo=CST)
    assert verify(GOLDEN, KEY, late_but_today).code == TOKEN.code
    with pytest.raises(ExpiredCode, match="2025-03-04T17:30"):
        verify(GOLDEN, KEY, TOKEN.expires_at)  # type: ignore[arg-type]


def test_without_exp_the_code_expires_at_slot_end() -> None:
    code = sign(dataclasses.replace(TOKEN, expires_at=None), KEY)
    assert '"exp"' not in base64.urlsafe_b64decode(code.split(".")[1] + "===").decode()
    verify(code, KEY, TOKEN.slot_end - dt.timedelta(seconds=1))
    with pytest.raises(ExpiredCode) as caught:
        verify(code, KEY, TOKEN.slot_end.astimezone(dt.UTC))
    assert caught.value.citizen_message == "预约时段已过，请现场取号或重新预约"


def test_key_rotation_accepts_any_listed_key() -> None:
    assert verify(sign(TOKEN, OTHER_KEY), [KEY, OTHER_KEY], DURING) == TOKEN
    with pytest.raises(ValueError, match="no verification key"):
        verify(GOLDEN, [], DURING)


def test_errors_are_one_family_with_chinese_messages() -> None:
    for error in (ForgedCode, ExpiredCode, NotAnAppointmentCode):
        assert issubclass(error, AppointmentCodeError)
        assert error.citizen_message and error.citizen_message.isascii() is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slot_start": dt.datetime(2025, 3, 4, 9, 0)}, "timezone-aware"),
        ({"slot_end": TOKEN.slot_start}, "end after"),
        ({"code": "x" * 1000}, "too long"),
    ],
)
def test_sign_refuses_bad_tokens(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sign(dataclasses.replace(TOKEN, **changes), KEY)  # type: ignore[arg-type]


def test_sign_refuses_short_keys_and_verify_naive_now() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        sign(TOKEN, b"short")
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(GOLDEN, KEY, dt.datetime(2025, 3, 4, 9, 10))


def test_a_validly_signed_but_unreadable_payload_is_a_code_error_not_a_crash() -> None:
    import hashlib
    import hmac

    payload = b64(b'{"code": 1}')
    signature = b64(hmac.new(KEY, f"hallq1.{payload}".encode(), hashlib.sha256).digest())
    with pytest.raises(AppointmentCodeError, match="unreadable"):
        verify(f"hallq1.{payload}.{signature}", KEY, DURING)


@given(st.text(max_size=400))
def test_verify_only_ever_raises_code_errors(text: str) -> None:
    with contextlib.suppress(AppointmentCodeError):
        verify(text, KEY, DURING)
