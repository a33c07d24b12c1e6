"""The dispatcher hands each function the full production path."""

from __future__ import annotations

import json

from werkzeug.test import Client

from emulators.host import LocalHost


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
