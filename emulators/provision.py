"""Create what the functions expect to exist: Spanner schema, Pub/Sub topology, BigQuery dataset.

The schema files in ``infra/schema`` are the single source of truth: Spanner DDL files apply in
name order, each once (recorded in ``SchemaMigrations``), so a schema change is a new file.
Every step is idempotent: running it again changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from google.api_core import exceptions as gexc
from google.cloud import bigquery, pubsub_v1, spanner  # type: ignore[attr-defined]
from google.cloud.spanner_v1.database import Database
from google.protobuf import duration_pb2

from shared.config import Settings
from shared.topology import PUSH_SUBSCRIPTIONS, TOPICS, TOPOLOGY, dead_letter_topic

log = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "infra" / "schema"
EMULATOR_INSTANCE_CONFIG = "emulator-config"


@dataclass(frozen=True)
class Migration:
    version: str
    statements: list[str]
    checksum: str


def load_migrations(directory: Path = SCHEMA_DIR / "spanner") -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        text = path.read_text()
        without_comments = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
        statements = [s.strip() for s in without_comments.split(";") if s.strip()]
        migrations.append(Migration(path.stem, statements, hashlib.sha256(text.encode()).hexdigest()))
    return migrations


def ensure_spanner(settings: Settings) -> list[str]:
    """Instance, database and every pending migration; returns the versions applied now."""
    client = spanner.Client(project=settings.project_id)
    instance = client.instance(
        settings.spanner_instance,
        configuration_name=f"projects/{settings.project_id}/instanceConfigs/{EMULATOR_INSTANCE_CONFIG}",
        display_name="e-Registration",
        node_count=1,
    )
    if not instance.exists():
        with contextlib.suppress(gexc.AlreadyExists):
            instance.create().result(timeout=60)
    database = instance.database(settings.spanner_database)
    if not database.exists():
        with contextlib.suppress(gexc.AlreadyExists):
            database.create().result(timeout=60)
    return apply_migrations(database, load_migrations())


def applied_versions(database: Database) -> dict[str, str]:
    with database.snapshot() as snapshot:
        tables = {row[0] for row in snapshot.execute_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ''"
        )}  # fmt: skip
    if "SchemaMigrations" not in tables:
        return {}
    with database.snapshot() as snapshot:
        return {row[0]: row[1] for row in snapshot.execute_sql("SELECT Version, Checksum FROM SchemaMigrations")}


def apply_migrations(database: Database, migrations: list[Migration]) -> list[str]:
    done = applied_versions(database)
    applied = []
    for migration in migrations:
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                log.warning("schema file %s changed after it was applied; add a new file instead", migration.version)
            continue
        database.update_ddl(migration.statements).result(timeout=300)
        with database.batch() as batch:
            batch.insert(
                "SchemaMigrations",
                columns=("Version", "Checksum", "AppliedAt"),
                values=[(migration.version, migration.checksum, spanner.COMMIT_TIMESTAMP)],
            )
        applied.append(migration.version)
    return applied


def ensure_pubsub(settings: Settings, push: bool = True) -> None:
    """Topics, dead-letter topics and (unless ``push`` is off) the push subscriptions of infra/topology.yaml."""
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    project = settings.project_id
    for topic in TOPICS:
        for name in (topic, dead_letter_topic(topic)):
            with contextlib.suppress(gexc.AlreadyExists):
                publisher.create_topic(name=publisher.topic_path(project, settings.topic(name)))
        # Keep dead letters where an operator can read them.
        _ensure_subscription(
            subscriber,
            {
                "name": subscriber.subscription_path(project, settings.topic(dead_letter_topic(topic)) + "-hold"),
                "topic": publisher.topic_path(project, settings.topic(dead_letter_topic(topic))),
                "message_retention_duration": duration_pb2.Duration(seconds=TOPOLOGY.dead_letter_retention_s),
            },
        )
    for sub in PUSH_SUBSCRIPTIONS if push else ():
        topic_name = settings.topic(sub.topic)
        _ensure_subscription(
            subscriber,
            {
                "name": subscriber.subscription_path(project, settings.topic(sub.name)),
                "topic": publisher.topic_path(project, topic_name),
                "push_config": {"push_endpoint": settings.push_endpoint + sub.push_path(project, topic_name)},
                "ack_deadline_seconds": sub.ack_deadline_s,
                "retry_policy": {
                    # The ceiling a test lowers caps the floor too (Pub/Sub refuses a floor above it).
                    "minimum_backoff": duration_pb2.Duration(
                        seconds=min(sub.min_backoff_s, settings.pubsub_max_backoff_s)
                    ),
                    "maximum_backoff": duration_pb2.Duration(
                        seconds=min(sub.max_backoff_s, settings.pubsub_max_backoff_s)
                    ),
                },
                "dead_letter_policy": {
                    "dead_letter_topic": publisher.topic_path(project, settings.topic(sub.dead_letter_topic)),
                    "max_delivery_attempts": sub.max_delivery_attempts,
                },
            },
        )


def _ensure_subscription(subscriber: pubsub_v1.SubscriberClient, request: dict[str, object]) -> None:
    with contextlib.suppress(gexc.AlreadyExists):
        subscriber.create_subscription(request=request)


def ensure_bigquery(warehouse_client: bigquery.Client, settings: Settings) -> None:
    dataset = bigquery.Dataset(f"{settings.project_id}.{settings.bigquery_dataset}")
    dataset.location = settings.bigquery_location
    warehouse_client.create_dataset(dataset, exists_ok=True)
    directory = SCHEMA_DIR / "bigquery"
    for path in sorted(directory.glob("*.json")):
        spec = json.loads(path.read_text())
        table = bigquery.Table(
            f"{settings.project_id}.{settings.bigquery_dataset}.{path.stem}",
            schema=[bigquery.SchemaField(f["name"], f["type"], mode=f.get("mode", "NULLABLE")) for f in spec["schema"]],
        )
        table.description = spec.get("description")
        if "time_partitioning" in spec:
            table.time_partitioning = bigquery.TimePartitioning(
                type_=spec["time_partitioning"]["type"], field=spec["time_partitioning"]["field"]
            )
        table.clustering_fields = spec.get("clustering")
        # Stored by bqemulator but not enforced there: tests/unit/test_report_queries.py checks the queries.
        table.require_partition_filter = spec.get("require_partition_filter", False)
        warehouse_client.create_table(table, exists_ok=True)
    # Views may read other views: create them in passes until every one exists.
    pending = sorted(directory.glob("*.view.sql"))
    while pending:
        failed = []
        for path in pending:
            name = path.name.removesuffix(".view.sql")
            view = bigquery.Table(f"{settings.project_id}.{settings.bigquery_dataset}.{name}")
            view.view_query = path.read_text().format(project=settings.project_id, dataset=settings.bigquery_dataset)
            try:
                warehouse_client.create_table(view, exists_ok=True)
            except gexc.GoogleAPICallError:
                failed.append(path)
        if len(failed) == len(pending):
            raise RuntimeError(f"BigQuery views could not be created: {[p.name for p in failed]}")
        pending = failed


def provision(settings: Settings, warehouse_client: bigquery.Client, push: bool = True) -> None:
    applied = ensure_spanner(settings)
    log.info("spanner schema ready", extra={"fields": {"applied": applied}})
    ensure_pubsub(settings, push)
    ensure_bigquery(warehouse_client, settings)


def remove_pubsub(settings: Settings) -> int:
    """Delete the subscriptions and topics under this settings' name prefix (a test's own).

    The Pub/Sub emulator keeps pushing to every subscription it holds, each with threads of its own:
    subscriptions left behind by finished tests pointed at hosts that were gone and, over a few
    hundred tests, took the emulator to thousands of threads. Returns how many were deleted.
    """
    if not settings.pubsub_prefix:
        raise ValueError("refusing to delete every topic of the project: these settings have no prefix")
    project = f"projects/{settings.project_id}"
    prefix = settings.topic("")
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    deleted = 0
    for subscription in list(subscriber.list_subscriptions(project=project)):
        if subscription.name.rsplit("/", 1)[-1].startswith(prefix):
            with contextlib.suppress(gexc.NotFound):
                subscriber.delete_subscription(subscription=subscription.name)
                deleted += 1
    for topic in list(publisher.list_topics(project=project)):
        if topic.name.rsplit("/", 1)[-1].startswith(prefix):
            with contextlib.suppress(gexc.NotFound):
                publisher.delete_topic(topic=topic.name)
                deleted += 1
    return deleted
