"""tools/replay_dead_letters.py on the Pub/Sub emulator: dead letters go back onto their topic,
with their data and attributes, and leave the hold only once published."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from emulators.provision import ensure_pubsub, remove_pubsub
from emulators.waiting import poll_until
from shared.config import Settings
from shared.topology import VISIT_EVENTS, dead_letter_topic
from tests.conftest import isolated_settings
from tools.replay_dead_letters import REPLAYED, SOURCE_ATTRIBUTE, hold_subscription, replay


@pytest.fixture
def pubsub(emulator_env: dict[str, str]) -> Iterator[Settings]:
    settings = isolated_settings()
    ensure_pubsub(settings, push=False)
    yield settings
    remove_pubsub(settings)


def _dead_letter(settings: Settings, data: bytes, source: str) -> str:
    """A message as Pub/Sub dead-letters it: on the dead-letter topic, with its bookkeeping attributes."""
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(settings.project_id, settings.topic(dead_letter_topic(VISIT_EVENTS)))
    attributes = {
        "event_type": "visit.booked",
        SOURCE_ATTRIBUTE: f"projects/{settings.project_id}/subscriptions/{source}",
        "CloudPubSubDeadLetterSourceDeliveryCount": "10",
    }
    return str(publisher.publish(topic, data, **attributes).result(timeout=30))


def _watch_topic(settings: Settings) -> str:
    subscriber = pubsub_v1.SubscriberClient()
    name: str = subscriber.subscription_path(settings.project_id, settings.topic("replay-watch"))
    topic = pubsub_v1.PublisherClient().topic_path(settings.project_id, settings.topic(VISIT_EVENTS))
    subscriber.create_subscription(name=name, topic=topic)
    return name


def _drain(subscription: str, expected: int) -> list[pubsub_v1.types.PubsubMessage]:
    subscriber = pubsub_v1.SubscriberClient()
    got: list[pubsub_v1.types.PubsubMessage] = []

    def pulled() -> bool:
        response = subscriber.pull(subscription=subscription, max_messages=50, timeout=5)
        if response.received_messages:
            got.extend(m.message for m in response.received_messages)
            subscriber.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages])
        return len(got) >= expected

    assert poll_until(pulled, bool, timeout_s=30), f"{len(got)} of {expected} messages on {subscription}"
    return got


def test_dead_letters_go_back_onto_their_topic_and_leave_the_hold(pubsub: Settings) -> None:
    watch = _watch_topic(pubsub)
    for n in range(3):
        _dead_letter(pubsub, f'{{"n": {n}}}'.encode(), "visit-events-notify")
    _dead_letter(pubsub, b'{"n": 9}', "visit-events-bigquery")

    # A dry run changes nothing.
    lines: list[str] = []
    dry = replay(pubsub.project_id, VISIT_EVENTS, prefix=pubsub.pubsub_prefix, dry_run=True, say=lines.append)
    assert len(dry.replayed) == 4 and all('"n"' not in line for line in lines)  # ids only, never the content

    done = replay(pubsub.project_id, VISIT_EVENTS, prefix=pubsub.pubsub_prefix,
                  from_subscription="visit-events-notify", say=lines.append)  # fmt: skip
    assert (len(done.replayed), len(done.skipped), done.failed) == (3, 1, [])
    replayed = _drain(watch, 3)
    assert sorted(m.data for m in replayed) == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    assert all(m.attributes["event_type"] == "visit.booked" and m.attributes[REPLAYED] == "1" for m in replayed)
    assert not any(k.startswith("CloudPubSubDeadLetter") for m in replayed for k in m.attributes)

    # The one of the other subscription is still in the hold; a run without the filter replays it.
    rest = replay(pubsub.project_id, VISIT_EVENTS, prefix=pubsub.pubsub_prefix, say=lines.append)
    assert len(rest.replayed) == 1
    assert [m.data for m in _drain(watch, 1)] == [b'{"n": 9}']
    assert replay(pubsub.project_id, VISIT_EVENTS, prefix=pubsub.pubsub_prefix, say=lines.append).replayed == []


def test_a_failed_publish_leaves_the_message_in_the_hold(pubsub: Settings) -> None:
    _dead_letter(pubsub, b'{"n": 1}', "visit-events-notify")
    publisher = pubsub_v1.PublisherClient()
    publisher.delete_topic(topic=publisher.topic_path(pubsub.project_id, pubsub.topic(VISIT_EVENTS)))  # the fault

    lines: list[str] = []
    failed = replay(pubsub.project_id, VISIT_EVENTS, prefix=pubsub.pubsub_prefix, say=lines.append,
                    publish_timeout_s=10)  # fmt: skip
    assert len(failed.failed) == 1 and failed.replayed == []
    assert any("stays in the hold" in line for line in lines)

    publisher.create_topic(name=publisher.topic_path(pubsub.project_id, pubsub.topic(VISIT_EVENTS)))
    again = replay(pubsub.project_id, VISIT_EVENTS, prefix=pubsub.pubsub_prefix, say=lines.append)
    assert again.replayed == failed.failed  # the same message, still there
    hold = hold_subscription(VISIT_EVENTS, pubsub.pubsub_prefix)
    assert hold.endswith("visit-events-dead-letter-hold")
