"""Events, SMS and the reporting feed end to end: through Pub/Sub push to the host, to the gateway."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import requests
from google.cloud import pubsub_v1  # type: ignore[attr-defined]
from google.cloud.spanner_v1.keyset import KeySet

from emulators.waiting import poll_until
from shared.bootstrap import Container
from shared.topology import VISIT_EVENTS, dead_letter_topic
from tests.e2e.conftest import Api
from tests.e2e.test_booking import book, find_slots

# The gateway is shared by every test run on the machine and keeps what it received: only what
# arrived since this run started counts (an earlier run may have used the same number).
RUN_STARTED = datetime.now(UTC)


def messages_to(gateway: str, phone: str) -> list[dict[str, Any]]:
    messages = requests.get(f"{gateway}/messages", params={"to": phone}, timeout=5).json()["messages"]
    return [m for m in messages if datetime.fromisoformat(m["received_at"]) >= RUN_STARTED]


def wait_for_messages(gateway: str, phone: str, count: int, timeout_s: float = 30) -> list[dict[str, Any]]:
    found = poll_until(lambda: messages_to(gateway, phone), lambda m: len(m) >= count, timeout_s)
    assert len(found) >= count, f"{count} SMS expected at the gateway within {timeout_s} s, got {found}"
    return found


def assert_no_more_messages(gateway: str, phone: str, count: int, watch_s: float) -> None:
    """Watch the gateway for a while: a second SMS would show up (and fail the test at once)."""
    found = poll_until(lambda: messages_to(gateway, phone), lambda m: len(m) > count, watch_s)
    assert len(found) == count, found


def booked_events(container: Container, visit_id: str) -> list[dict[str, Any]]:
    with container.spanner.snapshot() as snapshot:
        rows = snapshot.read("Outbox", ("EventType", "Payload"), KeySet(all_=True))
        return [json.loads(r[1]) for r in rows if r[0] == "VisitBooked" and visit_id in r[1]]


def _book_with_phone(api: Api, new_pesel, phone: str, index: int = 10) -> dict[str, Any]:
    token = api.login(new_pesel(date(1966, 6, 6)))["session_token"]
    response = book(api, token, find_slots(api, "comirnaty")[index], phone=phone)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_booking_sends_exactly_one_confirmation_sms(api: Api, new_pesel, new_phone, gateway: str) -> None:
    phone = new_phone()
    visits = _book_with_phone(api, new_pesel, phone)["visits"]
    [sms] = wait_for_messages(gateway, phone, 1)
    assert "dawka 1" in sms["text"] and f"Kod: {visits[0]['check_in_code']}" in sms["text"]
    assert "Dawka 2" in sms["text"]
    assert_no_more_messages(gateway, phone, 1, watch_s=2)


def test_the_same_event_delivered_again_sends_no_second_sms(
    api: Api, new_pesel, new_phone, gateway: str, e2e_backends: Container
) -> None:
    phone = new_phone()
    visit_id = _book_with_phone(api, new_pesel, phone, index=11)["visits"][0]["visit_id"]
    wait_for_messages(gateway, phone, 1)
    [event] = [e for e in booked_events(e2e_backends, visit_id) if e["visit_id"] == visit_id]
    for _ in range(2):
        e2e_backends.bus.publish(VISIT_EVENTS, json.dumps(event).encode(), event_id=event["event_id"])
    assert_no_more_messages(gateway, phone, 1, watch_s=3)
    # ... and the ministry's view counts the event once, however often it was streamed.
    table = f"`{e2e_backends.settings.project_id}.{e2e_backends.settings.bigquery_dataset}"
    raw = poll_until(
        lambda: e2e_backends.warehouse.query(
            f"SELECT COUNT(*) AS n FROM {table}.visit_events` WHERE event_id = @id", {"id": event["event_id"]}
        ),
        lambda rows: rows[0]["n"] >= 3,
        timeout_s=20,
        every_s=0.3,
    )
    assert raw[0]["n"] >= 3  # delivered three times
    unique = e2e_backends.warehouse.query(
        f"SELECT COUNT(*) AS n FROM {table}.visit_events_unique` WHERE event_id = @id", {"id": event["event_id"]}
    )
    assert unique == [{"n": 1}]


def test_the_gateway_failing_three_times_then_working_still_sends_one(
    api: Api, new_pesel, new_phone, gateway: str, e2e_backends: Container
) -> None:
    phone = new_phone()
    requests.post(f"{gateway}/control/fail", json={"count": 3, "status": 503}, timeout=5)
    visit_id = _book_with_phone(api, new_pesel, phone, index=12)["visits"][0]["visit_id"]
    [sms] = wait_for_messages(gateway, phone, 1, timeout_s=45)
    assert_no_more_messages(gateway, phone, 1, watch_s=2)
    [event] = [e for e in booked_events(e2e_backends, visit_id) if e["visit_id"] == visit_id]
    record = e2e_backends.sms_log.get(f"event-{event['event_id']}")
    assert record is not None and record["status"] in ("SENT", "DELIVERED")
    assert record["segments"] >= 1 and record["encoding"] in ("GSM-7", "UCS-2")
    assert sms["id"] == f"event-{event['event_id']}"


def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_rest_flow_on(
    api: Api, new_pesel, new_phone, gateway: str, e2e_backends: Container
) -> None:
    poison = f"not an event {uuid.uuid4()}".encode()
    e2e_backends.bus.publish(VISIT_EVENTS, poison)
    phone = new_phone()
    _book_with_phone(api, new_pesel, phone, index=13)
    wait_for_messages(gateway, phone, 1, timeout_s=15)  # not blocked behind the poison
    subscriber = pubsub_v1.SubscriberClient()
    settings = e2e_backends.settings
    hold = subscriber.subscription_path(settings.project_id, settings.topic(dead_letter_topic(VISIT_EVENTS)) + "-hold")

    def pull() -> bool:
        response = subscriber.pull(subscription=hold, max_messages=50, timeout=10)
        if response.received_messages:
            subscriber.acknowledge(subscription=hold, ack_ids=[m.ack_id for m in response.received_messages])
        return any(m.message.data == poison for m in response.received_messages)

    assert poll_until(pull, bool, timeout_s=90, every_s=1), "the poison message did not reach the dead-letter topic"


def test_delivery_reports_update_the_sms_log(api: Api, e2e_backends: Container, host_url: str) -> None:
    e2e_backends.sms_log.mark("report-test", "SENT", datetime.now(UTC))
    token = e2e_backends.settings.sms_report_token.get_secret_value()
    url = f"{host_url}/api/v1/sms/delivery-reports"
    wrong = requests.post(url, json={"id": "report-test", "status": "delivered"}, timeout=5,
                          headers={"Authorization": "Bearer nope"})  # fmt: skip
    assert wrong.status_code == 401
    unknown = requests.post(url, json={"id": "nobody", "status": "delivered"}, timeout=5,
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert unknown.status_code == 404
    bad = requests.post(url, json={"id": "report-test", "status": "lost"}, timeout=5,
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert (bad.status_code, bad.json()["field"]) == (400, "status")
    good = requests.post(url, json={"id": "report-test", "status": "delivered"}, timeout=5,
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert good.status_code == 204
    record = e2e_backends.sms_log.get("report-test")
    assert record is not None and record["status"] == "DELIVERED"
