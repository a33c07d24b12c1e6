"""In-memory fakes of the ports, for unit tests without emulators.

Each fake behaves as its adapter does (tests/integration/test_contracts_messaging.py runs the same
cases against both), so a service tested on fakes is tested on the real thing's contract.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.domain.booking import Visit
from shared.domain.patients import PatientRecord
from shared.domain.points import Point
from shared.services.sms import PermanentSmsError, TransientSmsError

# --- messaging: points, readers, bus, outbox, SMS log, SMS provider, warehouse ---------------------


class FakePointDirectory:
    """PointDirectory."""

    def __init__(self, points: Iterable[Point] = ()) -> None:
        self.points = {p.point_id: p for p in points}

    def add(self, points: Iterable[Point]) -> None:
        self.points.update((p.point_id, p) for p in points)

    def get_many(self, point_ids: Iterable[str]) -> dict[str, Point]:
        return {p: self.points[p] for p in set(point_ids) if p in self.points}

    def in_region(self, voivodeship: str, county: str | None, municipality: str | None) -> list[Point]:
        found = [
            p
            for p in self.points.values()
            if p.active
            and p.voivodeship == voivodeship
            and county in (None, p.county)
            and municipality in (None, p.municipality)
        ]
        return sorted(found, key=lambda p: (p.municipality, p.name))


class FakeVisitReader:
    """VisitReader over a dict of visits (``save`` writes them, as a booking would)."""

    def __init__(self, visits: Iterable[Visit] = ()) -> None:
        self.visits: dict[str, Visit] = {}
        self.save(visits)

    def save(self, visits: Iterable[Visit]) -> None:
        self.visits.update((v.visit_id, v) for v in visits)

    def visits_of_patient(self, patient_id: str) -> list[Visit]:
        found = [v for v in self.visits.values() if v.patient_id == patient_id]
        return sorted(found, key=lambda v: (v.starts_at, v.dose))

    def visits_at_point(self, point_id: str, start: datetime, end: datetime) -> list[Visit]:
        found = [v for v in self.visits.values() if v.point_id == point_id and start <= v.starts_at < end]
        return sorted(found, key=lambda v: (v.starts_at, v.visit_id))

    def booked_on_day(self, day: date, after_visit_id: str | None, limit: int) -> list[Visit]:
        on_day = sorted((v for v in self.visits.values() if v.booked_day == day), key=lambda v: v.visit_id)
        return [v for v in on_day if after_visit_id is None or v.visit_id > after_visit_id][:limit]


class FakePatientReader:
    """PatientReader."""

    def __init__(self, patients: Iterable[PatientRecord] = ()) -> None:
        self.records: dict[str, PatientRecord] = {}
        self.save(patients)

    def save(self, patients: Iterable[PatientRecord]) -> None:
        self.records.update((p.patient_id, p) for p in patients)

    def patient(self, patient_id: str) -> PatientRecord | None:
        return self.records.get(patient_id)

    def patients(self, patient_ids: Iterable[str]) -> dict[str, PatientRecord]:
        return {p: self.records[p] for p in set(patient_ids) if p in self.records}


class FakeBus:
    """MessagePublisher that keeps what it took; ``takes`` limits how many more it accepts (None: all)."""

    def __init__(self, takes: int | None = None) -> None:
        self.takes = takes
        self.messages: list[tuple[str, bytes, dict[str, str]]] = []
        self.attempts = 0

    def _take(self) -> bool:
        self.attempts += 1
        if self.takes is None:
            return True
        if self.takes <= 0:
            return False
        self.takes -= 1
        return True

    def publish(self, topic: str, data: bytes, timeout_s: float = 10.0, **attributes: str) -> str:
        if not self._take():
            raise TimeoutError("the bus did not take the message")
        self.messages.append((topic, data, dict(attributes)))
        return str(len(self.messages))

    def publish_many(
        self, topic: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout_s: float = 10.0
    ) -> list[bool]:
        taken = []
        for data, attributes in messages:
            ok = self._take()
            if ok:
                self.messages.append((topic, data, dict(attributes)))
            taken.append(ok)
        return taken

    def json(self, topic: str) -> list[Any]:
        """The JSON bodies published to a topic, in order."""
        return [json.loads(data) for t, data, _ in self.messages if t == topic]


class FakeOutbox:
    """OutboxStore; ``add`` stamps events with the clock, as a commit timestamp would."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[datetime, dict[str, Any], bool]] = {}  # id -> (created, event, pending)
        self.marks: list[list[str]] = []  # each mark_published call, for tests of batching
        self._last = datetime.min.replace(tzinfo=UTC)  # commit timestamps only grow

    def add(self, events: Iterable[dict[str, Any]], created_at: datetime | None = None) -> None:
        stamp = created_at or max(datetime.now(UTC), self._last + timedelta(microseconds=1))
        self._last = max(self._last, stamp)
        for event in events:
            created = stamp
            self.rows[event["event_id"]] = (created, json.loads(json.dumps(event, default=str)), True)

    def pending(self, created_before: datetime, limit: int) -> list[dict[str, Any]]:
        found = sorted(
            (created, event_id, event)
            for event_id, (created, event, pending) in self.rows.items()
            if pending and created < created_before
        )
        return [event for _, _, event in found[:limit]]

    def mark_published(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            self.marks.append(list(event_ids))
        for event_id in event_ids:
            if event_id in self.rows:
                created, event, _ = self.rows[event_id]
                self.rows[event_id] = (created, event, False)


FINAL_SMS_STATES = frozenset({"SENT", "DELIVERED", "FAILED", "REJECTED"})


class FakeSmsLog:
    """SmsLog, with the Firestore adapter's states and lease."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def claim(self, request_id: str, details: dict[str, Any], now: datetime, lease_s: float = 60) -> str:
        current = self.records.get(request_id)
        if current and current.get("status") in FINAL_SMS_STATES:
            return "done"
        if current and current.get("status") == "SENDING" and current["lease_until"] > now:
            return "busy"
        fields = {
            **details,
            "status": "SENDING",
            "attempts": int(current.get("attempts", 0)) + 1 if current else 1,
            "lease_until": now + timedelta(seconds=lease_s),
            "updated_at": now,
        }
        if current is None:
            fields["created_at"] = now
        self.records[request_id] = {**(current or {}), **fields}
        return "send"

    def mark(self, request_id: str, status: str, now: datetime, **fields: Any) -> None:
        self.records[request_id] = {**self.records.get(request_id, {}), "status": status, "updated_at": now, **fields}

    def get(self, request_id: str) -> dict[str, Any] | None:
        record = self.records.get(request_id)
        return dict(record) if record is not None else None


class FakeSmsProvider:
    """SmsProvider answering from a script: each call takes the next outcome ('ok', 'transient',
    'permanent'); 'ok' once the script is used up."""

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, str, str]] = []

    def send(self, message_id: str, to: str, text: str) -> str:
        outcome = self.script.pop(0) if self.script else "ok"
        if outcome == "transient":
            raise TransientSmsError("HTTP 503")
        if outcome == "permanent":
            raise PermanentSmsError("HTTP 400")
        self.sent.append((message_id, to, text))
        return f"provider-{message_id}"


class FakeWarehouse:
    """Warehouse keeping rows per table, with their insert ids."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]], row_ids: Sequence[str]) -> None:
        self.rows.setdefault(table, []).extend((i, dict(r)) for i, r in zip(row_ids, rows, strict=True))


# --- end of messaging fakes ------------------------------------------------------------------------
