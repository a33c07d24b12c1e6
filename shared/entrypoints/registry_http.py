"""HTTP handling of the registry: points (admins, coordinators in their voivodeship), coordinators
(admins), and who works at a point (its managers, the coordinator of its voivodeship, admins).

A PESEL only ever travels in a body; a person at a point is named in URLs by their staff_ref.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.bootstrap import get_container
from shared.domain.identity import Principal, Role, is_valid_pesel
from shared.domain.ids import UUID_PATTERN
from shared.domain.registry import (
    CITY_MAX,
    MUNICIPALITY_PATTERN,
    NAME_MAX,
    POSTAL_CODE_PATTERN,
    STREET_MAX,
    VOIVODESHIPS,
    Address,
    PointChange,
    PointHasVisits,
    PointStatus,
    RegisteredPoint,
)
from shared.entrypoints.auth import guarded
from shared.entrypoints.web import Handler, Problem, bad_request, json_response, parse_json, parse_query

UUID = re.compile(UUID_PATTERN)
STAFF_REF = re.compile(r"^staff-[0-9a-f]{24}$")
IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
NO_STORE = {"Cache-Control": "no-store"}
VACCINE = r"^[a-z0-9-]{2,40}$"
# Printable text on one line: names and addresses go into SMS texts and printed lists.
LINE = r"^[^\x00-\x1f\x7f]+$"


PointName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX, pattern=LINE)]
Street = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=STREET_MAX, pattern=LINE)]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CITY_MAX, pattern=LINE)]


class AddressBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: Street
    postal_code: str = Field(pattern=POSTAL_CODE_PATTERN)
    city: City

    def address(self) -> Address:
        return Address(self.street, self.postal_code, self.city)


Vaccines = list[Annotated[str, StringConstraints(pattern=VACCINE)]]


class PointBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PointName
    address: AddressBody
    municipality: str = Field(pattern=MUNICIPALITY_PATTERN)
    vaccines: Vaccines = Field(min_length=1, max_length=20)


class PointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PointName | None = None
    address: AddressBody | None = None
    vaccines: Vaccines | None = Field(default=None, min_length=1, max_length=20)
    status: Literal["active", "suspended"] | None = None


class PointsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    voivodeship: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    status: Literal["active", "suspended"] | None = None
    page_token: str | None = Field(default=None, pattern=UUID_PATTERN)
    limit: int = Field(default=50, ge=1, le=200)


class CoordinatorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pesel: str = Field(pattern=r"^[0-9]{11}$")
    voivodeship: str = Field(pattern=r"^[0-9]{2}$")


class GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pesel: str = Field(pattern=r"^[0-9]{11}$")
    role: Literal["point_staff", "point_manager"]


def _point_id(point_id: str) -> str:
    if not UUID.match(point_id):
        raise Problem(404, "point_not_found", "Nie ma takiego punktu szczepień")
    return point_id


def _pesel(pesel: str) -> str:
    if not is_valid_pesel(pesel):
        raise bad_request("pesel", "Nieprawidłowy numer PESEL", code="invalid_pesel")
    return pesel


def _point_response(found: RegisteredPoint, status: int = 200) -> Response:
    return json_response(found.as_json(), status=status, headers={"ETag": f'"{found.version}"', **NO_STORE})


# --- points --------------------------------------------------------------------------------------


@guarded(Role.ADMIN, Role.COORDINATOR)
def create_point(request: Request, principal: Principal) -> Response:
    body = parse_json(request, PointBody)
    created = get_container().point_registry.create(
        body.name, body.address.address(), body.municipality, body.vaccines, principal, datetime.now(UTC)
    )
    return json_response(created.as_json(), status=201, headers={"ETag": f'"{created.version}"',
                         "Location": f"/api/v1/admin/points/{created.point.point_id}", **NO_STORE})  # fmt: skip


@guarded(Role.ADMIN, Role.COORDINATOR)
def list_points(request: Request, principal: Principal) -> Response:
    query = parse_query(request, PointsQuery)
    status = PointStatus(query.status) if query.status else None
    page = get_container().point_registry.page(principal, query.voivodeship, status, query.page_token, query.limit)
    body = {"points": [p.as_json() for p in page.points], "next_page_token": page.next_token}
    return json_response(body, headers=NO_STORE)


@guarded(Role.ADMIN, Role.COORDINATOR)
def get_point(request: Request, principal: Principal, point_id: str) -> Response:
    return _point_response(get_container().point_registry.get(_point_id(point_id), principal))


@guarded(Role.ADMIN, Role.COORDINATOR)
def change_point(request: Request, principal: Principal, point_id: str) -> Response:
    header = request.headers.get("If-Match")
    if header is None:
        raise Problem(428, "if_match_required", "Wymagany nagłówek If-Match z wersją punktu", field="If-Match")
    match = IF_MATCH.match(header)
    if match is None:
        raise bad_request("If-Match", "If-Match musi zawierać numer wersji punktu", code="invalid_if_match")
    body = parse_json(request, PointPatch)
    change = PointChange(
        name=body.name,
        address=body.address.address() if body.address else None,
        vaccines=body.vaccines,
        status=PointStatus(body.status) if body.status else None,
    )
    try:
        changed = get_container().point_registry.change(
            _point_id(point_id), change, int(match.group(1)), principal, datetime.now(UTC)
        )
    except PointHasVisits as refusal:
        raise Problem(409, refusal.code, "Punkt ma przyszłe wizyty", detail=refusal.detail, field="status",
                      extra={"future_visits": refusal.count}) from None  # fmt: skip
    return _point_response(changed)


@guarded(Role.ADMIN)
def add_coordinator(request: Request, principal: Principal) -> Response:
    body = parse_json(request, CoordinatorBody)
    if body.voivodeship not in VOIVODESHIPS:
        raise bad_request("voivodeship", "Nieznane województwo", code="invalid_voivodeship")
    staff_ref = get_container().staff_registry.make_coordinator(
        _pesel(body.pesel), body.voivodeship, principal, datetime.now(UTC)
    )
    return json_response({"staff_ref": staff_ref, "role": "coordinator", "voivodeship": body.voivodeship},
                         status=201, headers=NO_STORE)  # fmt: skip


ADMIN_ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/api/v1/admin/points"): create_point,
    ("GET", "/api/v1/admin/points"): list_points,
    ("GET", "/api/v1/admin/points/<point_id>"): get_point,
    ("PATCH", "/api/v1/admin/points/<point_id>"): change_point,
    ("POST", "/api/v1/admin/coordinators"): add_coordinator,
}


# --- staff of a point ----------------------------------------------------------------------------


@guarded(Role.POINT_MANAGER, Role.COORDINATOR, Role.ADMIN)
def grant_staff(request: Request, principal: Principal, point_id: str) -> Response:
    body = parse_json(request, GrantBody)
    grant = get_container().staff_registry.grant(
        _point_id(point_id), _pesel(body.pesel), Role(body.role), principal, datetime.now(UTC)
    )
    return json_response(grant.as_json(), status=201, headers=NO_STORE)


@guarded(Role.POINT_MANAGER, Role.COORDINATOR, Role.ADMIN)
def list_staff(request: Request, principal: Principal, point_id: str) -> Response:
    grants = get_container().staff_registry.staff_of(_point_id(point_id), principal)
    return json_response({"point_id": point_id, "staff": [g.as_json() for g in grants]}, headers=NO_STORE)


@guarded(Role.POINT_MANAGER, Role.COORDINATOR, Role.ADMIN)
def revoke_staff(request: Request, principal: Principal, point_id: str, staff_ref: str) -> Response:
    if not STAFF_REF.match(staff_ref):
        raise Problem(404, "staff_not_found", "Ta osoba nie pracuje w tym punkcie")
    get_container().staff_registry.revoke(_point_id(point_id), staff_ref, principal, datetime.now(UTC))
    return Response(status=204, headers=NO_STORE)


STAFF_ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/api/v1/points/<point_id>/staff"): grant_staff,
    ("GET", "/api/v1/points/<point_id>/staff"): list_staff,
    ("DELETE", "/api/v1/points/<point_id>/staff/<staff_ref>"): revoke_staff,
}
