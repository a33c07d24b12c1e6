"""Property-based fuzzing of every route in openapi.yaml (schemathesis) against the local host:
whatever it sends, valid or not, the answer is never a 5xx.

Every case carries a live session of the role its route wants (patient, agent, point staff of a real
point, analyst, the SMS operator's report token), so the fuzzer reaches the handlers, not just the 401 path.
The run is bounded by the number of examples per route (about a minute in all on the dev machine).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from shared.bootstrap import Container
from shared.config import Settings
from tests.e2e.conftest import Api, fresh_pesel, running_host
from tests.e2e.test_booking import find_slots

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"
schema = schemathesis.openapi.from_path(OPENAPI)
EXAMPLES_PER_ROUTE = 25
# The fuzzer is one client sending hundreds of requests: per-client limits would answer most with 429.
NO_RATE_LIMITS = {scope: (1e9, 1_000_000) for scope in Settings(deployment="local").rate_limits}


@pytest.fixture(scope="module")
def fuzz_target(emulator_env: dict[str, str], e2e_backends: Container) -> Iterator[dict[str, Any]]:
    # Strong search reads: a stale read of a database younger than the staleness finds no tables.
    overrides = {"EREG_RATE_LIMITS": json.dumps(NO_RATE_LIMITS), "EREG_SPANNER_SEARCH_STALENESS_S": "0"}
    with running_host(emulator_env, e2e_backends.settings, "fuzz", overrides) as base:
        api = Api(base, "198.18.30.1")
        point_id = find_slots(api, "comirnaty", enough=1)[0]["point_id"]
        tokens = {
            "patient": api.login(fresh_pesel())["session_token"],
            "agent": api.login(fresh_pesel(), roles=["agent"])["session_token"],
            "point_staff": api.login(fresh_pesel(), roles=["point_staff"], point_ids=[point_id])["session_token"],
            "analyst": api.login(fresh_pesel(), roles=["analyst"])["session_token"],
            "sms": e2e_backends.settings.secret("sms_report_token"),
        }
        yield {"base": base, "tokens": tokens, "point_id": point_id}


def _role(path: str) -> str:
    if path.startswith("/api/v1/agent/"):
        return "agent"
    if path.startswith("/api/v1/points/{point_id}"):
        return "point_staff"
    if path.startswith("/api/v1/sms/"):
        return "sms"
    if path.startswith("/api/v1/reports/"):
        return "analyst"
    return "patient"


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure here is a regression, not luck
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
def test_no_route_answers_5xx_whatever_it_is_sent(case: schemathesis.Case[Any], fuzz_target: dict[str, Any]) -> None:
    headers = dict(case.headers or {})
    headers["Authorization"] = f"Bearer {fuzz_target['tokens'][_role(case.path)]}"
    if case.path_parameters and "point_id" in case.path_parameters:
        case.path_parameters["point_id"] = fuzz_target["point_id"]  # the staff's own point: past the 403
    case.call_and_validate(base_url=fuzz_target["base"], headers=headers, checks=[not_a_server_error], timeout=30)
