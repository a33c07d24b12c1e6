"""Pub/Sub topics and push subscriptions: one declaration for the local bootstrap and infra/.

Every push subscription has a retry policy and a dead-letter topic. The push path ends in
``/projects/P/topics/T`` so that functions-framework fills in the CloudEvent's source.
"""

from __future__ import annotations

from dataclasses import dataclass

VISIT_EVENTS = "visit-events"
SMS_REQUESTS = "sms-requests"
OUTBOX_SWEEP_TICKS = "outbox-sweep-ticks"
REMINDER_TICKS = "reminder-ticks"
# Bulk e-referral jobs: one message per patient key range; and what they issued, for consumers.
REFERRAL_CHUNKS = "referral-chunks"
REFERRAL_EVENTS = "referral-events"
# The scheduler's minute tick: cohort openings (bulk referrals, "your cohort is open" SMS).
PROGRAMME_TICKS = "programme-ticks"

TOPICS = (VISIT_EVENTS, SMS_REQUESTS, OUTBOX_SWEEP_TICKS, REMINDER_TICKS, REFERRAL_CHUNKS, REFERRAL_EVENTS,
          PROGRAMME_TICKS)  # fmt: skip


def dead_letter_topic(topic: str) -> str:
    return f"{topic}-dead-letter"


@dataclass(frozen=True)
class PushSubscription:
    name: str
    topic: str
    function: str  # entry point in main.py that the push calls
    ack_deadline_s: int = 30
    min_backoff_s: int = 1
    max_backoff_s: int = 60
    max_delivery_attempts: int = 5

    def push_path(self, project_id: str, topic_name: str) -> str:
        return f"/_push/{self.function}/projects/{project_id}/topics/{topic_name}"


PUSH_SUBSCRIPTIONS: tuple[PushSubscription, ...] = (
    PushSubscription("visit-events-notify", VISIT_EVENTS, "notify"),
    PushSubscription("visit-events-bigquery", VISIT_EVENTS, "stream_events"),
    PushSubscription("sms-requests-send", SMS_REQUESTS, "send_sms", ack_deadline_s=60),
    PushSubscription("outbox-sweep-ticks-relay", OUTBOX_SWEEP_TICKS, "relay_outbox", ack_deadline_s=120),
    PushSubscription("reminder-ticks-send", REMINDER_TICKS, "send_reminders", ack_deadline_s=300),
    PushSubscription("referral-chunks-issue", REFERRAL_CHUNKS, "issue_referrals", ack_deadline_s=300),
    PushSubscription("programme-ticks-run", PROGRAMME_TICKS, "programme_tick", ack_deadline_s=120),
)
