"""The committed OpenAPI document is the one the center serves.

When this fails after a deliberate API change, regenerate the file:
``.venv/bin/hallq center --dump-openapi docs/api/openapi.json`` (or
``.venv/bin/python -m center.cli_center --dump-openapi docs/api/openapi.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from center.api.app import openapi_document
from center.cli_center import center_main
from tests.api.conftest import Api

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"
REGENERATE = (
    "regenerate: .venv/bin/python -m center.cli_center --dump-openapi docs/api/openapi.json"
)


def test_the_served_document_matches_the_committed_one(api: Api) -> None:
    served = api.http.get("/openapi.json").json()
    assert served == json.loads(COMMITTED.read_text(encoding="utf-8")), REGENERATE
    assert served == openapi_document()


def test_the_dump_is_byte_for_byte_the_committed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert center_main(["--dump-openapi", str(tmp_path / "openapi.json")]) == 0
    assert (tmp_path / "openapi.json").read_bytes() == COMMITTED.read_bytes(), REGENERATE
    assert center_main(["--dump-openapi", "-"]) == 0
    assert capsys.readouterr().out == COMMITTED.read_text(encoding="utf-8")


def test_every_protected_operation_declares_bearer_auth() -> None:
    doc = openapi_document()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    public = {"/api/v1/health", "/api/v1/staff/login", "/api/v1/rate", "/api/v1/rate/visit"}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert ("security" in op) == (path not in public), f"{method} {path}"
