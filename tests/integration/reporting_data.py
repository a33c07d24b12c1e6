"""A fixed set of reporting rows, with duplicate and out-of-order deliveries, and what every view and
report must make of it (worked out by hand; see each expectation's comment).

Days are in Warsaw (UTC+1 in March): 2026-03-09 23:30Z is 00:30 on the 10th.
"""

from __future__ import annotations

from typing import Any

P1, P2 = "point-1", "point-2"  # P1 in voivodeship 14 (county 1465), P2 in 12 (county 1261)
REGION = {P1: ("14", "1465"), P2: ("12", "1261")}


def _visit_row(
    event_id: str, event_type: str, occurred_at: str, visit_id: str, patient: str, point: str, vaccine: str,
    dose: int, channel: str, starts_at: str, age_band: str, status: str, inserted_at: str,
) -> dict[str, Any]:  # fmt: skip
    voivodeship, county = REGION[point]
    return {
        "event_id": event_id, "event_type": event_type, "schema_version": 1, "occurred_at": occurred_at,
        "visit_id": visit_id, "patient_ref": patient, "point_id": point, "voivodeship": voivodeship,
        "county": county, "municipality": county + "011", "vaccine": vaccine, "dose": dose, "channel": channel,
        "starts_at": starts_at, "age_band": age_band, "status": status,
        "lot": "LOT-1" if status == "COMPLETED" else None, "inserted_at": inserted_at,
    }  # fmt: skip


C, V = "comirnaty", "vaxzevria"
# (event id, type, occurred, visit, patient, point, vaccine, dose, channel, visit starts, age band, status, inserted)
VISIT_EVENTS = [
    # v1: booked on the 9th (delivered twice), vaccinated on the 10th.
    ("e01", "VisitBooked", "2026-03-09T09:00:00Z", "v1", "p1", P1, C, 1, "WEB", "2026-03-10T10:00:00Z", "60-69", "BOOKED", "2026-03-09T09:00:01Z"),
    ("e01", "VisitBooked", "2026-03-09T09:00:00Z", "v1", "p1", P1, C, 1, "WEB", "2026-03-10T10:00:00Z", "60-69", "BOOKED", "2026-03-09T09:05:00Z"),
    ("e02", "VisitCompleted", "2026-03-10T10:05:00Z", "v1", "p1", P1, C, 1, "POINT", "2026-03-10T10:00:00Z", "60-69", "COMPLETED", "2026-03-10T10:05:01Z"),
    # v2: booked by the call centre, cancelled; the cancellation arrived before the booking.
    ("e03", "VisitBooked", "2026-03-10T07:30:00Z", "v2", "p2", P1, C, 1, "CALL_CENTRE", "2026-03-12T10:00:00Z", "60-69", "BOOKED", "2026-03-10T09:00:05Z"),
    ("e04", "VisitCancelled", "2026-03-10T09:00:00Z", "v2", "p2", P1, C, 1, "CALL_CENTRE", "2026-03-12T10:00:00Z", "60-69", "CANCELLED", "2026-03-10T09:00:01Z"),
    # v3: booked, moved to the 11th (move delivered twice), no-show late on the 11th, delivered before the move.
    ("e05", "VisitBooked", "2026-03-10T08:00:00Z", "v3", "p3", P2, V, 1, "WEB", "2026-03-10T12:00:00Z", "30-39", "BOOKED", "2026-03-10T08:00:01Z"),
    ("e06", "VisitMoved", "2026-03-10T09:00:00Z", "v3", "p3", P2, V, 1, "WEB", "2026-03-11T12:00:00Z", "30-39", "BOOKED", "2026-03-11T23:00:00Z"),
    ("e06", "VisitMoved", "2026-03-10T09:00:00Z", "v3", "p3", P2, V, 1, "WEB", "2026-03-11T12:00:00Z", "30-39", "BOOKED", "2026-03-11T23:00:02Z"),
    ("e07", "VisitNoShow", "2026-03-11T22:00:00Z", "v3", "p3", P2, V, 1, "WEB", "2026-03-11T12:00:00Z", "30-39", "NO_SHOW", "2026-03-11T22:00:01Z"),
    # v4: p1's second dose, booked at the point when the first was given.
    ("e08", "VisitBooked", "2026-03-10T10:06:00Z", "v4", "p1", P1, C, 2, "POINT", "2026-03-31T10:00:00Z", "60-69", "BOOKED", "2026-03-10T10:06:01Z"),
    # v5: booked 00:30 on the 10th in Warsaw (23:30Z on the 9th), vaccinated the same day (delivered three times).
    ("e09", "VisitBooked", "2026-03-09T23:30:00Z", "v5", "p4", P2, V, 1, "WEB", "2026-03-10T13:00:00Z", "30-39", "BOOKED", "2026-03-09T23:30:01Z"),
    ("e10", "VisitCompleted", "2026-03-10T13:10:00Z", "v5", "p4", P2, V, 1, "POINT", "2026-03-10T13:00:00Z", "30-39", "COMPLETED", "2026-03-10T13:10:01Z"),
    ("e10", "VisitCompleted", "2026-03-10T13:10:00Z", "v5", "p4", P2, V, 1, "POINT", "2026-03-10T13:00:00Z", "30-39", "COMPLETED", "2026-03-10T13:11:01Z"),
    ("e10", "VisitCompleted", "2026-03-10T13:10:00Z", "v5", "p4", P2, V, 1, "POINT", "2026-03-10T13:00:00Z", "30-39", "COMPLETED", "2026-03-10T13:12:01Z"),
    # v6: booked on the 10th, vaccinated on the 11th.
    ("e11", "VisitBooked", "2026-03-10T14:00:00Z", "v6", "p5", P2, V, 1, "WEB", "2026-03-11T09:00:00Z", "30-39", "BOOKED", "2026-03-10T14:00:01Z"),
    ("e12", "VisitCompleted", "2026-03-11T09:05:00Z", "v6", "p5", P2, V, 1, "POINT", "2026-03-11T09:00:00Z", "30-39", "COMPLETED", "2026-03-11T09:05:01Z"),
]  # fmt: skip


