"""Token files, and reports through the outboxes with each device's own token."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from display.reports import DeviceTokens, OutboxReports, TokenFileError
from tests.display.conftest import wait_for


def test_a_token_file_names_each_device() -> None:
    text = "# tokens\ndisplay hqd_d\nkeypad 3 hqd_k3\n\nevaluator 3 hqd_e3\nkeypad 12 hqd_k12\n"
    tokens = DeviceTokens.parse(text)
    assert tokens == DeviceTokens("hqd_d", {3: "hqd_k3", 12: "hqd_k12"}, {3: "hqd_e3"})


def test_a_bare_token_is_the_display_token(tmp_path: Path) -> None:
    path = tmp_path / "t"
    path.write_text("hqd_only\n")
    assert DeviceTokens.load(path) == DeviceTokens("hqd_only")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("keypad 3 hqd_k\n", "no 'display TOKEN' line"),
        ("display a\nkeypad x hqd\n", "<tokens>:2: expected"),
        ("display a\nprinter 1 b\n", "<tokens>:2: expected"),
    ],
)
def test_a_bad_token_file_says_where(text: str, message: str) -> None:
    with pytest.raises(TokenFileError, match=message):
        DeviceTokens.parse(text)


def test_a_missing_token_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="nope"):
        DeviceTokens.load(tmp_path / "nope")


def test_reports_go_with_their_device_token_and_a_stable_key(tmp_path: Path) -> None:
    """GIVEN the center down, WHEN reports are made, THEN they wait on disk and go in order later."""
    seen: list[tuple[str, str, dict[str, object], str]] = []
    up = False

    def handler(request: httpx.Request) -> httpx.Response:
        if not up:
            raise httpx.ConnectError("refused")
        body = json.loads(request.content)
        seen.append((request.url.path, request.headers["authorization"], body,
                     request.headers["idempotency-key"]))  # fmt: skip
        return httpx.Response(200, json={"ok": True})

    tokens = DeviceTokens("hqd_d", {2: "hqd_k2"}, {3: "hqd_e3"})
    reports = OutboxReports(
        "http://center", tokens, tmp_path, transport=httpx.MockTransport(handler)
    )
    reports.start()
    try:
        reports.key(2, "next")
        reports.rating(3, 5)
        reports.fault("bus.port_lost", "bus hall: serial port lost", bus="hall")
        reports.key(1, "recall")  # no keypad token for window 1: the display token
        assert wait_for(lambda: reports.pending() == 4)
        up = True
        assert wait_for(lambda: reports.pending() == 0, timeout=15)
    finally:
        reports.stop()
    by_path = {(p, auth): body for p, auth, body, _ in seen}
    assert by_path == {
        ("/api/v1/windows/2/keys", "Bearer hqd_k2"): {"key": "next"},
        ("/api/v1/windows/3/rating", "Bearer hqd_e3"): {"level": 5},
        ("/api/v1/devices/fault", "Bearer hqd_d"): {
            "code": "bus.port_lost",
            "message": "bus hall: serial port lost",
            "detail": {"bus": "hall"},
        },
        ("/api/v1/windows/1/keys", "Bearer hqd_d"): {"key": "recall"},
    }
    assert len({key for *_, key in seen}) == 4
    assert sorted(p.name for p in tmp_path.glob("outbox-*.db")) == [
        "outbox-display.db",
        "outbox-evaluator-3.db",
        "outbox-keypad-2.db",
    ]
