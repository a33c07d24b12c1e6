"""A harness for the HTTP handlers on fakes: a gate over a table of sessions, and requests to routes.

A bearer token names a principal of ``Sessions``; no token is no session. Rate limits are the real
in-process buckets (no Redis), with the configured limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, Request, Response

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
