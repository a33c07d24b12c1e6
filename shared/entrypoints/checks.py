"""Checks at the edge that several functions share: ids in paths, a PESEL in a body, the staff
audit trail their actions are recorded in.

An id of the wrong shape is answered as an unknown one (404) before any backend is read.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Protocol

from shared.domain.identity import is_valid_pesel
from shared.domain.ids import UUID_PATTERN
from shared.entrypoints.web import Problem, bad_request

UUID = re.compile(UUID_PATTERN)
NO_STORE = {"Cache-Control": "no-store"}


def point_id_in_path(point_id: str) -> str:
    if not UUID.match(point_id):
        raise Problem(404, "point_not_found", "Nie ma takiego punktu szczepień")
    return point_id


def visit_id_in_path(visit_id: str) -> str:
    if not UUID.match(visit_id):
        raise Problem(404, "visit_not_found", "Nie ma takiej wizyty")
    return visit_id


def checked_pesel(pesel: str) -> str:
    if not is_valid_pesel(pesel):
        raise bad_request("pesel", "Nieprawidłowy numer PESEL", code="invalid_pesel")
    return pesel


class AuditTrail(Protocol):
    """The staff audit trail (the `audit` Firestore database, append-only)."""

    def record(self, staff_id: str, action: str, at: datetime, entry_id: str | None = None, **details: Any) -> None: ...


# A staff id as `staff_id_for` makes it (shared/domain/identity.py): what a path may name.
STAFF_REF = re.compile(r"^staff-[0-9a-f]{24}$")
