"""Web-page fixtures: the county hall served by a real uvicorn on 127.0.0.1 (API, live event
stream and pages), a steerable clock, and headless Chromium driven by Playwright.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``, or ``$HALLQ_CHROMIUM``), started by
Playwright's ``launch`` (a fresh temporary profile every time); Playwright never downloads a
browser here. Without Chromium or Playwright the browser tests are skipped, unless
``HALLQ_REQUIRE_BROWSER=1`` or ``CI`` says they must run.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from center.api import events
from center.api.app import create_app
from center.auth.roles import Role
from center.clock import ManualClock
from center.engine.center import Center
from center.pii import new_key
from config import load as load_config
from tests.api.conftest import Api, api_hall
from tests.center.conftest import MONDAY_9
from tests.client.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
COUNTY = ROOT / "config" / "examples" / "county.toml"
ARTIFACTS = ROOT / "var" / "artifacts" / "web"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


def chromium_path() -> str | None:
    """Debian's Chromium, if installed."""
    given = os.environ.get("HALLQ_CHROMIUM")
    if given:
        return given
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


def _browser_required() -> bool:
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("HALLQ_REQUIRE_BROWSER") == "1"


class WebCenter:
    """The county hall's center, serving on a free port in a thread of this process."""

    def __init__(self, db_url: str, clock: ManualClock) -> None:
        self.cfg = load_config(str(COUNTY))
        self.clock = clock
        self.center = Center.open(self.cfg, db_url, clock=clock, data_key=new_key())
        self.app = create_app(self.center)
        if getattr(self.app.state, "event_hub", None) is None:
            events.attach(self.app, self.center.store, poll_seconds=0.2)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._tokens: dict[str, str] = {}

    def start(self) -> None:
        """Serve until :meth:`stop`."""
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the center did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop serving and close the database."""
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self.http.close()
        self.center.close()

    # --- API helpers (what kiosks, evaluators and other windows do meanwhile) -------------

    def device(self, name: str, kind: Role, window: int | None = None) -> dict[str, str]:
        """A registered device's Authorization header (registered on first use)."""
        if name not in self._tokens:
            self._tokens[name] = self.app.state.hall.devices.add(name, kind, window)
        return {"Authorization": f"Bearer {self._tokens[name]}"}

    def call(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        """One API call that must succeed; its JSON body."""
        r = self.http.request(method, path, headers=headers, **kw)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def issue(self, service: str) -> dict[str, Any]:
        """A ticket taken at the entrance kiosk."""
        kiosk = self.device("entrance", Role.KIOSK)
        return dict(self.call("POST", "/api/v1/kiosk/tickets", kiosk, json={"service": service}))

    def rating_link(self, ticket_id: int) -> str:
        """The path of the ticket's QR rating link (``/rate/#t=…``)."""
        kiosk = self.device("entrance", Role.KIOSK)
        out = self.call("POST", f"/api/v1/kiosk/tickets/{ticket_id}/rating-link", kiosk)
        return str(out["path"])

    def login(self, staff: str, window: int | None = None) -> dict[str, str]:
        """A staff session's Authorization header (the county demo PIN is the 工号)."""
        body: dict[str, Any] = {"staff": staff, "pin": staff}
        if window is not None:
            body["window"] = window
        out = self.call("POST", "/api/v1/staff/login", {}, json=body)
        return {"Authorization": f"Bearer {out['token']}"}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebCenter]:
    """One county hall per test module, on Monday 2026-11-23 09:00 (the clock only moves when
    a test moves it)."""
    db = tmp_path_factory.mktemp("web") / "hall.db"
    center = WebCenter(f"sqlite:///{db}", ManualClock(MONDAY_9))
    center.start()
    yield center
    center.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), one per test module."""
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        path = None
    if path is None:
        if _browser_required():
            pytest.fail("chromium or playwright is missing (HALLQ_REQUIRE_BROWSER/CI is set)")
        pytest.skip("needs Debian's chromium and the playwright package")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def desk_context(browser: Any, web: WebCenter) -> Any:
    """A browser context like a window PC's: 1366×900, Chinese, hall time."""
    ctx = browser.new_context(
        base_url=web.url,
        viewport={"width": 1366, "height": 900},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def phone_context(browser: Any, web: WebCenter) -> Any:
    """A browser context like a phone's: 390×844, touch, mobile."""
    ctx = browser.new_context(
        base_url=web.url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def shot(page: Any, name: str) -> Path:
    """Save a screenshot to var/artifacts/web/NAME.png."""
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def open_api(url: str) -> Iterator[Api]:
    """The API tests' small hall (tests/api/conftest.py) on a TestClient, at Monday 09:00."""
    clock = ManualClock(MONDAY_9)
    center = Center.open(api_hall(), url, clock=clock, data_key=new_key())
    app = create_app(center)
    try:
        with TestClient(app) as http:
            yield Api(center, app, http, clock)
    finally:
        center.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The small hall's API on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hall.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    with open_api(url) as api:
        yield api


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Api]:
    """The small hall's API on SQLite only (for what does not touch the database)."""
    with open_api(f"sqlite:///{tmp_path / 'hall.db'}") as api:
        yield api
