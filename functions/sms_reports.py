"""`sms_reports`: POST /api/v1/sms/delivery-reports from the SMS provider (shared-secret token)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Literal

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import get_container
from shared.entrypoints.auth import bearer_token
from shared.entrypoints.web import Problem, Routes, parse_json


class DeliveryReport(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # A plain token (what we sent as the message id): never a path, so never another document.
    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    status: Literal["delivered", "failed"]


def post_report(request: Request) -> Response:
    container = get_container()
    expected = container.settings.secret("sms_report_token")
    # Bytes: compare_digest refuses str with non-ASCII characters (a header may carry any byte).
    if not hmac.compare_digest((bearer_token(request) or "").encode(), expected.encode()):
        raise Problem(401, "invalid_report_token", "Nieprawidłowy token raportu doręczenia")
    report = parse_json(request, DeliveryReport)
    if not container.sms_log.delivery_report(report.id, report.status == "delivered", datetime.now(UTC)):
        raise Problem(404, "sms_not_found", "Nie ma takiej wiadomości")
    return Response(status=204)


routes = Routes({("POST", "/api/v1/sms/delivery-reports"): post_report})


@functions_framework.http
def sms_reports(request: Request) -> Response:
    return routes.dispatch(request)
