"""bench.peak's visibility sampler (issue 25): which slots it samples and what it counts as seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import requests

from bench.booking import VOIVODESHIPS
from bench.peak import FreeRead, Visibility, later_slots, quantile_line
from emulators.seed import generate_points, slot_days, slot_rows
from shared.domain.booking import Slot, local_iso
from shared.domain.local_time import WARSAW

NOW = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)  # late evening in Warsaw: the day turns during the run


def seeded_read(points: int) -> FreeRead:
    """Free Comirnaty slots of the demo seed (as ``read_free_slots`` over the voivodeship index)."""
    first_day = NOW.astimezone(WARSAW).date() + timedelta(days=1)
    rows = [
        row
        for point in generate_points(points)
        for row in slot_rows(point, slot_days(first_day, 14, 7), 6)
        if row[2] == "comirnaty"
    ]
    by_region: dict[str, list[Slot]] = {}
    for row in rows:
        point_id, starts_at, vaccine, capacity, booked, voivodeship = cast(
            tuple[str, datetime, str, int, int, str], row[:6]
        )
        by_region.setdefault(voivodeship, []).append(Slot(point_id, starts_at, vaccine, capacity, booked))
    for slots in by_region.values():
        slots.sort(key=lambda s: (s.starts_at, s.point_id))

    def read(voivodeship: str, start: datetime, end: datetime, limit: int) -> list[Slot]:
        return [s for s in by_region.get(voivodeship, []) if start <= s.starts_at <= end][:limit]

    return read


def load_slots(read: FreeRead) -> list[list[str]]:
    """What the peak's clients book and move to (``bench.booking.free_first_dose_slots``)."""
    start = NOW + timedelta(hours=1)
    return [
        [s.point_id, local_iso(s.starts_at), s.vaccine]
        for v in VOIVODESHIPS
        for s in read(v, start, start + timedelta(days=14), 400)
    ]


def test_the_sampler_never_takes_a_slot_the_load_books_or_moves_to_at_300_points() -> None:
    read = seeded_read(300)
    load = load_slots(read)
    aimed_at = {tuple(slot) for slot in load}
    # At 300 points the earliest 400 slots of a voivodeship reach 5 to 12 days ahead: the old rule,
    # "3 to 7 days on", sampled slots the load was booking too, so its "one place fewer" was wrong.
    old_rule = [s for v in VOIVODESHIPS for s in read(v, NOW + timedelta(days=3), NOW + timedelta(days=7), 100)]
    assert sum((s.point_id, local_iso(s.starts_at), s.vaccine) in aimed_at for s in old_rule) > len(old_rule) / 2

    sampled = later_slots(read, 300, load, NOW, NOW + timedelta(days=14))
    assert len(sampled) >= 100
    assert not [s for s in sampled if (s[0], s[1], s[2]) in aimed_at]
    assert all(datetime.fromisoformat(s[1]) >= NOW + timedelta(days=3) for s in sampled)


class Shown(Visibility):
    """A sampler whose search always shows ``shown`` free places of the slot (None: not listed)."""

    def __init__(self, shown: int | None, truth: int) -> None:
        super().__init__("http://unused", [], [], lambda point_id, starts_at, vaccine: truth)
        self.shown = shown

    def free_places(self, session: Any, query: str, point_id: str, starts_at: str) -> int | None:
        return self.shown


SLOT = ("p1", "2026-12-10T09:00:00+01:00", "comirnaty")


def test_a_slot_the_booking_filled_is_seen_as_absent_from_search() -> None:
    sampler = Shown(None, truth=0)
    assert sampler.lag(requests.Session(), "q", SLOT, expected=0, timeout_s=0.05) is not None
    assert sampler.unseen == 0


def test_a_sample_not_seen_in_time_says_whether_search_was_behind_spanner() -> None:
    late = Shown(5, truth=4)  # Spanner has the booking, search does not yet: the projection is late
    assert late.lag(requests.Session(), "q", SLOT, expected=4, timeout_s=0.05) is None
    assert (late.unseen, late.behind) == (1, 1)
    changed = Shown(3, truth=3)  # search equals Spanner: someone else took a place too
    assert changed.lag(requests.Session(), "q", SLOT, expected=4, timeout_s=0.05) is None
    assert (changed.unseen, changed.behind) == (1, 0)


def test_a_few_samples_give_quantiles_within_what_was_seen() -> None:
    line = quantile_line("lag", [0.2, 0.25, 0.3, 0.4, 5.0, 5.8])
    p95 = int(line.split("p95 ")[1].split(" ms")[0])
    assert p95 <= 5800  # the default (exclusive) method extrapolated past the maximum
    assert line.endswith("max 5800 ms")
