"""Hostile input over HTTP: each class of input that once ended in a 500 now gets a 4xx problem."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from urllib.parse import urlsplit

import pytest

from emulators.dev_idp import key_id, signing_key
from tests.e2e.conftest import Api
from tests.e2e.test_booking import book, find_slots
from tests.e2e.test_login import _claims, _hand_made


def _rs256(data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return signing_key().sign(data, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(
    "header",
    [
        {"alg": ["RS256"], "kid": "k"},
        {"alg": {"RS256": 1}, "kid": "k"},
        {"alg": "RS256", "kid": ["a", "b"]},
        {"alg": "RS256", "kid": {"k": 1}},
        {"alg": "RS256", "kid": 7},
        {"alg": None},
    ],
    ids=str,
)
def test_a_jwt_header_with_wrong_json_types_is_401(api: Api, new_pesel, header: dict[str, object]) -> None:
    assertion = _hand_made({**header, "typ": "JWT"}, _claims(new_pesel()), _rs256)
    response = api.call("POST", "/api/v1/login", json={"assertion": assertion})
    assert response.status_code == 401, response.text
    assert response.json()["code"] in ("malformed_assertion", "algorithm_not_allowed", "unknown_signing_key")


def test_jwt_claims_with_wrong_json_types_are_401(api: Api, new_pesel) -> None:
    for claims in ({"iat": "x"}, {"exp": [1]}, {"iss": ["a"]}, {"aud": {"a": 1}}, {"jti": {"a": 1}}):
        assertion = _hand_made({"alg": "RS256", "kid": key_id()}, {**_claims(new_pesel()), **claims}, _rs256)
        response = api.call("POST", "/api/v1/login", json={"assertion": assertion})
        assert response.status_code == 401, (claims, response.text)


EDGE_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-12:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59+01:00",
    "9999-12-31T23:59:59Z",
]


@pytest.mark.parametrize("when", EDGE_TIMES)
def test_calendar_edges_in_search_filters_are_400(api: Api, when: str) -> None:
    point = find_slots(api, "comirnaty", enough=1)[0]["point_id"]
    for params in (
        {"voivodeship": "14", "from": when},
        {"voivodeship": "14", "to": when},
        {"voivodeship": "14", "from": when, "to": when},
        {"point_id": point, "from": when},
        {"point_id": point, "to": when},
    ):
        response = api.call("GET", "/api/v1/slots", params=params)
        assert response.status_code == 400, (params, response.text)


@pytest.mark.parametrize("when", EDGE_TIMES)
def test_calendar_edges_in_booking_and_move_bodies_are_4xx(api: Api, new_pesel, when: str) -> None:
    token = api.login(new_pesel())["session_token"]
    slot = find_slots(api, "comirnaty", enough=1)[0]
    response = book(api, token, {**slot, "starts_at": when})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "starts_at"
    moved = api.call(
        "PATCH", f"/api/v1/visits/{uuid.uuid4()}", token, json={"point_id": slot["point_id"], "starts_at": when}
    )
    assert moved.status_code == 400, moved.text


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_calendar_edges_in_day_lists_are_400(api: Api, new_pesel, day: str) -> None:
    point = find_slots(api, "comirnaty", enough=1)[0]["point_id"]
    staff = api.login(new_pesel(), roles=["point_staff"], point_ids=[point])["session_token"]
    response = api.call("GET", f"/api/v1/points/{point}/visits", staff, params={"day": day})
    assert (response.status_code, response.json().get("field")) == (400, "day"), response.text


def _token(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "decoded",
    [
        {"a": 1},
        [1, 2, 3, 4],
        ["x", 1, None, []],
        ["x", ["2026-01-01T00:00:00+00:00"], "p", "v"],
        ["x", "0001-01-01T00:00:00+14:00", "p", "v"],
        ["x", "9999-12-31T23:59:59-14:00", "p", "v"],
        "just a string",
        None,
    ],
    ids=str,
)
def test_page_tokens_of_valid_json_with_wrong_types_or_extreme_dates_are_400(api: Api, decoded: object) -> None:
    response = api.call("GET", "/api/v1/slots", params={"voivodeship": "14", "page_token": _token(decoded)})
    assert (response.status_code, response.json().get("field")) == (400, "page_token"), response.text


def test_a_page_token_of_another_search_with_extreme_dates_is_400(api: Api) -> None:
    first = api.call("GET", "/api/v1/slots", params={"voivodeship": "14", "limit": "1"}).json()
    raw = json.loads(base64.urlsafe_b64decode(first["next_page_token"] + "=="))
    for starts in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        token = _token([raw[0], starts, raw[2], raw[3]])
        response = api.call("GET", "/api/v1/slots", params={"voivodeship": "14", "page_token": token})
        assert response.status_code == 400, response.text


def test_deeply_nested_json_bodies_are_400(api: Api, new_pesel) -> None:
    token = api.login(new_pesel())["session_token"]
    for depth in (2_000, 20_000):
        nested = b"[" * depth + b"]" * depth
        for method, path in (("POST", "/api/v1/login"), ("POST", "/api/v1/visits")):
            response = api.call(method, path, token, data=nested, headers={"Content-Type": "application/json",
                                                                            "Idempotency-Key": "k"})  # fmt: skip
            assert response.status_code == 400, (path, response.text)
            assert response.json()["code"] == "malformed_json"


def _raw(base: str, method: str, path: str, headers: dict[str, bytes]) -> tuple[int, bytes]:
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


NON_ASCII = [b"Bearer \xc3\xa9\xc5\x82", b"\xff\xfe Bearer x", b"Bearer \x85abc", "Bearer ząb".encode()]
ROUTES = [
    ("GET", "/api/v1/visits"),
    ("GET", "/api/v1/slots?voivodeship=14"),
    ("GET", "/api/v1/session"),
    ("POST", "/api/v1/sms/delivery-reports"),
    ("POST", "/api/v1/agent/patients:lookup"),
]


@pytest.mark.parametrize("value", NON_ASCII)
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_non_ascii_bytes_in_the_authorization_header_are_not_a_500(
    api: Api, value: bytes, method: str, path: str
) -> None:
    status, body = _raw(api.base, method, path, {"Authorization": value, "X-Forwarded-For": b"198.18.0.1, 35.191.0.1"})
    assert status < 500, body
    if "slots" not in path:  # searches are anonymous: a header they do not read changes nothing
        assert status in (400, 401, 429), body


@pytest.mark.parametrize(
    "path",
    [
        "//api/v1/visits",
        "/api/v1//visits",
        "/api/v1/agent//visits",
        "/api/v1/agent/visits//x",
        "/api/v1/visits//",
        "/api/v1/points//visits",
        "/api/v1/sms//delivery-reports",
        "/api/v1/agent/patients:lookup//",
    ],
)
def test_paths_with_a_double_slash_are_404(api: Api, new_pesel, path: str) -> None:
    token = api.login(new_pesel(), roles=["agent"])["session_token"]
    for method in ("GET", "POST", "PATCH", "DELETE"):
        response = api.call(method, path, token, allow_redirects=False)
        assert response.status_code in (404, 405), (method, path, response.status_code, response.text)
        assert response.headers["Content-Type"].startswith("application/problem+json")
