"""`admin`: the vaccination programme and bulk e-referrals (admin role only).

GET/PUT /api/v1/admin/programme (versioned, If-Match); POST /api/v1/admin/referrals:issue;
GET /api/v1/admin/jobs/{id}.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, Field

from shared.bootstrap import get_container
from shared.domain.identity import Principal, Role
from shared.domain.programme import Programme, ProgrammeContent
from shared.entrypoints.auth import guarded
from shared.entrypoints.registry_http import ADMIN_ROUTES
from shared.entrypoints.visit_http import idempotency_key
from shared.entrypoints.web import Problem, Routes, bad_request, json_response, parse_json, parse_query

# If-Match: "3", W/"3" or 3 (the version number is the entity tag).
IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


class VersionQuery(BaseModel):
    version: int | None = Field(default=None, ge=1, le=10**9)


class IssueBody(BaseModel):
    cohort: str = Field(pattern=r"^[a-z0-9-]{2,40}$")


def programme_response(programme: Programme, status: int = 200) -> Response:
    return json_response(
        programme.model_dump(mode="json"),
        status=status,
        headers={"ETag": f'"{programme.version}"', "Cache-Control": "no-store"},
    )


def if_match_version(request: Request) -> int:
    header = request.headers.get("If-Match")
    if header is None:
        raise Problem(
            428,
            "if_match_required",
            "Wymagany nagłówek If-Match z wersją programu, którą zmieniasz",
            field="If-Match",
        )
    match = IF_MATCH.match(header)
    if match is None:
        raise bad_request("If-Match", "If-Match musi zawierać numer wersji programu", code="invalid_if_match")
    return int(match.group(1))


@guarded(Role.ADMIN, rate_limit="admin")
def get_programme(request: Request, principal: Principal) -> Response:
    query = parse_query(request, VersionQuery)
    admin = get_container().programme_admin
    return programme_response(admin.version(query.version) if query.version else admin.current())


@guarded(Role.ADMIN, rate_limit="admin")
def put_programme(request: Request, principal: Principal) -> Response:
    based_on = if_match_version(request)
    content = parse_json(request, ProgrammeContent)
    assert principal.staff_id is not None
    programme = get_container().programme_admin.replace(content, based_on, principal.staff_id, datetime.now(UTC))
    return programme_response(programme)


@guarded(Role.ADMIN, rate_limit="admin")
def issue_referrals(request: Request, principal: Principal) -> Response:
    key = idempotency_key(request)
    body = parse_json(request, IssueBody)
    assert principal.staff_id is not None
    progress = get_container().referral_issuer.start(body.cohort, key, principal.staff_id, datetime.now(UTC))
    location = f"/api/v1/admin/jobs/{progress.job.job_id}"
    return json_response(progress.as_json(), status=202, headers={"Location": location, "Cache-Control": "no-store"})


@guarded(Role.ADMIN, rate_limit="admin")
def get_job(request: Request, principal: Principal, job_id: str) -> Response:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise Problem(404, "unknown_job", "Nie ma takiego zadania")
    progress = get_container().referral_issuer.progress(job_id)
    return json_response(progress.as_json(), headers={"Cache-Control": "no-store"})


routes = Routes(
    {
        ("GET", "/api/v1/admin/programme"): get_programme,
        ("PUT", "/api/v1/admin/programme"): put_programme,
        ("POST", "/api/v1/admin/referrals:issue"): issue_referrals,
        ("GET", "/api/v1/admin/jobs/<job_id>"): get_job,
        **ADMIN_ROUTES,
    }
)


@functions_framework.http
def admin(request: Request) -> Response:
    return routes.dispatch(request)
