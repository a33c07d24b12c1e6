"""The `login`, `slots` and `reports` functions' handlers on fakes: sign-in and its session, the
anonymous search with its limits, and the ministry's figures behind their role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.login import LoginHandlers
from functions.reports import ReportsHandlers
from functions.slots import SlotsHandlers
from shared.config import Settings
from shared.domain.booking import local_iso
from shared.domain.identity import Role
from shared.entrypoints.auth import Gate
from shared.entrypoints.web import Routes
from shared.services.search_answers import SearchAnswers
from tests.unit.handlers import Sessions, call, contract_errors, mounted, staff, throttle
from tests.unit.test_identity_service import PESEL, assertion
from tests.unit.test_identity_service import World as IdentityWorld
from tests.unit.test_reports import DAY, queries, reports_on
from tests.unit.test_search_service import NOW, A, at, search_over, slot

# --- login ---------------------------------------------------------------------------------------


def login_routes(world: IdentityWorld) -> Routes:
    # The gate checks sessions with the same identity service that opens them.
    return Gate(world.service, throttle()).routes(LoginHandlers(world.service, throttle()).table())


def test_a_login_answers_the_session_and_the_patient_and_logout_ends_it() -> None:
    world = IdentityWorld()
    routes = login_routes(world)

    answer = call(routes, "POST", "/api/v1/login", json={"assertion": assertion(PESEL)})

    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store" and answer.json is not None
    assert contract_errors("POST", "/api/v1/login", answer) == []
    token = answer.json["session_token"]
    assert answer.json["roles"] == ["patient"] and answer.json["patient"]["eligibility"]["status"] == "open"
    session = call(routes, "GET", "/api/v1/session", token)
    assert session.json is not None
    assert (session.json["roles"], session.json["patient_id"]) == (["patient"], answer.json["patient"]["patient_id"])
    assert call(routes, "POST", "/api/v1/logout", token).status_code == 204
    assert call(routes, "GET", "/api/v1/session", token).status_code == 401


def test_a_refused_assertion_is_401_with_the_reason_as_its_code_and_opens_no_session() -> None:
    world = IdentityWorld()
    answer = call(login_routes(world), "POST", "/api/v1/login", json={"assertion": "not-a-signed-assertion"})
    assert answer.status_code == 401 and answer.json is not None
    assert answer.json["code"] == "malformed_assertion" and answer.json["title"] == "Logowanie nie powiodło się"
    assert world.sessions.writes == 0


# --- slots ---------------------------------------------------------------------------------------


def slots_routes(settings: Settings | None = None) -> Routes:
    search, _ = search_over([slot(A, at(1, 9)), slot(A, at(2, 9))])
    programme = search.programme
    # No projection behind the search here: no answer is kept (tests/unit/test_search_answers.py keeps them).
    answers = SearchAnswers(None)
    handlers = SlotsHandlers(search, answers, search.points, programme, throttle(settings), now=lambda: NOW)
    return Routes(handlers.table())


def test_a_search_answers_free_slots_earliest_first_cacheable_when_anonymous() -> None:
    answer = call(slots_routes(), "GET", "/api/v1/slots", query={"voivodeship": "14"})
    assert answer.status_code == 200 and contract_errors("GET", "/api/v1/slots", answer) == []
    assert answer.json is not None
    assert [s["starts_at"] for s in answer.json["slots"]] == [local_iso(at(1, 9)), local_iso(at(2, 9))]
    assert answer.headers["Cache-Control"] == "public, max-age=5"


def test_a_search_names_its_flaw() -> None:
    for query, field, code in [
        ({"voivodeship": "14", "vaccine": "unknown-vaccine"}, "vaccine", "unknown_vaccine"),
        ({"voivodeship": "14", "county": "1261"}, "county", "invalid_field"),
        ({"voivodeship": "14", "from": NOW.isoformat(), "to": (NOW - timedelta(hours=1)).isoformat()}, "to",
         "invalid_field"),
    ]:  # fmt: skip
        answer = call(slots_routes(), "GET", "/api/v1/slots", query=query)
        assert answer.status_code == 400 and answer.json is not None, query
        assert (answer.json["field"], answer.json["code"]) == (field, code)


def test_an_address_over_the_search_limit_is_429_with_retry_after() -> None:
    routes = slots_routes(Settings(deployment="local", rate_limits={"search:ip": (0.001, 1)}))
    assert call(routes, "GET", "/api/v1/slots", query={"voivodeship": "14"}).status_code == 200
    limited = call(routes, "GET", "/api/v1/slots", query={"voivodeship": "14"})
    assert limited.status_code == 429 and limited.json is not None and limited.json["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0


# --- reports -------------------------------------------------------------------------------------


def reports_routes() -> Routes:
    at_noon = datetime(DAY.year, DAY.month, DAY.day, 11, tzinfo=UTC)
    handlers = ReportsHandlers(reports_on(queries()), throttle(), now=lambda: at_noon)
    sessions = Sessions({"analyst": staff("a-1", Role.ANALYST), "nurse": staff("n-1", Role.POINT_STAFF)})
    return mounted(handlers.table(), sessions)


def test_the_summary_is_for_analysts_of_today_by_default() -> None:
    routes = reports_routes()
    summary = call(routes, "GET", "/api/v1/reports/summary", "analyst")
    assert summary.status_code == 200 and summary.headers["Cache-Control"] == "private, no-store"
    assert summary.json is not None and summary.json["day"] == DAY.isoformat()
    refused = call(routes, "GET", "/api/v1/reports/summary", "nurse")
    assert refused.status_code == 403 and refused.json is not None and refused.json["code"] == "forbidden_role"


def test_an_unknown_metric_is_400_naming_it() -> None:
    answer = call(reports_routes(), "GET", "/api/v1/reports/timeseries", "analyst", query={"metric": "nonsense"})
    assert answer.status_code == 400 and answer.json is not None
    assert (answer.json["field"], answer.json["code"]) == ("metric", "unknown_metric")
