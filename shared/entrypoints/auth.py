"""The one place that checks who is calling: session, role, ownership, rate limits.

Every function's handlers go through a ``Gate``; none reads a token or a role by itself. A handler
declares what it needs with ``@guarded(...)``; the function's composition hands the gate its
identity service and rate limits, and ``Gate.routes`` wraps each declared handler with the checks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from flask import Request, Response

from shared.domain.identity import Principal, Role
from shared.domain.ratelimit import Limit
from shared.entrypoints.web import GUARD, Clock, Handler, Problem, Routes, RouteTable, utc_now
from shared.services.identity import NotAuthenticated

log = logging.getLogger(__name__)
HandlerT = TypeVar("HandlerT", bound=Handler)

UNAUTHENTICATED_TITLES = {
    "no_session": "Wymagane zalogowanie",
    "invalid_session": "Nieprawidłowa sesja",
    "session_expired": "Sesja wygasła, zaloguj się ponownie",
}


class Authenticator(Protocol):
    def authenticate(self, token: str | None, now: datetime) -> Principal: ...


class RateLimiting(Protocol):
    def check(self, scope: str, key: str, limit: Limit) -> int: ...


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _limited(wait: int) -> Problem:
    return Problem(
        429, "rate_limited", "Zbyt wiele żądań, spróbuj ponownie za chwilę", headers={"Retry-After": str(wait)}
    )


class Throttle:
    """Rate limits by the caller's address (before anything reads a backend) or by the verified person.

    ``configured`` is ``Settings.rate_limits`` ("scope:who" -> (per second, burst)); a scope without
    an entry has no limit."""

    def __init__(
        self, rate_limits: RateLimiting, configured: Mapping[str, tuple[float, int]], trusted_proxy_hops: int
    ) -> None:
        self._rate_limits = rate_limits
        self._configured = configured
        self._hops = trusted_proxy_hops

    def client_address(self, request: Request) -> str:
        """The caller's address. Behind Google's external Application Load Balancer, X-Forwarded-For is
        ``[<what the client sent>,]<client-ip>,<lb-ip>``: the load balancer appends two entries, so with
        ``trusted_proxy_hops`` load balancers the client is entry ``-(hops + 1)``; anything before it
        is the client's own (spoofable) text. See docs/decisions.md."""
        hops = self._hops
        if hops:
            forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
            if len(forwarded) >= hops + 1 and forwarded[-(hops + 1)]:
                return forwarded[-(hops + 1)]
        return request.remote_addr or "unknown"

    def _check(self, scope: str, who: str, key: str) -> None:
        configured = self._configured.get(f"{scope}:{who}")
        if configured is None:
            return
        wait = self._rate_limits.check(f"{scope}:{who}", key, Limit(*configured))
        if wait:
            if who == "user":  # a person over their limit: counted by a log-based metric with an alert
                log.warning("person rate limited", extra={"fields": {"scope": scope, "who": key}})
            raise _limited(wait)

    def by_address(self, scope: str, request: Request) -> None:
        """429 with Retry-After when the caller's address is over the limit for ``scope``.

        Called before anything reads a backend; unverified credentials never pick a bucket.
        """
        self._check(scope, "ip", self.client_address(request))

    def by_person(self, scope: str, principal: Principal) -> None:
        """429 when the verified person (patient or staff member, whatever session) is over the limit."""
        self._check(scope, "user", principal.staff_id or principal.patient_id or principal.session_id)


@dataclass(frozen=True)
class Guard:
    """What a handler needs: a live session with one of ``roles`` (any role if none), and its limit."""

    roles: frozenset[Role]
    rate_limit: str | None


def guarded(*roles: Role, rate_limit: str | None = None) -> Callable[[HandlerT], HandlerT]:
    """Handler decorator: the handler needs a live session with one of ``roles`` (any role if none
    given), and receives the principal as its second argument. Only ``Gate.routes`` mounts it."""

    def mark(handler: HandlerT) -> HandlerT:
        setattr(handler, GUARD, Guard(frozenset(roles), rate_limit))
        return handler

    return mark


class Gate:
    """Authentication, roles and rate limits, handed the identity service and the throttle."""

    def __init__(self, identity: Authenticator, throttle: Throttle, now: Clock = utc_now) -> None:
        self._identity = identity
        self.throttle = throttle
        self._now = now

    def authenticate(self, request: Request) -> Principal:
        try:
            return self._identity.authenticate(bearer_token(request), self._now())
        except NotAuthenticated as refusal:
            raise Problem(
                401,
                refusal.reason,
                UNAUTHENTICATED_TITLES[refusal.reason],
                headers={"WWW-Authenticate": 'Bearer realm="e-rejestracja"'},
            ) from None

    def guard(self, handler: Handler, needs: Guard) -> Handler:
        # updated=(): the wrapper does not copy the mark, so it is not guarded twice.
        @functools.wraps(handler, updated=())
        def wrapper(request: Request, **arguments: Any) -> Response:
            self.throttle.by_address(needs.rate_limit or "api", request)  # before the session is read
            principal = self.authenticate(request)
            if needs.roles and not principal.roles & needs.roles:
                raise Problem(403, "forbidden_role", "Brak uprawnień do tej operacji")
            if needs.rate_limit:
                self.throttle.by_person(needs.rate_limit, principal)
            return handler(request, principal, **arguments)

        return wrapper

    def routes(self, table: RouteTable) -> Routes:
        """The function's routes, each ``guarded`` handler behind its checks."""
        return Routes(
            {
                key: self.guard(handler, needs) if (needs := getattr(handler, GUARD, None)) else handler
                for key, handler in table.items()
            }
        )
