"""A harness for the HTTP handlers on fakes: a gate over a table of sessions, and requests to routes.

A bearer token names a principal of ``Sessions``; no token is no session. Rate limits are the real
in-process buckets (no Redis), with the configured limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, Request, Response
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shared.config import Settings
from shared.domain.identity import Principal, Role
from shared.domain.ratelimit import RateLimiter
from shared.entrypoints.auth import Gate, Throttle
from shared.entrypoints.web import Routes, RouteTable
from shared.services.identity import NotAuthenticated
from shared.services.rate_limits import RateLimits

app = Flask(__name__)


@dataclass
class Sessions:
    """Token -> principal; what the identity service's ``authenticate`` answers for each."""

    principals: dict[str, Principal] = field(default_factory=dict)

    def authenticate(self, token: str | None, now: datetime) -> Principal:
        if token is None:
            raise NotAuthenticated("no_session")
        if token not in self.principals:
            raise NotAuthenticated("invalid_session")
        return self.principals[token]


class AuditEntries:
    """The staff audit trail, in memory: (staff id, action, details) per entry."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, dict[str, Any]]] = []

    def record(self, staff_id: str, action: str, at: datetime, entry_id: str | None = None, **details: Any) -> None:
        self.entries.append((staff_id, action, details))


class Unused:
    """A dependency the route under test must not touch."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the handler used {name} of a service it was not meant to need")


def throttle(settings: Settings | None = None) -> Throttle:
    settings = settings or Settings(deployment="local")
    return Throttle(RateLimits(None, RateLimiter()), settings.rate_limits, settings.trusted_proxy_hops)


def mounted(table: RouteTable, sessions: Sessions) -> Routes:
    return Gate(sessions, throttle()).routes(table)


def call(
    routes: Routes,
    method: str,
    path: str,
    token: str | None = None,
    json: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> Response:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    with app.test_request_context(path, method=method, json=json, headers=sent, query_string=query):
        from flask import request

        handled: Request = request
        return routes.dispatch(handled)


def patient(patient_id: str) -> Principal:
    return Principal(f"session-{patient_id}", frozenset({Role.PATIENT}), patient_id=patient_id)


def staff(
    staff_id: str, *roles: Role, point_ids: frozenset[str] = frozenset(), voivodeship: str | None = None
) -> Principal:
    return Principal(f"session-{staff_id}", frozenset(roles), staff_id=staff_id, point_ids=point_ids,
                     voivodeship=voivodeship)  # fmt: skip


SPEC: dict[str, Any] = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
_CONTRACT = Registry().with_resource("urn:openapi", Resource.from_contents(SPEC, default_specification=DRAFT202012))


def contract_errors(method: str, path: str, answer: Response) -> list[str]:
    """How ``answer``'s JSON body breaks what openapi.yaml says ``method path`` answers with its status
    (problem bodies included); empty when it keeps to it."""
    pointer = f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method.lower()}/responses/{answer.status_code}"
    response = SPEC["paths"][path][method.lower()]["responses"][str(answer.status_code)]
    if "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        response = SPEC["components"]["responses"][pointer.rsplit("/", 1)[1]]
    media = "application/problem+json" if answer.mimetype == "application/problem+json" else "application/json"
    assert media in response.get("content", {}), f"{method} {path} declares no {media} body for {answer.status_code}"
    validator = Draft202012Validator({"$ref": f"urn:openapi#{pointer}/content/{media.replace('/', '~1')}/schema"},
                                     registry=_CONTRACT)  # fmt: skip
    return [error.message for error in validator.iter_errors(answer.json)]
