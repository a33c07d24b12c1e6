"""HTTP plumbing shared by every function: routing, problem responses, JSON bodies.

A function is a ``Routes`` table of (method, path pattern) -> handler. The load balancer (and the
local host) hands each function the full path, so patterns are production paths.
Errors are RFC 9457 ``application/problem+json`` with a stable ``code``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from flask import Request, Response
from google.api_core import exceptions as gexc
from pydantic import AfterValidator, AwareDatetime, BaseModel, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, RequestRedirect, Rule

from shared.config import SecretNotConfigured, get_settings
from shared.domain.refusals import RefusalKind, Refused
from shared.logs import set_trace

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
ModelT = TypeVar("ModelT", bound=BaseModel)
# Request bodies are refused above this size before they are read (every body here is small JSON).
MAX_BODY_BYTES = 64 * 1024
# Dates the service deals in; anything outside is refused at the edge, before date arithmetic or a
# Spanner key could overflow on it (year 1 or 9999 with an offset).
FIRST_YEAR, LAST_YEAR = 2000, 2199


def _in_service_years(value: datetime) -> datetime:
    if not FIRST_YEAR < value.year < LAST_YEAR:
        raise ValueError(f"Data musi leżeć między rokiem {FIRST_YEAR} a {LAST_YEAR}")
    return value.astimezone(UTC)


def _day_in_service_years(value: date) -> date:
    if not FIRST_YEAR < value.year < LAST_YEAR:
        raise ValueError(f"Dzień musi leżeć między rokiem {FIRST_YEAR} a {LAST_YEAR}")
    return value


# An instant with an offset inside the years the service deals in, as UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_in_service_years)]
Day = Annotated[date, AfterValidator(_day_in_service_years)]


@dataclass
class Problem(Exception):
    """A refusal that maps to a 4xx (or 503) answer. ``code`` is stable; ``title`` is Polish."""

    status: int
    code: str
    title: str
    detail: str | None = None
    field: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_response(self) -> Response:
        body: dict[str, Any] = {
            "type": f"https://e-rejestracja.gov.pl/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        payload = json.dumps(body, ensure_ascii=False)
        if self.status == 413:
            # Streamed, so functions-framework does not read the unread body to the end before
            # answering (it drains every non-streamed request), and the connection closes after it.
            return Response(iter([payload]), status=413, headers={**self.headers, "Connection": "close"},
                            mimetype=PROBLEM_JSON)  # fmt: skip
        return Response(payload, status=self.status, headers=self.headers, mimetype=PROBLEM_JSON)


STATUS_OF_REFUSAL: dict[RefusalKind, int] = {
    RefusalKind.INVALID: 400,
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.CONFLICT: 409,
    RefusalKind.RULE: 422,
    RefusalKind.UNAVAILABLE: 503,
    RefusalKind.STALE: 412,
}


def refusal_problem(refusal: Refused) -> Problem:
    """A domain refusal as the answer the client gets: its kind decides the status, its code stays."""
    return Problem(
        STATUS_OF_REFUSAL[refusal.kind],
        refusal.code,
        refusal.detail or "Operacja odrzucona",
        field=refusal.field,
        extra=dict(refusal.extra),
    )


def bad_request(field_name: str, detail: str, code: str = "invalid_field") -> Problem:
    return Problem(400, code, "Nieprawidłowe dane w żądaniu", detail=detail, field=field_name)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        headers=dict(headers or {}),
        mimetype="application/json",
    )


def too_large() -> Problem:
    return Problem(413, "body_too_large", "Treść żądania jest zbyt duża")


def _body(request: Request) -> bytes:
    """The body, read only up to the limit (a declared larger one is refused before any reading)."""
    cached: bytes | None = request.environ.get("ereg.body")
    if cached is not None:
        return cached
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large()
    raw = request.stream.read(MAX_BODY_BYTES + 1)  # a chunked body declares no length
    if len(raw) > MAX_BODY_BYTES:
        raise too_large()
    request.environ["ereg.body"] = raw
    return raw


def parse_json(request: Request, model: type[ModelT]) -> ModelT:
    """Parse the body into ``model``; any flaw is a 400 naming the field."""
    raw = _body(request)
    try:
        payload = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting too deep
        raise Problem(400, "malformed_json", "Treść żądania nie jest poprawnym JSON-em") from None
    if not isinstance(payload, dict):
        raise Problem(400, "malformed_json", "Treść żądania musi być obiektem JSON")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "body"
        raise bad_request(location, first["msg"]) from None


def parse_query(request: Request, model: type[ModelT]) -> ModelT:
    """Parse the query string (first value of each name) into ``model``; a flaw is a 400 naming it."""
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "query"
        raise bad_request(location, first["msg"]) from None


Handler = Callable[..., Response]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


RouteTable = Mapping[tuple[str, str], Handler]
# The attribute ``auth.guarded`` marks a handler with: such a handler is mounted by ``Gate.routes``.
GUARD = "ereg_guard"


class Routes:
    """The routes of one function; ``dispatch`` is the whole function body."""

    def __init__(self, routes: RouteTable) -> None:
        self._handlers: dict[str, Handler] = {}
        rules = []
        for index, ((method, pattern), handler) in enumerate(routes.items()):
            if hasattr(handler, GUARD):  # never mounted without its checks
                raise TypeError(f"{handler.__name__} is guarded: mount it with Gate.routes")
            endpoint = f"{index}:{handler.__name__}"
            self._handlers[endpoint] = handler
            rules.append(Rule(pattern, methods=[method], endpoint=endpoint, strict_slashes=False))
        # No redirects: a path with "//" is simply not a route (merging would answer with a redirect).
        self._map = Map(rules, merge_slashes=False, redirect_defaults=False)
        # Bound once: the routes match on the path and method only (no host, no redirects to build).
        self._adapter = self._map.bind("localhost")

    def rules(self) -> list[Rule]:
        """The (method, path pattern) rules served, for the checks against openapi.yaml and the host."""
        return list(self._map.iter_rules())

    def dispatch(self, request: Request) -> Response:
        return answered(request, lambda: self.route(request))

    def route(self, request: Request) -> Response:
        """The matching handler's answer; errors propagate (``dispatch`` maps them)."""
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise too_large()  # before anything reads it (also on routes that take no body)
        endpoint, arguments = self._adapter.match(request.path, method=request.method)
        return self._handlers[str(endpoint)](request, **arguments)


