"""The slots one transaction reads and changes: a slot read twice is counted once, and only the
places taken and freed here are written back. Used by every change that moves a slot's counter
(bookings, moves, cancellations, vaccinations, no-shows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import DoseWindow, Slot, earliest_free

SlotKey = tuple[str, datetime, str]


class SlotLedger:
    def __init__(
        self,
        read: Callable[[str, datetime, str], Slot | None],
        at_point: Callable[[str, datetime, datetime], list[Slot]],
        free: Callable[[SlotQuery], list[Slot]],
        store: Callable[[list[Slot]], None],
        read_many: Callable[[Sequence[SlotKey]], list[Slot]] | None = None,
    ) -> None:
        """``read`` a slot by key; ``at_point`` the slots of a point starting in [start, end];
        ``free`` slots with free places of a query (here: a municipality and vaccine in
        [start, end]); ``store`` the booked counters of the slots changed; ``read_many``
        several slots by key in one read (those that exist)."""
        self._read = read
        self._read_many = read_many
        self._at_point = at_point
        self._free = free
        self._store = store
        self.slots: dict[SlotKey, Slot] = {}
        self.changed: set[SlotKey] = set()
        self.candidates_gone = 0  # candidates chosen before the transaction that it found taken or changed

    def get(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None:
        key = (point_id, starts_at, vaccine)
        if key not in self.slots:
            slot = self._read(point_id, starts_at, vaccine)
            if slot is None:
                return None
            self.slots[key] = slot
        return self.slots[key]

    def confirm(self, keys: Sequence[SlotKey]) -> None:
        """Read these slots by key (one read where the backend allows), so that ``get`` and
        ``earliest_free_in`` use what the transaction itself read. Keys not found stay unknown."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self.slots]
        if not wanted:
            return
        if self._read_many is None:
            for key in wanted:
                self.get(*key)
            return
        for slot in self._read_many(wanted):
            self.slots.setdefault(slot.key, slot)

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

    def earliest_free_in(
        self, vaccine: str, window: DoseWindow, near: Slot, candidates: Sequence[SlotKey] = ()
    ) -> Slot | None:
        """Earliest free place of the vaccine in the window: at the same point, else elsewhere in its
        municipality (index reads there are confirmed by key, since the index may be a moment behind).

        ``candidates``, chosen before the transaction from a possibly stale copy (the projection or a
        stale snapshot) in order of preference, are tried first, each confirmed by a key read of this
        transaction; only when every one is gone does this fall back to range reads here."""
        if candidates:
            self.confirm(candidates)
            for key in candidates:
                slot = self.slots.get(key)
                fits = slot is not None and slot.vaccine == vaccine and window.contains(slot.starts_at)
                if slot is not None and fits and slot.free_places > 0:
                    return slot
                self.candidates_gone += 1
        at_point = [self.known(s) for s in self._at_point(near.point_id, window.earliest, window.latest)]
        choice = earliest_free(at_point, window, vaccine)
        if choice is not None:
            return choice
        nearby = SlotQuery(Level.MUNICIPALITY, near.municipality, vaccine, window.earliest, window.latest, 20)
        for found in self._free(nearby):
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
