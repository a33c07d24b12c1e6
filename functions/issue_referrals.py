"""`issue_referrals` (referral-chunks): the e-referrals of one patient key range of a bulk job."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.entrypoints.pubsub_push import message_json

log = logging.getLogger(__name__)


@functions_framework.cloud_event
def issue_referrals(event: CloudEvent) -> None:
    result = get_container().referral_issuer.handle_chunk(message_json(event), datetime.now(UTC))
    log.info("referral chunk %d: %d issued of %d in the cohort", result.index, result.issued, result.patients)