def visit_rows() -> list[dict[str, Any]]:
    return [_visit_row(*event) for event in VISIT_EVENTS]


# (event id, change, occurred, point, slot starts, vaccine, capacity, inserted)
SCHEDULE_EVENTS = [
    # P1 on the 10th: 10 places, then 5; the change arrived first.
    ("s01", "created", "2026-03-01T08:00:00Z", P1, "2026-03-10T10:00:00Z", C, 10, "2026-03-05T08:00:05Z"),
    ("s02", "changed", "2026-03-05T08:00:00Z", P1, "2026-03-10T10:00:00Z", C, 5, "2026-03-05T08:00:01Z"),
    ("s03", "created", "2026-03-01T08:00:00Z", P1, "2026-03-12T10:00:00Z", C, 4, "2026-03-01T08:00:01Z"),
    # P2's 12:00 slot on the 10th: created, then removed.
    ("s04", "created", "2026-03-01T08:00:00Z", P2, "2026-03-10T12:00:00Z", V, 2, "2026-03-01T08:00:01Z"),
    ("s05", "removed", "2026-03-10T08:30:00Z", P2, "2026-03-10T12:00:00Z", V, 0, "2026-03-10T08:30:01Z"),
    # P2's 13:00 slot on the 10th, delivered twice.
    ("s06", "created", "2026-03-01T08:00:00Z", P2, "2026-03-10T13:00:00Z", V, 3, "2026-03-01T08:00:01Z"),
    ("s06", "created", "2026-03-01T08:00:00Z", P2, "2026-03-10T13:00:00Z", V, 3, "2026-03-01T08:01:01Z"),
    ("s07", "created", "2026-03-01T08:00:00Z", P2, "2026-03-11T12:00:00Z", V, 2, "2026-03-01T08:00:01Z"),
    ("s08", "created", "2026-03-01T08:00:00Z", P1, "2026-03-31T10:00:00Z", C, 6, "2026-03-01T08:00:01Z"),
]  # fmt: skip


def schedule_rows() -> list[dict[str, Any]]:
    rows = []
    for event_id, change, occurred, point, starts, vaccine, capacity, inserted in SCHEDULE_EVENTS:
        voivodeship, county = REGION[point]
        rows.append({
            "event_id": event_id, "event_type": "ScheduleChanged", "schema_version": 1, "occurred_at": occurred,
            "change": change, "point_id": point, "voivodeship": voivodeship, "county": county,
            "municipality": county + "011", "starts_at": starts, "vaccine": vaccine, "capacity": capacity,
            "booked": 0, "inserted_at": inserted,
        })  # fmt: skip
    return rows


# (request id, occurred, status, segments, inserted)
SMS_EVENTS = [
    ("r1", "2026-03-10T08:00:00Z", "SENT", 2, "2026-03-10T08:00:01Z"),
    ("r1", "2026-03-10T08:00:00Z", "SENT", 2, "2026-03-10T08:00:02Z"),  # written twice
    ("r2", "2026-03-10T09:00:00Z", "FAILED", 1, "2026-03-10T09:00:01Z"),
    ("r3", "2026-03-10T09:30:00Z", "REJECTED", 1, "2026-03-10T09:30:01Z"),
    ("r4", "2026-03-09T12:00:00Z", "SENT", 1, "2026-03-09T12:00:01Z"),
    ("r5", "2026-03-10T23:30:00Z", "SENT", 3, "2026-03-10T23:30:01Z"),  # 00:30 on the 11th in Warsaw
]


def sms_rows() -> list[dict[str, Any]]:
    return [
        {"request_id": request_id, "occurred_at": occurred, "kind": "VisitBooked", "status": status,
         "encoding": "UCS-2", "segments": segments, "inserted_at": inserted}
        for request_id, occurred, status, segments, inserted in SMS_EVENTS
    ]  # fmt: skip