class LazyRoutes:
    """A function's routes, built on its first request (the clients behind them with it) and kept for
    the life of the process; a build that fails is answered like a handler's error and tried again."""

    def __init__(self, build: Callable[[], Routes]) -> None:
        self._build = build
        self._routes: Routes | None = None
        self._lock = threading.Lock()

    def routes(self) -> Routes:
        if self._routes is None:
            with self._lock:
                if self._routes is None:
                    self._routes = self._build()
        return self._routes

    def dispatch(self, request: Request) -> Response:
        return answered(request, lambda: self.routes().route(request))


def answered(request: Request, work: Callable[[], Response]) -> Response:
    """``work``'s response, or the problem answer for what it raised: the edge of every function."""
    set_trace(get_settings().project_id, request.headers.get("X-Cloud-Trace-Context"))
    try:
        return work()
    except Problem as problem:
        return problem.to_response()
    except Refused as refusal:
        return refusal_problem(refusal).to_response()
    except (NotFound, RequestRedirect):
        return Problem(404, "not_found", "Nie ma takiego zasobu").to_response()
    except RequestEntityTooLarge:
        return Problem(
            413, "body_too_large", "Treść żądania jest zbyt duża", headers={"Connection": "close"}
        ).to_response()
    except MethodNotAllowed as error:
        allowed = ", ".join(sorted(error.valid_methods or []))
        return Problem(405, "method_not_allowed", "Metoda niedozwolona", headers={"Allow": allowed}).to_response()
    except HTTPException as error:  # anything else werkzeug refuses (a malformed request)
        status = error.code if error.code and 400 <= error.code < 500 else 400
        return Problem(status, "bad_request", "Nieprawidłowe żądanie").to_response()
    except (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.Aborted, gexc.RetryError):
        log.warning("backend unavailable", exc_info=True, extra={"fields": {"path": request.path}})
        return Problem(
            503,
            "backend_unavailable",
            "Usługa chwilowo niedostępna, spróbuj za chwilę",
            headers={"Retry-After": "2"},
        ).to_response()
    except SecretNotConfigured as error:
        log.error("%s", error)
        return Problem(503, "not_configured", "Usługa chwilowo niedostępna").to_response()
    except Exception:
        log.exception("unhandled error", extra={"fields": {"path": request.path, "method": request.method}})
        return Problem(500, "internal_error", "Wewnętrzny błąd systemu").to_response()


__all__ = [
    "GUARD", "Clock", "Day", "Instant", "LazyRoutes", "Problem", "RouteTable", "Routes", "answered", "bad_request",
    "json_response", "parse_json", "parse_query", "refusal_problem", "utc_now",
]  # fmt: skip
