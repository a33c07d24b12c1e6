"""The dispatcher hands each function the full production path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from werkzeug.test import Client

from emulators.host import LocalHost, http_mounts, route_pattern
from tests.unit.function_routes import function_rules


def _app(name: str):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"app": name, "path": environ["PATH_INFO"]}).encode()]

    return app


def _client() -> Client:
    host = LocalHost({"health": _app("health")}, {"notify": _app("notify")}, {"/dev/idp": _app("idp")})
    return Client(host)


def test_http_function_sees_the_full_path() -> None:
    response = _client().get("/api/v1/health")
    assert response.json == {"app": "health", "path": "/api/v1/health"}


def test_push_path_reaches_the_event_function() -> None:
    response = _client().post("/_push/notify/projects/demo-ereg/topics/visit-events")
    assert response.json == {"app": "notify", "path": "/_push/notify/projects/demo-ereg/topics/visit-events"}


def test_prefix_mount_does_not_swallow_lookalike_paths() -> None:
    assert _client().get("/dev/idp/jwks.json").get_json()["app"] == "idp"
    response = _client().get("/dev/idpx")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_unknown_push_function_is_404() -> None:
    assert _client().post("/_push/nobody/projects/p/topics/t").status_code == 404


def _function_routes() -> list[tuple[str, str, str]]:
    """(function, method, example path) of every route every HTTP function serves."""
    found = []
    for function, rule in function_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "0b6c3a0e-5d1f-4c55-9a8e-2f4f6a1b7c9d", rule.rule)
        found += [(function, m, path) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")]
    return found


@pytest.mark.parametrize(("function", "method", "path"), _function_routes())
def test_the_host_sends_every_route_to_the_function_that_serves_it(function: str, method: str, path: str) -> None:
    from emulators.host import HTTP_MOUNTS

    host = LocalHost({m.function: _app(m.function) for m in HTTP_MOUNTS}, {}, {})
    response = Client(host).open(path, method=method)
    assert response.json == {"app": function, "path": path}


def test_every_mount_has_a_function_route_behind_it() -> None:
    from emulators.host import HTTP_MOUNTS

    routes = _function_routes()
    for mount in HTTP_MOUNTS:
        assert any(re.match(mount.pattern, path) for function, _, path in routes if function == mount.function), mount


def test_mounts_are_the_route_templates_of_functions_yaml(tmp_path: Path) -> None:
    declaration = tmp_path / "functions.yaml"
    declaration.write_text(
        "functions:\n"
        "  a: {trigger: http, routes: [/api/v1/a, '/api/v1/a/{id=*}/b', /api/v1/c/**]}\n"
        "  e: {trigger: {topic: t}}\n"
        "  b: {trigger: http, routes: [/api/v1/b], entry_point: b_entry}\n"
    )
    mount, other = http_mounts(declaration)
    assert (mount.function, other.function) == ("a", "b_entry")
    pattern = re.compile(mount.pattern)
    for path in ("/api/v1/a", "/api/v1/a/", "/api/v1/a/x-1/b", "/api/v1/c/", "/api/v1/c/d/e"):
        assert pattern.match(path), path
    for path in ("/api/v1/ab", "/api/v1/a/x/y/b", "/api/v1/a/x/bc", "/api/v1/c"):
        assert not pattern.match(path), path


def test_a_template_is_literal_outside_its_wildcards() -> None:
    assert not re.match(route_pattern(["/api/v1/x.y"]), "/api/v1/xzy")
