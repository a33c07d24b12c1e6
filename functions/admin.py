"""`admin`: the vaccination programme, bulk e-referrals and the registry of points and coordinators.

GET/PUT /api/v1/admin/programme (versioned, If-Match; admin); POST /api/v1/admin/referrals:issue and
GET /api/v1/admin/jobs/{id} (admin); POST/GET /api/v1/admin/points, GET/PATCH
/api/v1/admin/points/{id} (admins, coordinators in their voivodeship; If-Match on PATCH);
POST /api/v1/admin/coordinators, DELETE /api/v1/admin/coordinators/{staff_ref} (admin).
Who works at a point is the `point` function's.
A PESEL only ever travels in a body.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.bootstrap import Container, get_container
from shared.domain.identity import Principal, Role
from shared.domain.ids import UUID_PATTERN
from shared.domain.programme import Programme, ProgrammeContent
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
from shared.entrypoints.checks import NO_STORE, STAFF_REF, checked_pesel, point_id_in_path
from shared.entrypoints.visit_http import idempotency_key
from shared.entrypoints.web import (
    Clock,
    LazyRoutes,
    Problem,
    Routes,
    RouteTable,
    bad_request,
    json_response,
    parse_json,
    parse_query,
    utc_now,
)
from shared.services.programme_admin import ProgrammeAdmin
from shared.services.referrals import ReferralIssuer
from shared.services.registry import PointRegistry, StaffRegistry

# If-Match: "3", W/"3" or 3 (the version number is the entity tag).
IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
VACCINE = r"^[a-z0-9-]{2,40}$"
# Printable text on one line: names and addresses go into SMS texts and printed lists.
LINE = r"^[^\x00-\x1f\x7f]+$"


# --- bodies --------------------------------------------------------------------------------------


class VersionQuery(BaseModel):
    version: int | None = Field(default=None, ge=1, le=10**9)


class IssueBody(BaseModel):
    cohort: str = Field(pattern=r"^[a-z0-9-]{2,40}$")


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


# --- answers -------------------------------------------------------------------------------------


def programme_response(programme: Programme, status: int = 200) -> Response:
    return json_response(
        programme.model_dump(mode="json"),
        status=status,
        headers={"ETag": f'"{programme.version}"', "Cache-Control": "no-store"},
    )


def point_response(found: RegisteredPoint, status: int = 200) -> Response:
    return json_response(found.as_json(), status=status, headers={"ETag": f'"{found.version}"', **NO_STORE})


def if_match_version(request: Request, required: str, invalid: str) -> int:
    """The version an If-Match names; 428 with ``required`` without one, 400 with ``invalid`` if unreadable."""
    header = request.headers.get("If-Match")
    if header is None:
        raise Problem(428, "if_match_required", required, field="If-Match")
    match = IF_MATCH.match(header)
    if match is None:
        raise bad_request("If-Match", invalid, code="invalid_if_match")
    return int(match.group(1))


class AdminHandlers:
    def __init__(
        self,
        programme_admin: ProgrammeAdmin,
        referral_issuer: ReferralIssuer,
        point_registry: PointRegistry,
        staff_registry: StaffRegistry,
        now: Clock = utc_now,
    ) -> None:
        self._now = now
        self._programme = programme_admin
        self._referrals = referral_issuer
        self._points = point_registry
        self._staff = staff_registry

    # --- programme and referrals -----------------------------------------------------------------

    @guarded(Role.ADMIN, rate_limit="admin")
    def get_programme(self, request: Request, principal: Principal) -> Response:
        query = parse_query(request, VersionQuery)
        admin = self._programme
        return programme_response(admin.version(query.version) if query.version else admin.current())

    @guarded(Role.ADMIN, rate_limit="admin")
    def put_programme(self, request: Request, principal: Principal) -> Response:
        based_on = if_match_version(
            request,
            "Wymagany nagłówek If-Match z wersją programu, którą zmieniasz",
            "If-Match musi zawierać numer wersji programu",
        )
        content = parse_json(request, ProgrammeContent)
        assert principal.staff_id is not None
        programme = self._programme.replace(content, based_on, principal.staff_id, self._now())
        return programme_response(programme)

    @guarded(Role.ADMIN, rate_limit="admin")
    def issue_referrals(self, request: Request, principal: Principal) -> Response:
        key = idempotency_key(request)
        body = parse_json(request, IssueBody)
        assert principal.staff_id is not None
        progress = self._referrals.start(body.cohort, key, principal.staff_id, self._now())
        location = f"/api/v1/admin/jobs/{progress.job.job_id}"
        headers = {"Location": location, "Cache-Control": "no-store"}
        return json_response(progress.as_json(), status=202, headers=headers)

    @guarded(Role.ADMIN, rate_limit="admin")
    def get_job(self, request: Request, principal: Principal, job_id: str) -> Response:
        if not re.fullmatch(r"[0-9a-f]{32}", job_id):
            raise Problem(404, "unknown_job", "Nie ma takiego zadania")
        progress = self._referrals.progress(job_id)
        return json_response(progress.as_json(), headers={"Cache-Control": "no-store"})

    # --- points and coordinators -----------------------------------------------------------------

    @guarded(Role.ADMIN, Role.COORDINATOR)
    def create_point(self, request: Request, principal: Principal) -> Response:
        body = parse_json(request, PointBody)
        created = self._points.create(
            body.name, body.address.address(), body.municipality, body.vaccines, principal, self._now()
        )
        return json_response(created.as_json(), status=201, headers={"ETag": f'"{created.version}"',
                             "Location": f"/api/v1/admin/points/{created.point.point_id}", **NO_STORE})  # fmt: skip

    @guarded(Role.ADMIN, Role.COORDINATOR)
    def list_points(self, request: Request, principal: Principal) -> Response:
        query = parse_query(request, PointsQuery)
        status = PointStatus(query.status) if query.status else None
        page = self._points.page(principal, query.voivodeship, status, query.page_token, query.limit)
        body = {"points": [p.as_json() for p in page.points], "next_page_token": page.next_token}
        return json_response(body, headers=NO_STORE)

    @guarded(Role.ADMIN, Role.COORDINATOR)
    def get_point(self, request: Request, principal: Principal, point_id: str) -> Response:
        return point_response(self._points.get(point_id_in_path(point_id), principal))

    @guarded(Role.ADMIN, Role.COORDINATOR)
    def change_point(self, request: Request, principal: Principal, point_id: str) -> Response:
        version = if_match_version(
            request, "Wymagany nagłówek If-Match z wersją punktu", "If-Match musi zawierać numer wersji punktu"
        )
        body = parse_json(request, PointPatch)
        change = PointChange(
            name=body.name,
            address=body.address.address() if body.address else None,
            vaccines=body.vaccines,
            status=PointStatus(body.status) if body.status else None,
        )
        try:
            changed = self._points.change(point_id_in_path(point_id), change, version, principal, self._now())
        except PointHasVisits as refusal:
            raise Problem(409, refusal.code, "Punkt ma przyszłe wizyty", detail=refusal.detail, field="status",
                          extra={"future_visits": refusal.count}) from None  # fmt: skip
        return point_response(changed)

    @guarded(Role.ADMIN)
    def add_coordinator(self, request: Request, principal: Principal) -> Response:
        body = parse_json(request, CoordinatorBody)
        if body.voivodeship not in VOIVODESHIPS:
            raise bad_request("voivodeship", "Nieznane województwo", code="invalid_voivodeship")
        staff_ref = self._staff.make_coordinator(checked_pesel(body.pesel), body.voivodeship, principal, self._now())
        return json_response({"staff_ref": staff_ref, "role": "coordinator", "voivodeship": body.voivodeship},
                             status=201, headers=NO_STORE)  # fmt: skip

    @guarded(Role.ADMIN)
    def end_coordinator(self, request: Request, principal: Principal, staff_ref: str) -> Response:
        if not STAFF_REF.match(staff_ref):
            raise Problem(404, "coordinator_not_found", "Ta osoba nie jest koordynatorem")
        self._staff.end_coordinator(staff_ref, principal, self._now())
        return Response(status=204, headers=NO_STORE)

    def table(self) -> RouteTable:
        return {
            ("GET", "/api/v1/admin/programme"): self.get_programme,
            ("PUT", "/api/v1/admin/programme"): self.put_programme,
            ("POST", "/api/v1/admin/referrals:issue"): self.issue_referrals,
            ("GET", "/api/v1/admin/jobs/<job_id>"): self.get_job,
            ("POST", "/api/v1/admin/points"): self.create_point,
            ("GET", "/api/v1/admin/points"): self.list_points,
            ("GET", "/api/v1/admin/points/<point_id>"): self.get_point,
            ("PATCH", "/api/v1/admin/points/<point_id>"): self.change_point,
            ("POST", "/api/v1/admin/coordinators"): self.add_coordinator,
            ("DELETE", "/api/v1/admin/coordinators/<staff_ref>"): self.end_coordinator,
        }


def compose(container: Container) -> Routes:
    handlers = AdminHandlers(
        container.programme_admin, container.referral_issuer, container.point_registry, container.staff_registry
    )
    return container.gate.routes(handlers.table())


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def admin(request: Request) -> Response:
    return routes.dispatch(request)
