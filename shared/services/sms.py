"""sms-requests -> the SMS provider, each request id at most once.

The SMS log is the idempotency record: a delivery claims the request id (with a lease, so a crashed
delivery does not block it for ever) and marks the outcome; a redelivered request that was handled
sends nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from shared.domain.contact import InvalidPhone, polish_mobile
from shared.domain.sms import SmsRequest
from shared.services.reporting_feed import SMS_EVENTS_TABLE, Warehouse, sms_event_row

log = logging.getLogger(__name__)


class TransientSmsError(Exception):
    """Worth trying again later (the provider is down, slow or busy; another delivery holds the lease)."""


class PermanentSmsError(Exception):
    """The provider refused the message for good."""


class SmsProvider(Protocol):
    """The operator's API. Raises TransientSmsError or PermanentSmsError when it does not send."""

    def send(self, message_id: str, to: str, text: str) -> str:
        """Send; returns the provider's message id. ``message_id`` lets a provider drop a resend."""
        ...


class SmsLog(Protocol):
    """One record per SMS request: its idempotency claim and its delivery status.

    States: SENDING (claimed, with a lease), RETRYING, SENT, DELIVERED, FAILED, REJECTED; the last
    four are final.
    """

    def claim(self, request_id: str, details: dict[str, Any], now: datetime, lease_s: float = 60) -> str:
        """'send' if this delivery should send now, 'done' if it was handled, 'busy' if another is at it
        (a SENDING claim whose lease has not run out)."""
        ...

    def mark(self, request_id: str, status: str, now: datetime, **fields: Any) -> None:
        """Set the status (and other fields) of the request's record, creating it if need be."""
        ...


class OptOuts(Protocol):
    def opted_out(self, phone: str) -> bool:
        """Whether the number answered STOP: it gets no optional messages."""
        ...


# Messages a patient may refuse (STOP); confirmations, changes and reminders always go.
OPTIONAL_KINDS = frozenset({"CohortOpened"})


class SmsSender:
    """sms-requests -> the provider, each request id at most once."""

    def __init__(
        self,
        provider: SmsProvider,
        sms_log: SmsLog,
        warehouse: Warehouse | None = None,
        opt_outs: OptOuts | None = None,
    ) -> None:
        self.opt_outs = opt_outs
        self.provider = provider
        self.sms_log = sms_log
        self.warehouse = warehouse

    def _report(self, request: SmsRequest, status: str, now: datetime) -> None:
        """One ``sms_events`` row per outcome (the cost figures). Best effort: the outcome is already
        recorded in the SMS log, and a redelivery would find it handled and write nothing, so a failed
        write is logged rather than retried."""
        if self.warehouse is None:
            return
        row = sms_event_row(request.request_id, request.kind, status, request.encoding, request.segments, now)
        try:
            self.warehouse.insert_rows(SMS_EVENTS_TABLE, [row], row_ids=[f"{request.request_id}:{status}"])
        except Exception:  # any backend failure: the SMS itself was handled
            log.warning("SMS outcome not written to the reporting dataset", exc_info=True,
                        extra={"fields": {"request_id": request.request_id, "status": status}})  # fmt: skip

    def handle(self, payload: Any, now: datetime) -> str:
        """'sent', 'duplicate', 'rejected' or 'failed'; raises TransientSmsError for Pub/Sub to retry."""
        request = SmsRequest.parse(payload)
        request_id, details = request.request_id, request.details
        fields = {"request_id": request_id, **details}
        try:
            to = polish_mobile(request.to)
        except InvalidPhone:
            # Landline callers are reached by the call centre instead.
            self.sms_log.mark(request_id, "REJECTED", now, reason="not a Polish mobile", **details)
            self._report(request, "REJECTED", now)
            log.warning("SMS refused: not a Polish mobile number", extra={"fields": fields})
            return "rejected"
        if request.kind in OPTIONAL_KINDS and self.opt_outs is not None and self.opt_outs.opted_out(to):
            self.sms_log.mark(request_id, "REJECTED", now, reason="opted out", **details)
            log.info("SMS not sent: the number answered STOP", extra={"fields": fields})
            return "opted_out"
        claim = self.sms_log.claim(request_id, details, now)
        if claim == "done":
            log.info("SMS already handled", extra={"fields": fields})
            return "duplicate"
        if claim == "busy":
            raise TransientSmsError("another delivery is sending this request")
        try:
            provider_id = self.provider.send(request_id, to, request.text)
        except PermanentSmsError as error:
            self.sms_log.mark(request_id, "FAILED", now, reason=str(error))
            self._report(request, "FAILED", now)
            log.error("SMS refused by the provider", extra={"fields": {**fields, "reason": str(error)}})
            return "failed"
        except TransientSmsError as error:
            self.sms_log.mark(request_id, "RETRYING", now, reason=str(error))
            log.warning("SMS provider unavailable; Pub/Sub will retry", extra={"fields": fields})
            raise
        self.sms_log.mark(request_id, "SENT", now, provider_id=provider_id, sent_at=now)
        self._report(request, "SENT", now)
        log.info("SMS sent", extra={"fields": fields})
        return "sent"
