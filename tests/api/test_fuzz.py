"""Schemathesis against the served OpenAPI document: no input makes the server fail.

Every operation is called with the credentials of its audience (so generated data gets past
authentication into validation and the engine), with valid and with invalid data, a
bounded number of examples each. Any 5xx fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from center.api.app import create_app, openapi_document
from center.auth.roles import Role
from center.clock import ManualClock
from center.engine.center import Center
from center.pii import new_key
from tests.api.conftest import Api, api_hall
from tests.center.conftest import MONDAY_9

EXAMPLES = {"sqlite": 20, "postgres": 6}
"""Examples per operation: bounded so the whole run stays near 20 seconds."""
AUDIENCE = [
    ("/api/v1/kiosk/", "kiosk"),
    ("/api/v1/staff/", "staff"),
    ("/api/v1/windows/{window}/rating", "evaluator"),
    ("/api/v1/windows/{window}/keys", "keypad"),
    ("/api/v1/devices/", "kiosk"),
    ("/api/v1/display/", "display"),
    ("/api/v1/supervisor/", "supervisor"),
    ("/api/v1/", "kiosk"),
]
OPERATIONS = sorted(
    (method.upper(), path)
    for path, methods in openapi_document()["paths"].items()
    for method in methods
)


def audience(path: str) -> str:
    """Whose token an operation is called with."""
    return next(role for prefix, role in AUDIENCE if path.startswith(prefix))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzz_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, dict[str, dict[str, str]], int]]:
    """One hall per database kind, shared by every operation (the fuzzing may change it)."""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        url = server.create_database("hallq_fuzz")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'hall.db'}"
    clock = ManualClock(MONDAY_9)
    center = Center.open(api_hall(), url, clock=clock, data_key=new_key())
    app = create_app(center)
    api = Api(center, app, TestClient(app), clock)
    tokens = {
        "kiosk": api.device("k-tax", Role.KIOSK),
        "display": api.device("board", Role.DISPLAY),
        "evaluator": api.device("eval-1", Role.EVALUATOR, 1),
        "keypad": api.device("keys-1", Role.KEYPAD, 1),
        "supervisor": api.login("8001"),
    }
    for _ in range(3):
        api.http.post("/api/v1/kiosk/tickets", json={"service": "tax"}, headers=tokens["kiosk"])
    yield api, tokens, EXAMPLES[request.param]
    api.http.close()
    center.close()
    if request.param == "postgres":
        server.drop_database("hallq_fuzz")


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_input_makes_a_server_error(
    fuzz_api: tuple[Api, dict[str, dict[str, str]], int], method: str, path: str
) -> None:
    api, tokens, examples = fuzz_api
    tokens["staff"] = api.login("1001", 1)  # afresh: the fuzzing may have logged out
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operation = (
        schema[path][method].ok() if hasattr(schema[path][method], "ok") else schema[path][method]
    )
    headers = tokens[audience(path)]
    cases = st.one_of(
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers={**(case.headers or {}), **headers}, checks=[not_a_server_error]
        )

    run()
