"""Replay dead-lettered messages: from a topic's dead-letter hold back onto the topic.

Pub/Sub moves a message it could not deliver after the subscription's attempts to
``<topic>-dead-letter`` (infra/topology.yaml), where ``<topic>-dead-letter-hold`` keeps it for 7
days and an alert fires (infra/monitoring.tf). Once the cause is fixed, an operator replays them:

    python -m tools.replay_dead_letters --project P --topic visit-events --dry-run
    python -m tools.replay_dead_letters --project P --topic visit-events [--from-subscription S] [--limit N]

Each message is published again with its data and attributes (without Pub/Sub's dead-letter
bookkeeping, plus ``ereg_replayed``), and acknowledged on the hold only once the publish is
confirmed: a failure leaves it in the hold, never lost. Every subscription of the topic receives it
again; the consumers are idempotent on the event id (docs/runbook.md). ``--from-subscription``
replays only what one subscription dead-lettered and leaves the rest in the hold. Only message ids
and counts are printed, never a message's content.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.topology import TOPOLOGY

SOURCE_ATTRIBUTE = "CloudPubSubDeadLetterSourceSubscription"
# What Pub/Sub adds when it dead-letters a message; not part of the message itself.
BOOKKEEPING = "CloudPubSubDeadLetterSource"
REPLAYED = "ereg_replayed"


@dataclass
class Replay:
    replayed: list[str] = field(default_factory=list)  # message ids published again and acknowledged
    skipped: list[str] = field(default_factory=list)  # from another subscription: left in the hold
    failed: list[str] = field(default_factory=list)  # the publish failed: left in the hold


def hold_subscription(topic: str, prefix: str = "") -> str:
    return f"{prefix}{TOPOLOGY.dead_letter_topic(topic)}-hold"


def replay(
    project: str,
    topic: str,
    *,
    prefix: str = "",
    limit: int = 1000,
    dry_run: bool = False,
    from_subscription: str | None = None,
    subscriber: pubsub_v1.SubscriberClient | None = None,
    publisher: pubsub_v1.PublisherClient | None = None,
    say: Callable[[str], None] = print,
    publish_timeout_s: float = 30.0,
) -> Replay:
    if topic not in TOPOLOGY.topics:
        raise ValueError(f"{topic} is not a topic of infra/topology.yaml")
    subscriber = subscriber or pubsub_v1.SubscriberClient()
    publisher = publisher or pubsub_v1.PublisherClient()
    hold = subscriber.subscription_path(project, hold_subscription(topic, prefix))
    target = publisher.topic_path(project, f"{prefix}{topic}")
    result = Replay()
    seen: set[str] = set()
    empty_pulls = 0
    while len(result.replayed) + len(result.failed) < limit and empty_pulls < 2:
        wanted = min(100, limit - len(result.replayed) - len(result.failed))
        response = subscriber.pull(subscription=hold, max_messages=wanted, timeout=10)
        batch = [m for m in response.received_messages if m.message.message_id not in seen]
        if not batch:
            empty_pulls += 1  # the service may answer empty once while messages remain
            continue
        empty_pulls = 0
        done_ack_ids, release_ack_ids = [], []
        for received in batch:
            message = received.message
            seen.add(message.message_id)
            source = message.attributes.get(SOURCE_ATTRIBUTE, "")
            if from_subscription and source.rsplit("/", 1)[-1] != from_subscription:
                result.skipped.append(message.message_id)
                release_ack_ids.append(received.ack_id)
                continue
            if dry_run:
                say(f"would replay {message.message_id} (from {source or 'unknown'}, {message.publish_time})")
                result.replayed.append(message.message_id)
                release_ack_ids.append(received.ack_id)
                continue
            attributes = {k: v for k, v in message.attributes.items() if not k.startswith(BOOKKEEPING)}
            try:
                publisher.publish(target, message.data, **attributes, **{REPLAYED: "1"}).result(
                    timeout=publish_timeout_s
                )
            except (gexc.GoogleAPIError, TimeoutError) as error:
                say(f"could not replay {message.message_id}: {type(error).__name__}; it stays in the hold")
                result.failed.append(message.message_id)
                release_ack_ids.append(received.ack_id)
                continue
            result.replayed.append(message.message_id)
            done_ack_ids.append(received.ack_id)
        if done_ack_ids:
            subscriber.acknowledge(subscription=hold, ack_ids=done_ack_ids)
        if release_ack_ids:  # back to the hold at once, for the next run (or another operator)
            subscriber.modify_ack_deadline(subscription=hold, ack_ids=release_ack_ids, ack_deadline_seconds=0)
    verb = "would replay" if dry_run else "replayed"
    say(
        f"{verb} {len(result.replayed)}, left {len(result.skipped)} of other subscriptions, failed {len(result.failed)}"
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", required=True)
    parser.add_argument("--topic", required=True, choices=TOPOLOGY.topics)
    parser.add_argument("--prefix", default="", help="topic name prefix (EREG_PUBSUB_PREFIX; empty in the cloud)")
    parser.add_argument("--from-subscription", help="replay only what this subscription dead-lettered")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed; change nothing")
    args = parser.parse_args(argv)
    result = replay(
        args.project,
        args.topic,
        prefix=args.prefix,
        limit=args.limit,
        dry_run=args.dry_run,
        from_subscription=args.from_subscription,
    )
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
