"""The message schemas in docs/events.md are the models' own, and the models are what flows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.domain.events import EVENT, VisitEvent, parse_event
from shared.domain.sms import SmsRequest
from tests.unit.messaging_data import NOW, events, patient, series
from tools import event_schemas


def test_docs_events_md_shows_the_current_schemas() -> None:
    current = event_schemas.DOC.read_text(encoding="utf-8")
    assert event_schemas.render(current) == current, "run `python -m tools.event_schemas --write`"
    assert event_schemas.main([]) == 0


def test_a_stale_document_is_caught() -> None:
    current = event_schemas.DOC.read_text(encoding="utf-8")
    stale = current.replace('"VisitCancelled"', '"VisitVanished"', 1)
    assert stale != current and event_schemas.render(stale) == current
    with pytest.raises(ValueError, match="no <!-- schema:visit-event -->"):
        event_schemas.render("# nothing here")


def test_what_the_producer_writes_is_what_the_consumers_parse_and_the_schema_describes() -> None:
    someone = patient()
    doses = series(someone.patient_id, NOW + timedelta(days=2))
    written = events("VisitBooked", doses, doses, next_dose_from=None)
    stored = [json.loads(json.dumps(e)) for e in written]  # the outbox keeps JSON text
    parsed = [parse_event(e) for e in stored]
    assert all(isinstance(e, VisitEvent) for e in parsed)
    assert [e.model_dump(mode="json") for e in parsed] == stored  # a lossless round trip
    schema = VisitEvent.model_json_schema()
    assert EVENT.json_schema()["$defs"]["VisitEvent"] == {k: v for k, v in schema.items() if k != "$defs"}
    assert set(schema["required"]) <= set(stored[0])
    assert set(stored[0]) == set(schema["properties"])
    assert stored[0]["occurred_at"] == NOW.isoformat() and stored[0]["starts_at"].endswith("+00:00")


def test_the_sms_request_schema_names_its_fields() -> None:
    schema = SmsRequest.model_json_schema()
    assert set(schema["required"]) == {"request_id", "to", "text", "kind"}
    assert set(schema["properties"]) == {"request_id", "to", "text", "kind", "visit_id", "encoding", "segments"}
