"""Pub/Sub topics and push subscriptions, as declared once in ``infra/topology.yaml``.

The same file is what Terraform reads (``infra/pubsub.tf``), so the local bootstrap and the cloud
cannot drift apart. Every push subscription has a retry policy and a dead-letter topic. The push
path ends in ``/projects/P/topics/T`` so that functions-framework fills in the CloudEvent's source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TOPOLOGY_FILE = Path(__file__).resolve().parent.parent / "infra" / "topology.yaml"

# Topics the code publishes to by name; load() checks that the file declares each.
VISIT_EVENTS = "visit-events"
SMS_REQUESTS = "sms-requests"
OUTBOX_SWEEP_TICKS = "outbox-sweep-ticks"
REMINDER_TICKS = "reminder-ticks"
AVAILABILITY_TICKS = "availability-ticks"
NO_SHOW_TICKS = "no-show-ticks"
# Bulk e-referral jobs: one message per patient key range; and what they issued, for consumers.
REFERRAL_CHUNKS = "referral-chunks"
REFERRAL_EVENTS = "referral-events"
# The scheduler's minute tick: cohort openings (bulk referrals, "your cohort is open" SMS).
PROGRAMME_TICKS = "programme-ticks"
# Incoming SMS from the operator, one message each, for the SMS dialogue.
SMS_INBOUND = "sms-inbound"


@dataclass(frozen=True)
class PushSubscription:
    name: str
    topic: str
    function: str  # entry point in main.py that the push calls
    ack_deadline_s: int
    min_backoff_s: int
    max_backoff_s: int
    max_delivery_attempts: int
    dead_letter_topic: str

    def push_path(self, project_id: str, topic_name: str) -> str:
        return f"/_push/{self.function}/projects/{project_id}/topics/{topic_name}"


@dataclass(frozen=True)
class Schedule:
    name: str
    topic: str
    cron: str
    time_zone: str


@dataclass(frozen=True)
class Topology:
    topics: tuple[str, ...]
    dead_letter_suffix: str
    dead_letter_retention_s: int
    subscriptions: tuple[PushSubscription, ...]
    schedules: tuple[Schedule, ...]

    def dead_letter_topic(self, topic: str) -> str:
        return f"{topic}{self.dead_letter_suffix}"


def parse(document: dict[str, Any]) -> Topology:
    """The topology a parsed ``topology.yaml`` declares (tests feed modified copies)."""
    suffix = str(document["dead_letter"]["suffix"])
    defaults = dict(document.get("subscription_defaults") or {})
    subscriptions = tuple(
        PushSubscription(
            name=s["name"],
            topic=s["topic"],
            function=s["function"],
            ack_deadline_s=int(s.get("ack_deadline_s", defaults.get("ack_deadline_s", 0))),
            min_backoff_s=int(s.get("min_backoff_s", defaults.get("min_backoff_s", 0))),
            max_backoff_s=int(s.get("max_backoff_s", defaults.get("max_backoff_s", 0))),
            max_delivery_attempts=int(s.get("max_delivery_attempts", defaults.get("max_delivery_attempts", 0))),
            dead_letter_topic=f"{s['topic']}{suffix}",
        )
        for s in document.get("subscriptions") or ()
    )
    schedules = tuple(
        Schedule(s["name"], s["topic"], s["cron"], s.get("time_zone", "Etc/UTC"))
        for s in document.get("schedules") or ()
    )
    return Topology(
        topics=tuple(document["topics"]),
        dead_letter_suffix=suffix,
        dead_letter_retention_s=int(document["dead_letter"]["hold_retention_s"]),
        subscriptions=subscriptions,
        schedules=schedules,
    )


def load(path: Path = TOPOLOGY_FILE) -> Topology:
    topology = parse(yaml.safe_load(path.read_text()))
    published = {VISIT_EVENTS, SMS_REQUESTS, OUTBOX_SWEEP_TICKS, REMINDER_TICKS, AVAILABILITY_TICKS, NO_SHOW_TICKS,
                 REFERRAL_CHUNKS, REFERRAL_EVENTS, PROGRAMME_TICKS, SMS_INBOUND}  # fmt: skip
    missing = published - set(topology.topics)
    if missing:
        raise ValueError(f"{path} does not declare the topics the code publishes to: {sorted(missing)}")
    return topology


TOPOLOGY = load()
TOPICS = TOPOLOGY.topics
PUSH_SUBSCRIPTIONS = TOPOLOGY.subscriptions


def dead_letter_topic(topic: str) -> str:
    return TOPOLOGY.dead_letter_topic(topic)
