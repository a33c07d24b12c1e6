"""The slots one transaction reads and changes: a slot read twice is counted once, and only the
places taken and freed here are written back. Used by every change that moves a slot's counter
(bookings, moves, cancellations, vaccinations, no-shows)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.domain.booking import DoseWindow, Slot, earliest_free

SlotKey = tuple[str, datetime, str]


class SlotLedger:
    def __init__(
        self,
        read: Callable[[str, datetime, str], Slot | None],
        at_point: Callable[[str, datetime, datetime], list[Slot]],
        free_nearby: Callable[[str, str, datetime, datetime, int], list[Slot]],
        store: Callable[[list[Slot]], None],
    ) -> None:
        """``read`` a slot by key; ``at_point`` the slots of a point starting in [start, end];
        ``free_nearby`` slots with free places of a municipality and vaccine in [start, end], earliest
        first, at most a limit; ``store`` the booked counters of the slots changed."""
        self._read = read
        self._at_point = at_point
        self._free_nearby = free_nearby
        self._store = store
        self.slots: dict[SlotKey, Slot] = {}
        self.changed: set[SlotKey] = set()

    def get(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None:
        key = (point_id, starts_at, vaccine)
        if key not in self.slots:
            slot = self._read(point_id, starts_at, vaccine)
            if slot is None:
                return None
            self.slots[key] = slot
        return self.slots[key]

    def known(self, slot: Slot) -> Slot:
        """The transaction's view of a slot found by a range or index read."""
        return self.slots.setdefault(slot.key, slot)

    def take(self, slot: Slot) -> Slot:
        taken = self.known(slot).taken()
        self.slots[slot.key] = taken
        self.changed.add(slot.key)
        return taken

    def release(self, point_id: str, starts_at: datetime, vaccine: str) -> None:
        slot = self.get(point_id, starts_at, vaccine)
        if slot is not None:
            self.slots[slot.key] = slot.released()
            self.changed.add(slot.key)

    def save(self) -> None:
        self._store([self.slots[key] for key in sorted(self.changed)])

    def earliest_free_in(self, vaccine: str, window: DoseWindow, near: Slot) -> Slot | None:
        """Earliest free place of the vaccine in the window: at the same point, else elsewhere in its
        municipality (index reads there are confirmed by key, since the index may be a moment behind)."""
        at_point = [self.known(s) for s in self._at_point(near.point_id, window.earliest, window.latest)]
        choice = earliest_free(at_point, window, vaccine)
        if choice is not None:
            return choice
        for found in self._free_nearby(near.municipality, vaccine, window.earliest, window.latest, 20):
            candidate = self.get(found.point_id, found.starts_at, found.vaccine)
            if candidate is not None and candidate.free_places > 0 and window.contains(candidate.starts_at):
                return candidate
        return None

    def regions(self, home: Slot | None) -> dict[str, Slot]:
        """A slot carrying the TERYT codes of each point seen (range reads of an index carry none)."""
        found = {s.point_id: s for s in self.slots.values() if s.voivodeship}
        if home is not None:
            found.setdefault(home.point_id, home)
            for slot in self.slots.values():
                found.setdefault(slot.point_id, home)  # nearby points: the same municipality
        return found
