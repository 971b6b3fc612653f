"""The web pages: static files under ``center/web/static`` served as they are (no build step).

``/staff/`` the staff console, ``/supervisor/`` the live hall, ``/rate/`` the QR rating page,
``/web/`` what they share. Only plain file names with a known extension are served, from those
folders only; every page gets a strict Content-Security-Policy (scripts, styles and
connections to this origin only) and is never cached stale. The pages are not part of the
OpenAPI document.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from center.errors import NotFound

STATIC = Path(__file__).resolve().parent / "static"
PAGES = {"staff": "staff", "supervisor": "supervisor", "rate": "rate", "web": "common"}
"""URL folder → folder under ``static``."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,60}\.(html|js|css|svg|png|ico|woff2)$")
_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "ico": "image/x-icon",
    "woff2": "font/woff2",
}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
    "X-Frame-Options": "DENY",
}

router = APIRouter(include_in_schema=False)


def _file(folder: str, name: str) -> FileResponse:
    match = _NAME.match(name)
    path = STATIC / PAGES[folder] / name
    if match is None or not path.is_file():
        raise NotFound(f"no page file /{folder}/{name}", zh="页面不存在")
    return FileResponse(path, media_type=_TYPES[match.group(1)], headers=HEADERS)


def _add(folder: str) -> None:
    if folder != "web":

        @router.get(f"/{folder}", name=f"{folder}_redirect")
        def redirect() -> RedirectResponse:
            return RedirectResponse(f"/{folder}/", status_code=308)

        @router.get(f"/{folder}/", name=f"{folder}_page")
        def page() -> FileResponse:
            return _file(folder, "index.html")

    @router.get(f"/{folder}/{{name}}", name=f"{folder}_file")
    def file(name: str) -> FileResponse:
        return _file(folder, name)


for _folder in PAGES:
    _add(_folder)
