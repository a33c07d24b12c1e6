"""`sms_reports`: the SMS operator's posts, each authorised by its shared token.

POST /api/v1/sms/delivery-reports (delivery reports) and POST /api/v1/sms/inbound (incoming messages,
handed to ``sms-inbound`` for the SMS dialogue; idempotent on the operator's message id, whose
replies and bookings are keyed by it).
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from typing import Literal

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import get_container
from shared.domain.sms_dialogue import InboundSms
from shared.entrypoints.auth import bearer_token
from shared.entrypoints.web import Problem, Routes, json_response, parse_json
from shared.topology import SMS_INBOUND

log = logging.getLogger(__name__)


class DeliveryReport(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # A plain token (what we sent as the message id): never a path, so never another document.
    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    status: Literal["delivered", "failed"]


def _operator(request: Request, secret: Literal["sms_report_token", "sms_inbound_token"], code: str) -> None:
    expected = get_container().settings.secret(secret)
    # Bytes: compare_digest refuses str with non-ASCII characters (a header may carry any byte).
    if not hmac.compare_digest((bearer_token(request) or "").encode(), expected.encode()):
        raise Problem(401, code, "Nieprawidłowy token operatora SMS")


def post_report(request: Request) -> Response:
    _operator(request, "sms_report_token", "invalid_report_token")
    report = parse_json(request, DeliveryReport)
    if not get_container().sms_log.delivery_report(report.id, report.status == "delivered", datetime.now(UTC)):
        raise Problem(404, "sms_not_found", "Nie ma takiej wiadomości")
    return Response(status=204)


def post_inbound(request: Request) -> Response:
    """Hand the message to Pub/Sub and answer at once; the operator retries anything but a 2xx."""
    _operator(request, "sms_inbound_token", "invalid_operator_token")
    message = parse_json(request, InboundSms)
    data, attributes = message.message()
    try:
        get_container().bus.publish(SMS_INBOUND, data, timeout_s=5.0, **attributes)
    except Exception:  # any failure to hand it over: the operator sends it again later
        log.warning("incoming SMS not handed to Pub/Sub", extra={"fields": {"message_id": message.message_id}})
        raise Problem(503, "bus_unavailable", "Usługa chwilowo niedostępna", headers={"Retry-After": "5"}) from None
    return json_response({"message_id": message.message_id}, status=202)


routes = Routes(
    {
        ("POST", "/api/v1/sms/delivery-reports"): post_report,
        ("POST", "/api/v1/sms/inbound"): post_inbound,
    }
)


@functions_framework.http
def sms_reports(request: Request) -> Response:
    return routes.dispatch(request)
