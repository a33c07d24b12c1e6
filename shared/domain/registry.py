"""The registry of vaccination points and of who works where: the rules, no I/O.

A point's voivodeship and county are the first 2 and 4 digits of its TERYT municipality code. An
admin acts on every point, a coordinator inside the voivodeship the registry gives them, a point
manager on the staff of their own point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from shared.domain.identity import Principal, Role
from shared.domain.points import Point
from shared.domain.refusals import RefusalKind, Refused

# Point names and addresses go into SMS texts: these limits keep a confirmation within its segments.
NAME_MAX = 60
STREET_MAX = 60
CITY_MAX = 40
MUNICIPALITY_PATTERN = r"^[0-9]{7}$"
POSTAL_CODE_PATTERN = r"^[0-9]{2}-[0-9]{3}$"
VOIVODESHIPS = frozenset(f"{n:02d}" for n in range(2, 33, 2))


class PointStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    city: str


@dataclass(frozen=True)
class RegisteredPoint:
    """A point as the registry holds it: the directory's point and its version."""

    point: Point
    version: int

    @property
    def status(self) -> PointStatus:
        return PointStatus.ACTIVE if self.point.active else PointStatus.SUSPENDED

    def as_json(self) -> dict[str, Any]:
        point = self.point
        return {
            "point_id": point.point_id,
            "name": point.name,
            "address": {"street": point.street, "postal_code": point.postal_code, "city": point.city},
            "municipality": point.municipality,
            "county": point.county,
            "voivodeship": point.voivodeship,
            "vaccines": list(point.vaccines),
            "status": str(self.status),
            "version": self.version,
        }


@dataclass(frozen=True)
class PointChange:
    """What a PATCH asks to change (None: unchanged)."""

    name: str | None = None
    address: Address | None = None
    vaccines: list[str] | None = None
    status: PointStatus | None = None


def new_point(point_id: str, name: str, address: Address, municipality: str, vaccines: list[str]) -> Point:
    if municipality[:2] not in VOIVODESHIPS:
        raise Refused(RefusalKind.INVALID, "invalid_municipality", "Nieznane województwo w kodzie TERYT",
                      field="municipality")  # fmt: skip
    return Point(point_id, name, municipality[:2], municipality[:4], municipality, address.city, address.street,
                 address.postal_code, sorted(set(vaccines)), True)  # fmt: skip


def check_vaccines(vaccines: list[str], known: frozenset[str]) -> None:
    for index, code in enumerate(vaccines):
        if code not in known:
            raise Refused(RefusalKind.INVALID, "unknown_vaccine", f"Szczepionki {code} nie ma w programie",
                          field=f"vaccines.{index}")  # fmt: skip


def changed(point: Point, change: PointChange) -> tuple[Point, dict[str, list[Any]]]:
    """The point after the change, and what changed: field -> [before, after] (for the audit)."""
    after = point
    if change.name is not None:
        after = replace(after, name=change.name)
    if change.address is not None:
        after = replace(after, street=change.address.street, postal_code=change.address.postal_code,
                        city=change.address.city)  # fmt: skip
    if change.vaccines is not None:
        after = replace(after, vaccines=sorted(set(change.vaccines)))
    if change.status is not None:
        after = replace(after, active=change.status == PointStatus.ACTIVE)
    diff = {
        name: [getattr(point, name), getattr(after, name)]
        for name in ("name", "street", "postal_code", "city", "vaccines", "active")
        if getattr(point, name) != getattr(after, name)
    }
    return after, diff


class PointHasVisits(Refused):
    """A point with visits still to come cannot be suspended: its days must be cancelled first."""

    def __init__(self, count: int) -> None:
        super().__init__(RefusalKind.CONFLICT, "point_has_visits",
                         f"Punkt ma {count} przyszłych wizyt: najpierw odwołaj jego dni")  # fmt: skip
        self.count = count


def check_version(current: int, based_on: int) -> None:
    if current != based_on:
        raise Refused(RefusalKind.STALE, "version_mismatch",
                      f"Punkt zmienił się w międzyczasie (wersja {current}); odśwież i spróbuj ponownie",
                      field="If-Match")  # fmt: skip


def may_run_region(principal: Principal, voivodeship: str) -> bool:
    """Admins everywhere; coordinators in the voivodeship the registry gives them."""
    if Role.ADMIN in principal.roles:
        return True
    return Role.COORDINATOR in principal.roles and principal.voivodeship == voivodeship


def check_region(principal: Principal, voivodeship: str) -> None:
    if not may_run_region(principal, voivodeship):
        raise Refused(RefusalKind.FORBIDDEN, "forbidden_region", "Brak uprawnień w tym województwie")


def check_manages_staff(principal: Principal, point: Point) -> None:
    """Who grants and revokes at a point: its managers, the coordinator of its voivodeship, admins."""
    if principal.manages_point(point.point_id) or may_run_region(principal, point.voivodeship):
        return
    raise Refused(RefusalKind.FORBIDDEN, "forbidden_point", "Brak uprawnień do personelu tego punktu")


@dataclass(frozen=True)
class StaffGrant:
    point_id: str
    staff_ref: str
    role: Role
    given_name: str | None
    family_name: str | None
    granted_at: Any

    def as_json(self) -> dict[str, Any]:
        granted = self.granted_at.isoformat() if hasattr(self.granted_at, "isoformat") else self.granted_at
        return {"staff_ref": self.staff_ref, "given_name": self.given_name, "family_name": self.family_name,
                "role": str(self.role), "granted_at": granted}  # fmt: skip
