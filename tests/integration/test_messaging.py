"""Outbox relay, reminders and the SMS provider on the emulators and the local SMS gateway."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from emulators.ports import Ports, free_port
from emulators.provision import ensure_pubsub
from emulators.stack import LocalStack
from emulators.waiting import poll_until
from shared.adapters.firestore_db import FirestoreSmsLog
from shared.adapters.firestore_night_jobs import NIGHT_JOBS, FirestoreCheckpoints
from shared.adapters.sms_provider import HttpSmsProvider
from shared.adapters.spanner_outbox import SpannerOutbox
from shared.adapters.spanner_points import SpannerPointDirectory
from shared.adapters.spanner_reads import SpannerVisitReader
from shared.bootstrap import Container, build_container
from shared.domain.booking import Channel
from shared.domain.local_time import WARSAW
from shared.services.night_jobs import NightJobs
from shared.services.outbox import OutboxRelay
from shared.services.ports import MessagePublisher
from shared.services.reminders import Reminders
from shared.services.sms import PermanentSmsError, SmsSender, TransientSmsError
from shared.services.visits import BookingRequest
from shared.topology import SMS_REQUESTS, VISIT_EVENTS
from tests.integration.conftest import NOW, CapturedEvents, add_patient, add_point, at, visit_service


def pull_all(project: str, subscription: str, expected: int, timeout_s: float = 20) -> list[Any]:
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(project, subscription)
    received: list[Any] = []

    def pull() -> list[Any]:
        response = subscriber.pull(subscription=path, max_messages=100, timeout=5)
        if response.received_messages:
            subscriber.acknowledge(subscription=path, ack_ids=[m.ack_id for m in response.received_messages])
            received.extend(m.message for m in response.received_messages)
        return received

    return poll_until(pull, lambda got: len(got) >= expected, timeout_s, every_s=0)


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
        relay = OutboxRelay(SpannerOutbox(backends.spanner), container.bus, publish_timeout_s=1.0)
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
        swept = relay.sweep(datetime.now(UTC), older_than_s=0)
        assert swept >= 6
        arrived = {json.loads(m.data)["event_id"] for m in pull_all(settings.project_id, subscription, 6)}
        assert expected <= arrived
        assert relay.sweep(datetime.now(UTC), older_than_s=0) == 0  # all marked published
    finally:
        outage.stop()


def test_reminders_killed_mid_way_resume_after_the_checkpoint(backends: Container, emulator_env) -> None:
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
    points = SpannerPointDirectory(backends.spanner)
    checkpoints = FirestoreCheckpoints(backends.firestore.client)
    checkpoints.client.collection(NIGHT_JOBS).document(f"reminders-{tomorrow_local.isoformat()}").delete()

    def reminders(bus: MessagePublisher) -> Reminders:
        jobs = NightJobs(checkpoints, bus, time.monotonic, budget_s=60.0)
        return Reminders(SpannerVisitReader(backends.spanner), backends.patients, points, bus, True, jobs, page=1)

    with pytest.raises(KilledMidWay):  # the first delivery dies after one page (one reminder) ...
        reminders(DyingBus(backends.bus, pages=1)).run(tomorrow_local)
    saved = checkpoints.load(f"reminders-{tomorrow_local.isoformat()}")
    assert saved is not None and (saved.done, saved.pages, saved.finished) == (1, 1, False)
    run = reminders(backends.bus).run(tomorrow_local)  # ... its retry goes on after the checkpoint
    assert (run.done, run.total, run.finished, run.resumed_after) == (1, 2, True, saved.cursor)
    assert reminders(backends.bus).run(tomorrow_local).done == 0  # a repeated tick: the job is done
    requests_seen = [json.loads(m.data) for m in pull_all(backends.settings.project_id, subscription, 2)]
    assert len(requests_seen) == len({r["request_id"] for r in requests_seen}) == 2  # none twice, none missing
    assert all(r["text"].isascii() and r["segments"] >= 1 for r in requests_seen)

    sender = SmsSender(
        HttpSmsProvider(emulator_env["EREG_SMS_PROVIDER_URL"], backends.settings.sms_provider_token.get_secret_value()),
        FirestoreSmsLog(backends.firestore.client),
    )
    outcomes = [sender.handle(r, datetime.now(UTC)) for r in requests_seen + requests_seen]
    assert sorted(outcomes) == ["duplicate", "duplicate", "sent", "sent"]  # a replayed request sends nothing


class KilledMidWay(Exception):
    pass


class DyingBus:
    """The real bus for ``pages`` calls of publish_many; then the process "dies"."""

    def __init__(self, bus: MessagePublisher, pages: int) -> None:
        self.bus, self.pages = bus, pages

    def publish(self, topic: str, data: bytes, timeout_s: float = 10.0, **attributes: str) -> str:
        return self.bus.publish(topic, data, timeout_s, **attributes)

    def publish_many(
        self, topic: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout_s: float = 10.0
    ) -> list[bool]:
        if self.pages <= 0:
            raise KilledMidWay()
        self.pages -= 1
        return self.bus.publish_many(topic, messages, timeout_s)


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
        FirestoreSmsLog(backends.firestore.client),
    )
    request = {"request_id": f"landline-{uuid.uuid4()}", "to": "+48221234567", "text": "x", "kind": "VisitBooked"}
    assert sender.handle(request, datetime.now(UTC)) == "rejected"
    record = FirestoreSmsLog(backends.firestore.client).get(request["request_id"])
    assert record is not None and record["status"] == "REJECTED" and "221234567" not in str(record)


def test_the_fast_path_publishes_and_marks_so_the_sweep_has_nothing_left(backends: Container) -> None:
    point_id = add_point(backends, [(at(2, 9), "jcovden", 5)])
    subscription = subscribe(backends, VISIT_EVENTS, "fast-path")
    relay = OutboxRelay(SpannerOutbox(backends.spanner), backends.bus, mark_every_s=60)
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
