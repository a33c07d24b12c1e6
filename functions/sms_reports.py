"""`sms_reports`: the SMS operator's posts, each authorised by its shared token.

POST /api/v1/sms/delivery-reports (delivery reports) and POST /api/v1/sms/inbound (incoming messages,
handed to ``sms-inbound`` for the SMS dialogue; idempotent on the operator's message id, whose
replies and bookings are keyed by it).
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime
from typing import Literal, Protocol

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import Container, get_container
from shared.config import Settings
from shared.domain.sms_dialogue import InboundSms
from shared.entrypoints.auth import bearer_token
from shared.entrypoints.web import Clock, LazyRoutes, Problem, Routes, RouteTable, json_response, parse_json, utc_now
from shared.services.ports import MessagePublisher
from shared.topology import SMS_INBOUND

log = logging.getLogger(__name__)


class DeliveryReport(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # A plain token (what we sent as the message id): never a path, so never another document.
    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    status: Literal["delivered", "failed"]


class DeliveryReports(Protocol):
    def delivery_report(self, request_id: str, delivered: bool, now: datetime) -> bool:
        """Record the operator's report on a message we sent; False if we know no such message."""
        ...


class SmsReportsHandlers:
    """The operator's token is read on each post (a missing secret answers 503, not a failed start)."""

    def __init__(
        self, settings: Settings, sms_log: DeliveryReports, bus: MessagePublisher, now: Clock = utc_now
    ) -> None:
        self._now = now
        self._settings = settings
        self._sms_log = sms_log
        self._bus = bus

    def _operator(self, request: Request, secret: Literal["sms_report_token", "sms_inbound_token"], code: str) -> None:
        expected = self._settings.secret(secret)
        # Bytes: compare_digest refuses str with non-ASCII characters (a header may carry any byte).
        if not hmac.compare_digest((bearer_token(request) or "").encode(), expected.encode()):
            raise Problem(401, code, "Nieprawidłowy token operatora SMS")

    def post_report(self, request: Request) -> Response:
        self._operator(request, "sms_report_token", "invalid_report_token")
        report = parse_json(request, DeliveryReport)
        if not self._sms_log.delivery_report(report.id, report.status == "delivered", self._now()):
            raise Problem(404, "sms_not_found", "Nie ma takiej wiadomości")
        return Response(status=204)

    def post_inbound(self, request: Request) -> Response:
        """Hand the message to Pub/Sub and answer at once; the operator retries anything but a 2xx."""
        self._operator(request, "sms_inbound_token", "invalid_operator_token")
        message = parse_json(request, InboundSms)
        data, attributes = message.message()
        try:
            self._bus.publish(SMS_INBOUND, data, timeout_s=5.0, **attributes)
        except Exception:  # any failure to hand it over: the operator sends it again later
            log.warning("incoming SMS not handed to Pub/Sub", extra={"fields": {"message_id": message.message_id}})
            raise Problem(503, "bus_unavailable", "Usługa chwilowo niedostępna", headers={"Retry-After": "5"}) from None
        return json_response({"message_id": message.message_id}, status=202)

    def table(self) -> RouteTable:
        return {
            ("POST", "/api/v1/sms/delivery-reports"): self.post_report,
            ("POST", "/api/v1/sms/inbound"): self.post_inbound,
        }


def compose(container: Container) -> Routes:
    return Routes(SmsReportsHandlers(container.settings, container.sms_log, container.bus).table())


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def sms_reports(request: Request) -> Response:
    return routes.dispatch(request)
