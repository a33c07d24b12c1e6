"""The one place that checks who is calling: session, role, ownership, rate limits.

Every function's handlers go through ``guarded``; none reads a token or a role by itself.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Request, Response

from shared.bootstrap import get_container
from shared.domain.identity import Principal, Role
from shared.domain.ratelimit import Limit
from shared.entrypoints.web import Problem
from shared.services.identity import NotAuthenticated
from shared.services.rate_limits import Toll

log = logging.getLogger(__name__)

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
    """The caller's address. Behind Google's external Application Load Balancer, X-Forwarded-For is
    ``[<what the client sent>,]<client-ip>,<lb-ip>``: the load balancer appends two entries, so with
    ``trusted_proxy_hops`` load balancers the client is entry ``-(hops + 1)``; anything before it
    is the client's own (spoofable) text. See docs/decisions.md."""
    hops = get_container().settings.trusted_proxy_hops
    if hops:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
        if len(forwarded) >= hops + 1 and forwarded[-(hops + 1)]:
            return forwarded[-(hops + 1)]
    return request.remote_addr or "unknown"


def _check(scope: str, who: str, key: str) -> None:
    container = get_container()
    configured = container.settings.rate_limits.get(f"{scope}:{who}")
    if configured is None:
        return
    wait = container.rate_limits.check(f"{scope}:{who}", key, Limit(*configured))
    if wait:
        if who == "user":  # a person over their limit: counted by a log-based metric with an alert
            log.warning("person rate limited", extra={"fields": {"scope": scope, "who": key}})
        raise _limited(wait)


def _limited(wait: int) -> Problem:
    return Problem(
        429, "rate_limited", "Zbyt wiele żądań, spróbuj ponownie za chwilę", headers={"Retry-After": str(wait)}
    )


def rate_limit_toll(scope: str, request: Request) -> Toll | None:
    """The caller's token for ``scope`` by address, for a read to take in its own round trip (search);
    ``settle_toll`` then answers 429 as ``enforce_rate_limit`` would. None where ``scope`` has no limit."""
    configured = get_container().settings.rate_limits.get(f"{scope}:ip")
    return None if configured is None else Toll(f"{scope}:ip", client_address(request), Limit(*configured))


def settle_toll(toll: Toll | None) -> None:
    """429 if the toll's caller is over the limit (checked now if no read took the token)."""
    if toll is not None and (wait := get_container().rate_limits.settle(toll)):
        raise _limited(wait)


def enforce_rate_limit(scope: str, request: Request) -> None:
    """429 with Retry-After when the caller's address is over the limit for ``scope``.

    Called before anything reads a backend; unverified credentials never pick a bucket.
    """
    _check(scope, "ip", client_address(request))


def enforce_user_rate_limit(scope: str, principal: Principal) -> None:
    """429 when the verified person (patient or staff member, whatever session) is over the limit."""
    _check(scope, "user", principal.staff_id or principal.patient_id or principal.session_id)


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
            enforce_rate_limit(rate_limit or "api", request)  # before the session is read
            principal = authenticate(request)
            if roles and not principal.roles & set(roles):
                raise Problem(403, "forbidden_role", "Brak uprawnień do tej operacji")
            if rate_limit:
                enforce_user_rate_limit(rate_limit, principal)
            return handler(request, principal, **arguments)

        return wrapper

    return decorate
