"""SmsSender: each SMS request sent at most once, through the SMS log's claim states (no I/O)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.domain.messages import PoisonMessage
from shared.domain.sms import SmsRequest
from shared.services.sms import SmsSender, TransientSmsError
from tests.unit.fakes import FakeSmsLog, FakeSmsProvider, FakeWarehouse
from tests.unit.fakes_sms import FakeConversations
from tests.unit.messaging_data import NOW, PHONE


def request(request_id: str = "event-1", to: str = PHONE) -> dict[str, Any]:
    composed = SmsRequest.compose(request_id, to, "Zażółć gęślą jaźń", "VisitBooked", "visit-1", transliterate=True)
    return composed.model_dump(mode="json")


def test_a_new_request_is_sent_and_logged_as_sent() -> None:
    log, provider = FakeSmsLog(), FakeSmsProvider()
    assert SmsSender(provider, log).handle(request(), NOW) == "sent"
    assert provider.sent == [("event-1", PHONE, "Zazolc gesla jazn")]
    record = log.get("event-1")
    assert record is not None and record["status"] == "SENT" and record["provider_id"] == "provider-event-1"
    assert (record["kind"], record["visit_id"], record["encoding"], record["segments"]) == (
        "VisitBooked", "visit-1", "GSM-7", 1,
    )  # fmt: skip


def test_a_request_already_done_is_not_sent_again() -> None:
    log, provider = FakeSmsLog(), FakeSmsProvider()
    sender = SmsSender(provider, log)
    assert sender.handle(request(), NOW) == "sent"
    assert sender.handle(request(), NOW + timedelta(minutes=5)) == "duplicate"
    assert len(provider.sent) == 1


def test_a_request_another_delivery_is_sending_is_retried_later_until_the_lease_runs_out() -> None:
    log, provider = FakeSmsLog(), FakeSmsProvider()
    assert log.claim("event-1", {}, NOW) == "send"  # another delivery claimed it and is sending
    sender = SmsSender(provider, log)
    with pytest.raises(TransientSmsError):
        sender.handle(request(), NOW + timedelta(seconds=30))
    assert provider.sent == []
    # That delivery crashed: once its lease ran out, this one sends.
    assert sender.handle(request(), NOW + timedelta(seconds=61)) == "sent"
    record = log.get("event-1")
    assert record is not None and record["attempts"] == 2


def test_a_transient_provider_error_is_logged_as_retrying_and_raised_for_pubsub_to_retry() -> None:
    log, provider = FakeSmsLog(), FakeSmsProvider("transient")
    sender = SmsSender(provider, log)
    with pytest.raises(TransientSmsError):
        sender.handle(request(), NOW)
    record = log.get("event-1")
    assert record is not None and record["status"] == "RETRYING" and record["reason"] == "HTTP 503"
    assert sender.handle(request(), NOW + timedelta(seconds=10)) == "sent"  # the redelivery sends it
    assert len(provider.sent) == 1


def test_a_permanent_provider_error_is_final() -> None:
    log, provider = FakeSmsLog(), FakeSmsProvider("permanent")
    sender = SmsSender(provider, log)
    assert sender.handle(request(), NOW) == "failed"
    record = log.get("event-1")
    assert record is not None and record["status"] == "FAILED" and record["reason"] == "HTTP 400"
    assert sender.handle(request(), NOW) == "duplicate"
    assert provider.sent == []


def test_a_landline_is_rejected_without_sending_and_without_the_number_in_the_log() -> None:
    log, provider = FakeSmsLog(), FakeSmsProvider()
    assert SmsSender(provider, log).handle(request(to="+48221234567"), NOW) == "rejected"
    record = log.get("event-1")
    assert record is not None and record["status"] == "REJECTED" and "221234567" not in str(record)
    assert provider.sent == []


@pytest.mark.parametrize(
    "payload",
    [None, [], {"request_id": "x", "to": PHONE, "text": "t"}, {"request_id": 1, "to": PHONE, "text": "t", "kind": "k"}],
)
def test_a_message_that_is_no_sms_request_is_poison(payload: object) -> None:
    with pytest.raises(PoisonMessage):
        SmsSender(FakeSmsProvider(), FakeSmsLog()).handle(payload, NOW)


def test_each_outcome_writes_one_reporting_row_without_the_number_or_the_text() -> None:
    warehouse = FakeWarehouse()
    SmsSender(FakeSmsProvider(), FakeSmsLog(), warehouse).handle(request("event-1"), NOW)
    SmsSender(FakeSmsProvider("permanent"), FakeSmsLog(), warehouse).handle(request("event-2"), NOW)
    sender = SmsSender(FakeSmsProvider(), FakeSmsLog(), warehouse)
    sender.handle(request("event-3", to="+48221234567"), NOW)
    sender.handle(request("event-1"), NOW)  # sent by this sender's log for the first time
    assert sender.handle(request("event-1"), NOW) == "duplicate"  # nothing more
    rows = warehouse.rows["sms_events"]
    assert [(row_id, row["status"], row["segments"], row["encoding"]) for row_id, row in rows] == [
        ("event-1:SENT", "SENT", 1, "GSM-7"),
        ("event-2:FAILED", "FAILED", 1, "GSM-7"),
        ("event-3:REJECTED", "REJECTED", 1, "GSM-7"),
        ("event-1:SENT", "SENT", 1, "GSM-7"),
    ]
    assert all(set(row) == {"request_id", "occurred_at", "kind", "status", "encoding", "segments", "inserted_at"}
               for _, row in rows)  # fmt: skip
    assert PHONE not in str(rows) and "221234567" not in str(rows) and "Zazolc" not in str(rows)


def test_a_reporting_write_that_fails_does_not_fail_the_sms() -> None:
    class BrokenWarehouse(FakeWarehouse):
        def insert_rows(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("BigQuery down")

    log, provider = FakeSmsLog(), FakeSmsProvider()
    assert SmsSender(provider, log, BrokenWarehouse()).handle(request(), NOW) == "sent"
    record = log.get("event-1")
    assert record is not None and record["status"] == "SENT" and len(provider.sent) == 1


def test_a_number_that_answered_stop_gets_no_optional_message_but_every_routine_one() -> None:
    log, provider, opt_outs = FakeSmsLog(), FakeSmsProvider(), FakeConversations()
    opt_outs.opt_out(PHONE, NOW)
    sender = SmsSender(provider, log, opt_outs=opt_outs)
    notice = {**request("interest-adults-p1"), "kind": "CohortOpened"}
    assert sender.handle(notice, NOW) == "opted_out"
    assert sender.handle(request("event-2"), NOW) == "sent"
    assert [s[0] for s in provider.sent] == ["event-2"]
    record = log.get("interest-adults-p1")
    assert record is not None and record["status"] == "REJECTED"
