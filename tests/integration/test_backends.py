"""One round trip through each adapter on its emulator."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from google.cloud import pubsub_v1  # type: ignore[attr-defined]
from google.cloud.spanner_v1.keyset import KeySet

from emulators.provision import apply_migrations, load_migrations
from emulators.seed import demo_programme
from shared.bootstrap import Container
from shared.topology import VISIT_EVENTS


def test_spanner_schema_is_applied_once_and_rows_round_trip(backends: Container) -> None:
    database = backends.spanner.database
    assert apply_migrations(database, load_migrations()) == []  # already applied by provisioning
    point_id = str(uuid.uuid4())
    with backends.spanner.batch() as batch:
        batch.insert(
            "Points",
            columns=("PointId", "Name", "Voivodeship", "County", "Municipality", "City", "Street", "PostalCode",
                     "Vaccines", "Active"),
            values=[(point_id, "Punkt testowy", "14", "1465", "1465011", "Warszawa", "ul. Długa 1", "00-001",
                     ["comirnaty"], True)],
        )  # fmt: skip
    with backends.spanner.snapshot() as snapshot:
        rows = list(snapshot.read("Points", ("PointId", "Name", "Vaccines"), KeySet(keys=[[point_id]])))
    assert rows == [[point_id, "Punkt testowy", ["comirnaty"]]]


def test_firestore_programme_round_trip(backends: Container) -> None:
    assert backends.firestore.current_programme() is None
    programme = demo_programme(datetime(2026, 1, 1, tzinfo=UTC))
    backends.firestore.publish_programme(programme)
    assert backends.firestore.current_programme() == programme


def test_pubsub_publish_reaches_a_subscriber(backends: Container) -> None:
    subscriber = pubsub_v1.SubscriberClient()
    settings = backends.settings
    subscription = subscriber.subscription_path(settings.project_id, f"{settings.pubsub_prefix}probe")
    subscriber.create_subscription(name=subscription, topic=backends.bus.topic_path(VISIT_EVENTS))
    backends.bus.publish(VISIT_EVENTS, json.dumps({"hello": "świat"}).encode(), kind="probe")
    response = subscriber.pull(subscription=subscription, max_messages=1, timeout=10)
    assert len(response.received_messages) == 1
    message = response.received_messages[0].message
    assert json.loads(message.data) == {"hello": "świat"}
    assert message.attributes["kind"] == "probe"
    subscriber.delete_subscription(subscription=subscription)


def test_bigquery_rows_stream_in_and_the_unique_view_counts_once(backends: Container) -> None:
    now = datetime.now(UTC).isoformat()
    row = {
        "event_id": "e-1", "event_type": "VisitBooked", "schema_version": 1, "occurred_at": now,
        "visit_id": "v-1", "patient_ref": "p-1", "point_id": "pt-1", "voivodeship": "14", "vaccine": "comirnaty",
        "dose": 1, "channel": "WEB", "inserted_at": now,
    }  # fmt: skip
    backends.warehouse.insert_rows("visit_events", [row, row], row_ids=["e-1", "e-1"])
    dataset = f"`{backends.settings.project_id}.{backends.settings.bigquery_dataset}"
    unique = backends.warehouse.query(f"SELECT COUNT(*) AS n FROM {dataset}.visit_events_unique`")
    assert unique == [{"n": 1}]
    daily = backends.warehouse.query(
        f"SELECT events FROM {dataset}.daily_figures` WHERE voivodeship = @voivodeship", {"voivodeship": "14"}
    )
    assert daily == [{"events": 1}]


def test_health_reports_every_backend_up(backends: Container) -> None:
    report = backends.health()
    assert report.status == "ok"
    assert set(report.backends) == {"spanner", "firestore", "pubsub", "bigquery", "redis"}
    assert all(b.status == "ok" and b.latency_ms >= 0 for b in report.backends.values())
