"""Rating links: opaque, authenticated, expiring tokens; and where their key comes from."""

from __future__ import annotations

import base64
import datetime as dt
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from center.pii import PersonalData, new_key
from center.web.ratelink import (
    LINK_DAYS,
    TOKEN_LENGTH,
    BadLink,
    RatingLinks,
    link_key,
    page_path,
)

DAY = dt.date(2026, 11, 23)
KEY = bytes(range(32))
URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def test_a_token_opens_to_its_ticket_until_it_expires() -> None:
    links = RatingLinks(KEY)
    token = links.mint(4711, DAY)
    assert len(token) == TOKEN_LENGTH == 55 and set(token) <= URL_SAFE
    target = links.open(token, DAY)
    assert target.ticket_id == 4711 and target.valid_until == DAY + dt.timedelta(days=LINK_DAYS)
    assert links.open(token, target.valid_until).ticket_id == 4711
    with pytest.raises(BadLink, match="expired"):
        links.open(token, target.valid_until + dt.timedelta(days=1))
    assert page_path(token) == f"/rate/#t={token}"


def test_tokens_reveal_nothing_and_never_repeat() -> None:
    links = RatingLinks(KEY)
    tokens = {links.mint(1, DAY) for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=")
        assert (1).to_bytes(8, "big") not in raw[1:]  # the id is encrypted, not just signed


def test_another_key_or_any_change_is_refused() -> None:
    token = RatingLinks(KEY).mint(12, DAY)
    with pytest.raises(BadLink, match="not one of this hall's"):
        RatingLinks(bytes(32)).open(token, DAY)
    links = RatingLinks(KEY)
    for i in range(len(token)):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        with pytest.raises(BadLink):
            links.open(changed, DAY)


@settings(deadline=None)
@given(st.text(max_size=80) | st.text(alphabet=sorted(URL_SAFE), min_size=55, max_size=55))
def test_no_string_crashes_the_check(text: str) -> None:
    with pytest.raises(BadLink):
        RatingLinks(KEY).open(text, DAY)


def test_malformed_tokens() -> None:
    links = RatingLinks(KEY)
    for bad in ("", "A" * 54, "A" * 56, "é" * 55, "!" * 55, "A" * 55):
        with pytest.raises(BadLink):
            links.open(bad, DAY)
    wrong_version = base64.urlsafe_b64encode(b"\x02" + bytes(40)).rstrip(b"=").decode()
    with pytest.raises(BadLink, match="version"):
        links.open(wrong_version, DAY)
    with pytest.raises(ValueError):
        RatingLinks(b"short")


def test_the_key_comes_from_the_environment_first() -> None:
    env_key = base64.b64encode(bytes(range(1, 33))).decode()
    pii = PersonalData(new_key())
    assert link_key(pii, {"HALLQ_RATING_KEY": env_key}) == bytes(range(1, 33))
    with pytest.raises(ValueError, match="base64"):
        link_key(None, {"HALLQ_RATING_KEY": "not base64!"})
    with pytest.raises(ValueError, match="32 bytes"):
        link_key(None, {"HALLQ_RATING_KEY": base64.b64encode(b"short").decode()})


def test_else_it_is_derived_from_the_data_key() -> None:
    data_key = new_key()
    first = link_key(PersonalData(data_key), {})
    assert first == link_key(PersonalData(data_key), {})  # every process of the hall agrees
    assert len(first) == 32
    assert first != link_key(PersonalData(new_key()), {})
    assert first.hex() != PersonalData(data_key).lookup_hash("HALLQ-RATING-LINK-KEY-V1")


def test_without_any_key_the_process_makes_one(caplog: pytest.LogCaptureFixture) -> None:
    first = link_key(None, {})
    assert len(first) == 32 and link_key(None, {}) == first
