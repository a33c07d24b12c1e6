"""The HTTP plumbing every function shares: problems, never a 500 for bad input."""

from __future__ import annotations

import pytest
from flask import Flask, Request
from pydantic import BaseModel, Field

from shared.config import SecretNotConfigured
from shared.entrypoints.web import LazyRoutes, Problem, Routes, json_response, parse_json

app = Flask(__name__)


class Body(BaseModel):
    name: str = Field(min_length=1)
    count: int


def _echo(request: Request):
    body = parse_json(request, Body)
    return json_response(body.model_dump(), status=201)


def _item(request: Request, item_id: str):
    if item_id == "gone":
        raise Problem(404, "item_not_found", "Nie ma takiej pozycji")
    if item_id == "boom":
        raise RuntimeError("bug with PESEL 85010112345")
    return json_response({"id": item_id})


ROUTES = Routes({("POST", "/api/v1/echo"): _echo, ("GET", "/api/v1/items/<item_id>"): _item})


def _call(method: str, path: str, data: bytes | None = None):
    with app.test_request_context(path, method=method, data=data, content_type="application/json"):
        from flask import request

        return ROUTES.dispatch(request)


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        (b"{not json", "malformed_json", None),
        (b"[1, 2]", "malformed_json", None),
        (b"\xff\xfe", "malformed_json", None),
        (b'{"name": "", "count": 1}', "invalid_field", "name"),
        (b'{"name": "a", "count": "many"}', "invalid_field", "count"),
        (b'{"name": "a"}', "invalid_field", "count"),
    ],
)
def test_bad_bodies_are_400_problems_naming_the_field(data: bytes, code: str, field: str | None) -> None:
    response = _call("POST", "/api/v1/echo", data)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json is not None
    assert response.json["code"] == code
    assert response.json.get("field") == field


def test_good_body_passes() -> None:
    response = _call("POST", "/api/v1/echo", b'{"name": "a", "count": 2}')
    assert (response.status_code, response.json) == (201, {"name": "a", "count": 2})


def test_oversized_body_is_413() -> None:
    assert _call("POST", "/api/v1/echo", b'{"name": "' + b"a" * 70000 + b'"}').status_code == 413


def test_problem_and_unknown_route_and_bug() -> None:
    assert _call("GET", "/api/v1/items/gone").json["code"] == "item_not_found"
    assert _call("GET", "/api/v1/items/x/y").status_code == 404
    assert _call("DELETE", "/api/v1/items/x").status_code == 405
    crashed = _call("GET", "/api/v1/items/boom")
    assert crashed.status_code == 500
    assert "85010112345" not in crashed.get_data(as_text=True)


def test_lazy_routes_are_composed_once_and_a_failed_composition_is_a_503_tried_again() -> None:
    builds: list[str] = []

    def compose() -> Routes:
        builds.append("built")
        if len(builds) == 1:
            raise SecretNotConfigured("EREG_AUDIT_HASH_KEY must be configured in a cloud deployment")
        return ROUTES

    lazy = LazyRoutes(compose)
    with app.test_request_context("/api/v1/items/a"):
        from flask import request

        first = lazy.dispatch(request)
        assert (first.status_code, first.json and first.json["code"]) == (503, "not_configured")
        assert [lazy.dispatch(request).status_code for _ in range(3)] == [200, 200, 200]
    assert builds == ["built", "built"]
