"""A point's schedule: blocks of slots that staff publish, and what a change of them may do.

Plain Python, no I/O. A schedule change sets slots' capacity (places); it never touches a slot's
booked counter, which only the booking transaction changes. It may not take a place that is
booked, nor change a slot that has already started.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.domain.booking import WARSAW, Slot, local_iso
from shared.domain.events import SCHEMA_VERSION, EventType, ScheduleChangedEvent
from shared.domain.points import Point
from shared.domain.refusals import RefusalKind, Refused

MAX_DAYS_AHEAD = 92
MAX_SLOTS_PER_CHANGE = 5_000


@dataclass(frozen=True)
class ScheduleBlock:
    """Slots of ``slot_minutes`` from ``start_minute`` to ``end_minute`` (local minutes of the day;
    1440 is midnight at the day's end), each with ``places`` places for ``vaccine``."""

    day: date
    start_minute: int
    end_minute: int
    slot_minutes: int
    places: int
    vaccine: str

    def starts(self) -> list[datetime]:
        """The UTC instants its slots start at; local times that do not exist (DST) are skipped."""
        midnight = datetime(self.day.year, self.day.month, self.day.day)
        found = []
        for minute in range(self.start_minute, self.end_minute - self.slot_minutes + 1, self.slot_minutes):
            naive = midnight + timedelta(minutes=minute)
            local = naive.replace(tzinfo=WARSAW)
            if local.astimezone(UTC).astimezone(WARSAW).replace(tzinfo=None) != naive:
                continue  # the hour the clocks skip in spring
            found.append(local.astimezone(UTC))
        return found


class SlotsHaveVisits(Refused):
    """A change would remove booked places; ``slots`` names each slot it concerns."""

    def __init__(self, slots: list[dict[str, Any]]) -> None:
        names = ", ".join(f"{s['starts_at']} {s['vaccine']} ({s['booked']} umówionych)" for s in slots[:10])
        super().__init__(
            RefusalKind.CONFLICT,
            "slot_has_visits",
            f"Te terminy mają umówione wizyty: {names}" + (" i inne" if len(slots) > 10 else ""),
        )
        self.slots = slots


@dataclass(frozen=True)
class ScheduleChange:
    """What a schedule change does, slot by slot (nothing is written while it is only planned)."""

    created: list[Slot] = field(default_factory=list)
    changed: list[Slot] = field(default_factory=list)  # with their new capacity
    removed: list[Slot] = field(default_factory=list)
    unchanged: int = 0
    past_kept: int = 0  # slots that had started already: left as they were

    @property
    def touched(self) -> list[Slot]:
        return [*self.created, *self.changed, *self.removed]


def validate_blocks(blocks: Sequence[ScheduleBlock], point: Point, known_vaccines: Iterable[str], today: date) -> None:
    known = set(known_vaccines)
    total = 0
    seen: set[tuple[datetime, str]] = set()
    for index, block in enumerate(blocks):
        where = f"blocks.{index}"
        if block.vaccine not in known:
            raise Refused(RefusalKind.INVALID, "unknown_vaccine", "Nieznana szczepionka", field=f"{where}.vaccine")
        if block.vaccine not in point.vaccines:
            raise Refused(
                RefusalKind.RULE,
                "vaccine_not_at_point",
                "Ten punkt nie podaje tej szczepionki",
                field=f"{where}.vaccine",
            )
        if block.end_minute - block.start_minute < block.slot_minutes:
            raise Refused(
                RefusalKind.INVALID,
                "invalid_block",
                "Blok musi kończyć się po początku i mieścić co najmniej jeden termin",
                field=f"{where}.to",
            )
        if block.day < today:
            raise Refused(RefusalKind.RULE, "day_in_past", "Nie można zmieniać minionych dni", field=f"{where}.day")
        if block.day > today + timedelta(days=MAX_DAYS_AHEAD):
            raise Refused(
                RefusalKind.RULE,
                "day_too_far_ahead",
                f"Harmonogram można publikować najwyżej {MAX_DAYS_AHEAD} dni naprzód",
                field=f"{where}.day",
            )
        for starts_at in block.starts():
            if (starts_at, block.vaccine) in seen:
                raise Refused(
                    RefusalKind.INVALID,
                    "overlapping_blocks",
                    f"Termin {local_iso(starts_at)} ({block.vaccine}) występuje w kilku blokach",
                    field=where,
                )
            seen.add((starts_at, block.vaccine))
        total += len(block.starts())
    if total > MAX_SLOTS_PER_CHANGE:
        raise Refused(
            RefusalKind.INVALID,
            "too_many_slots",
            f"Jedna zmiana może objąć najwyżej {MAX_SLOTS_PER_CHANGE} terminów",
            field="blocks",
        )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A local day as [start, end) in UTC."""
    start = datetime(day.year, day.month, day.day, tzinfo=WARSAW)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=WARSAW)
    return start.astimezone(UTC), end.astimezone(UTC)


def plan_schedule(
    point: Point, blocks: Sequence[ScheduleBlock], existing: Iterable[Slot], now: datetime
) -> ScheduleChange:
    """The change that makes the blocks' days hold exactly the blocks' slots.

    ``existing`` are the point's slots on those days. Slots that have started are kept as they are;
    a future slot may lose places down to its booked count, and go only when nothing is booked in
    it. Otherwise the whole change is refused (SlotsHaveVisits), naming every slot in the way.
    """
    wanted: dict[tuple[datetime, str], int] = {}
    for block in blocks:
        for starts_at in block.starts():
            wanted[(starts_at, block.vaccine)] = block.places
    current = {(s.starts_at, s.vaccine): s for s in existing}
    created, changed, removed, blocked = [], [], [], []
    unchanged = past_kept = 0
    for key, slot in sorted(current.items()):
        if slot.starts_at <= now:
            past_kept += 1
            continue
        places = wanted.get(key)
        if places is None:
            if slot.booked > 0:
                blocked.append(slot)
            else:
                removed.append(slot)
        elif places < slot.booked:
            blocked.append(slot)
        elif places != slot.capacity:
            changed.append(Slot(*slot.key, places, slot.booked, point.voivodeship, point.county, point.municipality))
        else:
            unchanged += 1
    if blocked:
        raise SlotsHaveVisits(
            [
                {"starts_at": local_iso(s.starts_at), "vaccine": s.vaccine, "booked": s.booked, "places": s.capacity}
                for s in blocked
            ]
        )
    for (starts_at, vaccine), places in sorted(wanted.items()):
        if (starts_at, vaccine) in current:
            continue
        if starts_at <= now:
            past_kept += 1  # a slot of the past is not created either
            continue
        created.append(Slot(point.point_id, starts_at, vaccine, places, 0, point.voivodeship, point.county,
                            point.municipality))  # fmt: skip
    return ScheduleChange(created, changed, removed, unchanged, past_kept)


def schedule_changed_events(point: Point, change: ScheduleChange, now: datetime, actor: str) -> list[dict[str, Any]]:
    """One ScheduleChanged event per slot created, changed or removed (capacity 0 once removed)."""
    kinds = [("created", s) for s in change.created] + [("changed", s) for s in change.changed]
    kinds += [("removed", s) for s in change.removed]
    return [
        ScheduleChangedEvent(
            event_id=str(uuid.uuid4()),
            event_type=EventType.SCHEDULE_CHANGED,  # type: ignore[arg-type]
            schema_version=SCHEMA_VERSION,
            occurred_at=now,
            change=kind,  # type: ignore[arg-type]
            point_id=point.point_id,
            voivodeship=point.voivodeship,
            county=point.county,
            municipality=point.municipality,
            starts_at=slot.starts_at,
            vaccine=slot.vaccine,
            capacity=0 if kind == "removed" else slot.capacity,
            booked=slot.booked,
            actor=actor,
        ).model_dump(mode="json")
        for kind, slot in kinds
    ]


def slot_json(slot: Slot) -> dict[str, Any]:
    return {
        "starts_at": local_iso(slot.starts_at),
        "vaccine": slot.vaccine,
        "places": slot.capacity,
        "booked": slot.booked,
        "free_places": slot.free_places,
    }
