"""The one place that checks who is calling: session, role, ownership, rate limits.

Every function's handlers go through ``guarded``; none reads a token or a role by itself.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Request, Response

from shared.bootstrap import get_container
from shared.domain.identity import Principal, Role
from shared.domain.ratelimit import Limit
from shared.entrypoints.web import Problem
from shared.services.identity import NotAuthenticated

UNAUTHENTICATED_TITLES = {
    "no_session": "Wymagane zalogowanie",
    "invalid_session": "Nieprawidłowa sesja",
    "session_expired": "Sesja wygasła, zaloguj się ponownie",
}


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def client_address(request: Request) -> str:
    hops = get_container().settings.trusted_proxy_hops
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.remote_addr or "unknown"


def enforce_rate_limit(scope: str, request: Request, session_key: str | None = None) -> None:
    """429 with Retry-After when the caller's address or session is over the limit for ``scope``."""
    container = get_container()
    now = time.monotonic()
    checks = [("ip", client_address(request))]
    if session_key is not None:
        checks.append(("session", session_key))
    for who, key in checks:
        configured = container.settings.rate_limits.get(f"{scope}:{who}")
        if configured is None:
            continue
        wait = container.rate_limiter.check(f"{scope}:{who}", key, Limit(*configured), now)
        if wait:
            raise Problem(
                429,
                "rate_limited",
                "Zbyt wiele żądań, spróbuj ponownie za chwilę",
                headers={"Retry-After": str(wait)},
            )


def authenticate(request: Request) -> Principal:
    try:
        return get_container().identity.authenticate(bearer_token(request), datetime.now(UTC))
    except NotAuthenticated as refusal:
        raise Problem(
            401,
            refusal.reason,
            UNAUTHENTICATED_TITLES[refusal.reason],
            headers={"WWW-Authenticate": 'Bearer realm="e-rejestracja"'},
        ) from None


def guarded(
    *roles: Role, rate_limit: str | None = None
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Handler decorator: a live session with one of ``roles`` (any role if none given).

    The handler receives the principal as its second argument.
    """

    def decorate(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(request: Request, **arguments: Any) -> Response:
            principal = authenticate(request)
            if roles and not principal.roles & set(roles):
                raise Problem(403, "forbidden_role", "Brak uprawnień do tej operacji")
            if rate_limit:
                enforce_rate_limit(rate_limit, request, principal.session_id)
            return handler(request, principal, **arguments)

        return wrapper

    return decorate


def require_point(principal: Principal, point_id: str) -> None:
    """Point staff act only on the points they serve."""
    if not principal.serves_point(point_id):
        raise Problem(403, "not_your_point", "Nie obsługujesz tego punktu szczepień")
