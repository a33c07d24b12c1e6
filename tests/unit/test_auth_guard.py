"""The guard limits by address before it reads a session, and by the verified person after."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, Request, Response, request

from shared.config import Settings
from shared.domain.identity import Principal, Role
from shared.domain.ratelimit import Limit
from shared.entrypoints.auth import Gate, Throttle, guarded
from shared.entrypoints.web import Routes

app = Flask(__name__)


@dataclass
class Limits:
    over: set[str] = field(default_factory=set)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def check(self, scope: str, key: str, limit: Limit) -> int:
        self.seen.append((scope, key))
        return 7 if scope in self.over else 0


@dataclass
class Identity:
    reads: int = 0

    def authenticate(self, token: str | None, now: Any) -> Principal:
        self.reads += 1  # stands for the session read in Firestore
        return Principal("s1", frozenset({Role.AGENT}), staff_id="staff-1")


@dataclass
class Container:
    rate_limits: Limits
    identity: Identity
    settings: Settings = field(default_factory=lambda: Settings(deployment="local", trusted_proxy_hops=1))


@guarded(Role.AGENT, rate_limit="lookup")
def handler(request: Request, principal: Principal) -> Response:
    return Response(status=204)


def _call(container: Container) -> int:
    settings = container.settings
    gate = Gate(container.identity, Throttle(container.rate_limits, settings.rate_limits, settings.trusted_proxy_hops))
    routes = gate.routes({("GET", "/x"): handler})
    with app.test_request_context(
        "/x", headers={"Authorization": "Bearer t", "X-Forwarded-For": "1.2.3.4, 203.0.113.5, 35.191.0.1"}
    ):
        return routes.dispatch(request).status_code


def test_over_the_address_limit_no_session_is_read() -> None:
    container = Container(Limits(over={"lookup:ip"}), Identity())
    assert _call(container) == 429
    assert container.identity.reads == 0
    assert container.rate_limits.seen == [("lookup:ip", "203.0.113.5")]  # the entry the load balancer added


def test_the_person_is_limited_after_verification() -> None:
    container = Container(Limits(over={"lookup:user"}), Identity())
    assert _call(container) == 429
    assert container.rate_limits.seen == [("lookup:ip", "203.0.113.5"), ("lookup:user", "staff-1")]
    container.rate_limits.over.clear()
    assert _call(container) == 204


def test_a_guarded_handler_is_never_mounted_without_its_gate() -> None:
    with pytest.raises(TypeError, match="guarded"):
        Routes({("GET", "/x"): handler})
