"""Outbox relay, reminders and the SMS provider on the emulators and the local SMS gateway."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from emulators.ports import Ports, free_port
from emulators.provision import ensure_pubsub
from emulators.stack import LocalStack
from shared.adapters.firestore_db import SmsLog
from shared.adapters.sms_provider import HttpSmsProvider, PermanentSmsError, TransientSmsError
from shared.adapters.spanner_points import SpannerPointDirectory
from shared.bootstrap import Container, build_container
from shared.domain.booking import WARSAW, Channel
from shared.services.messaging import Reminders, SmsSender
from shared.services.outbox import OutboxRelay
from shared.services.visits import BookingRequest
from shared.topology import SMS_REQUESTS, VISIT_EVENTS
from tests.integration.conftest import NOW, CapturedEvents, add_patient, add_point, at, visit_service


def pull_all(project: str, subscription: str, expected: int, timeout_s: float = 20) -> list[Any]:
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(project, subscription)
    received: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(received) < expected and time.monotonic() < deadline:
        response = subscriber.pull(subscription=path, max_messages=100, timeout=5)
        if response.received_messages:
            subscriber.acknowledge(subscription=path, ack_ids=[m.ack_id for m in response.received_messages])
            received += [m.message for m in response.received_messages]
    return received


def subscribe(container: Container, topic: str, name: str) -> str:
    subscriber = pubsub_v1.SubscriberClient()
    settings = container.settings
    subscription = f"{settings.pubsub_prefix}{name}"
    subscriber.create_subscription(
        name=subscriber.subscription_path(settings.project_id, subscription), topic=container.bus.topic_path(topic)
    )
    return subscription


def test_events_made_while_pubsub_is_down_arrive_after_the_sweep(backends: Container, monkeypatch) -> None:
    # A Pub/Sub emulator of this test's own, so stopping it disturbs no other test.
    ports = replace(Ports.from_env(), pubsub=free_port())
    outage = LocalStack(ports, backends.settings.project_id)
    outage.start(["pubsub"])
    settings = backends.settings.model_copy(update={"pubsub_emulator_host": f"127.0.0.1:{ports.pubsub}"})
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{ports.pubsub}")  # restored after the test
    container = build_container(settings)
    try:
        ensure_pubsub(settings)
        outage.stop()  # Pub/Sub goes down

        point_id = add_point(backends, [(at(2, 9), "comirnaty", 5), (at(24, 9), "comirnaty", 5)])
        relay = OutboxRelay(backends.spanner, container.bus, publish_timeout_s=1.0)
        captured = CapturedEvents(then=relay)
        service = visit_service(backends, events=captured)
        for _ in range(3):
            service.book(
                add_patient(backends), BookingRequest(point_id, at(2, 9), "comirnaty", None), Channel.WEB, NOW,
                str(uuid.uuid4()),
            )  # fmt: skip
        assert captured.published == [0, 0, 0]  # the fast path fails; nothing is lost
        expected = {e["event_id"] for e in captured.events}
        assert len(expected) == 6  # dose 1 and dose 2 for each

        outage.start(["pubsub"])  # Pub/Sub is back (empty, as after an outage of the emulator)
        ensure_pubsub(settings)
        subscription = subscribe(container, VISIT_EVENTS, "audit-outage")
        time.sleep(0.5)
        swept = relay.sweep(datetime.now(UTC), older_than_s=0)
        assert swept >= 6
        arrived = {json.loads(m.data)["event_id"] for m in pull_all(settings.project_id, subscription, 6)}
        assert expected <= arrived
        assert relay.sweep(datetime.now(UTC), older_than_s=0) == 0  # all marked published
    finally:
        outage.stop()


def test_reminders_for_tomorrow_are_requested_once_and_sent_once(backends: Container, emulator_env) -> None:
    tomorrow_local = (datetime.now(UTC).astimezone(WARSAW) + timedelta(days=1)).date()
    start = datetime(tomorrow_local.year, tomorrow_local.month, tomorrow_local.day, 23, tzinfo=WARSAW).astimezone(UTC)
    if start <= datetime.now(UTC):
        pytest.fail("clock assumption broken")
    point_id = add_point(backends, [(start, "jcovden", 10), (start + timedelta(days=1), "jcovden", 10)])
    service = visit_service(backends)
    patients = [add_patient(backends) for _ in range(4)]
    for index, patient_id in enumerate(patients):
        when = start if index < 3 else start + timedelta(days=1)  # three tomorrow, one the day after
        service.book(patient_id, BookingRequest(point_id, when, "jcovden", None), Channel.WEB, NOW, str(uuid.uuid4()))
    service.cancel(service.list_for_patient(patients[0]).visits[0].visit_id, patients[0], NOW)  # cancelled: no reminder

    subscription = subscribe(backends, SMS_REQUESTS, "reminders")
    reminders = Reminders(backends.spanner, backends.patients, SpannerPointDirectory(backends.spanner), backends.bus,
                          transliterate=True, page=1)  # fmt: skip
    assert reminders.run(tomorrow_local) == 2
    assert reminders.run(tomorrow_local) == 2  # the second tick asks again ...
    requests_seen = [json.loads(m.data) for m in pull_all(backends.settings.project_id, subscription, 4)]
    assert len(requests_seen) == 4 and len({r["request_id"] for r in requests_seen}) == 2
    assert all(r["text"].isascii() and r["segments"] >= 1 for r in requests_seen)

    sender = SmsSender(
        HttpSmsProvider(emulator_env["EREG_SMS_PROVIDER_URL"], backends.settings.sms_provider_token.get_secret_value()),
        SmsLog(backends.firestore.client),
    )
    outcomes = [sender.handle(r, datetime.now(UTC)) for r in requests_seen]
    assert sorted(outcomes) == ["duplicate", "duplicate", "sent", "sent"]  # ... but nothing new is sent


def test_provider_retries_5xx_and_gives_up_on_4xx(emulator_env: dict[str, str], backends: Container) -> None:
    gateway = emulator_env["EREG_SMS_PROVIDER_URL"]
    token = backends.settings.sms_provider_token.get_secret_value()
    provider = HttpSmsProvider(gateway, token, backoff_s=0.01)
    requests.post(f"{gateway}/control/fail", json={"count": 2, "status": 502}, timeout=5)
    message_id = f"retry-{uuid.uuid4()}"
    assert provider.send(message_id, "+48601999001", "test") == message_id
    requests.post(f"{gateway}/control/fail", json={"count": 3, "status": 503}, timeout=5)
    with pytest.raises(TransientSmsError):
        provider.send(f"retry-{uuid.uuid4()}", "+48601999001", "test")
    with pytest.raises(PermanentSmsError):
        HttpSmsProvider(gateway, "wrong-token").send(f"auth-{uuid.uuid4()}", "+48601999001", "test")
    requests.post(f"{gateway}/control/slow", json={"count": 3, "seconds": 1.5}, timeout=5)
    with pytest.raises(TransientSmsError):
        HttpSmsProvider(gateway, token, timeout_s=0.5, backoff_s=0.01).send(f"slow-{uuid.uuid4()}", "+48601999001", "x")


def test_a_landline_is_refused_and_logged_without_sending(backends: Container, emulator_env) -> None:
    sender = SmsSender(
        HttpSmsProvider(emulator_env["EREG_SMS_PROVIDER_URL"], backends.settings.sms_provider_token.get_secret_value()),
        SmsLog(backends.firestore.client),
    )
    request = {"request_id": f"landline-{uuid.uuid4()}", "to": "+48221234567", "text": "x", "kind": "VisitBooked"}
    assert sender.handle(request, datetime.now(UTC)) == "rejected"
    record = SmsLog(backends.firestore.client).get(request["request_id"])
    assert record is not None and record["status"] == "REJECTED" and "221234567" not in str(record)


def test_the_fast_path_publishes_and_marks_so_the_sweep_has_nothing_left(backends: Container) -> None:
    point_id = add_point(backends, [(at(2, 9), "jcovden", 5)])
    subscription = subscribe(backends, VISIT_EVENTS, "fast-path")
    relay = OutboxRelay(backends.spanner, backends.bus, mark_every_s=60)
    captured = CapturedEvents(then=relay)
    visit_service(backends, events=captured).book(
        add_patient(backends), BookingRequest(point_id, at(2, 9), "jcovden", None), Channel.WEB, NOW, "k"
    )
    assert captured.published == [1]
    relay.flush()
    assert relay.sweep(datetime.now(UTC), older_than_s=0) == 0
    [message] = pull_all(backends.settings.project_id, subscription, 1)
    assert json.loads(message.data)["event_id"] == captured.events[0]["event_id"]
    assert message.attributes["event_type"] == "VisitBooked"
