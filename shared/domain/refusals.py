"""Refusals: a rule said no. Every refusal has a stable ``code`` that clients rely on and a ``kind``
that says what sort of no it is; only the edge turns a kind into a protocol status."""

from __future__ import annotations

from enum import StrEnum


class RefusalKind(StrEnum):
    INVALID = "invalid"  # the request itself is wrong (a field names what)
    FORBIDDEN = "forbidden"  # not yours, or not eligible
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the current state stands in the way: full, already booked, stale
    RULE = "rule"  # a business rule refuses it now (too early, outside a window, over stock)
    UNAVAILABLE = "unavailable"  # something it depends on is missing for now
    STALE = "stale"  # the caller changes a copy that has moved on since they read it (If-Match)


class Refused(Exception):
    def __init__(
        self,
        kind: RefusalKind,
        code: str,
        detail: str = "",
        field: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.kind = kind
        self.code = code
        self.detail = detail
        self.field = field
        self.extra = extra or {}  # more members of the answer, e.g. the point that holds a booking
