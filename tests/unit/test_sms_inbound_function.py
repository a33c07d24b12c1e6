"""POST /api/v1/sms/inbound: the operator's token, the message checked, handed to Pub/Sub or 503."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, request

from functions.sms_reports import SmsReportsHandlers
from shared.config import Settings
from shared.entrypoints.web import Routes
from shared.topology import SMS_INBOUND
from tests.unit.fakes import FakeBus

app = Flask(__name__)
TOKEN = "operator-token"
BODY = {"message_id": "op-1", "from": "+48601000001", "to": "8000", "text": "TAK",
        "received_at": "2026-12-01T10:00:00+00:00"}  # fmt: skip


class NoReports:
    def delivery_report(self, request_id: str, delivered: bool, now: Any) -> bool:
        raise AssertionError("an incoming message is no delivery report")


@dataclass
class FakeContainer:
    bus: FakeBus = field(default_factory=FakeBus)
    settings: Settings = field(
        default_factory=lambda: Settings(deployment="local", sms_inbound_token=TOKEN)  # type: ignore[arg-type]
    )


def post(container: FakeContainer, body: Any, token: str = TOKEN) -> Any:
    routes = Routes(SmsReportsHandlers(container.settings, NoReports(), container.bus).table())
    with app.test_request_context(
        "/api/v1/sms/inbound", method="POST", json=body, headers={"Authorization": f"Bearer {token}"}
    ):
        return routes.dispatch(request)


@pytest.fixture
def container() -> FakeContainer:
    return FakeContainer()


def test_a_message_is_handed_to_pubsub_with_its_id(container: FakeContainer) -> None:
    response = post(container, BODY)
    assert response.status_code == 202 and response.json == {"message_id": "op-1"}
    [(topic, data, attributes)] = container.bus.messages
    assert topic == SMS_INBOUND and attributes == {"message_id": "op-1"}
    assert json.loads(data) == {**BODY, "received_at": "2026-12-01T10:00:00Z"}


@pytest.mark.parametrize(
    ("body", "token", "status", "code"),
    [
        (BODY, "wrong", 401, "invalid_operator_token"),
        ({**BODY, "message_id": "a/b"}, TOKEN, 400, "invalid_field"),
        ({k: v for k, v in BODY.items() if k != "from"}, TOKEN, 400, "invalid_field"),
        ({**BODY, "received_at": "yesterday"}, TOKEN, 400, "invalid_field"),
    ],
)
def test_refusals_publish_nothing(container: FakeContainer, body: Any, token: str, status: int, code: str) -> None:
    response = post(container, body, token)
    assert response.status_code == status and response.json["code"] == code
    assert container.bus.messages == []


def test_pubsub_not_taking_it_is_a_503_for_the_operator_to_retry(container: FakeContainer) -> None:
    container.bus.takes = 0
    response = post(container, BODY)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
