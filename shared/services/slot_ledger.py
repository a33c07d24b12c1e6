"""The slots one transaction reads and changes: a slot read twice is counted once, and only the
places taken and freed here are written back. Used by every change that moves a slot's counter
(bookings, moves, cancellations, vaccinations, no-shows, a cancelled day); ``changed`` are the keys
the change hands to search's projection after its commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import Channel, DoseWindow, Slot, Visit, earliest_free, new_visit, next_dose_window
from shared.domain.programme import Vaccine
from shared.services.transaction import SlotKey, SlotsInTransaction

NEARBY_READ = 20  # free slots read from the municipality's index when the point has none


class SlotLedger:
    def __init__(self, tx: SlotsInTransaction) -> None:
        self._tx = tx
        self.slots: dict[SlotKey, Slot] = {}
        self.changed: set[SlotKey] = set()
        self.candidates_gone = 0  # candidates chosen before the transaction that it found taken or changed

    def get(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None:
        key = (point_id, starts_at, vaccine)
        if key not in self.slots:
            slot = self._tx.slot(point_id, starts_at, vaccine)
            if slot is None:
                return None
            self.slots[key] = slot
        return self.slots[key]

    def confirm(self, keys: Sequence[SlotKey]) -> None:
        """Read these slots by key in one read, so that ``get`` and ``earliest_free_in`` use what the
        transaction itself read. Keys not found stay unknown."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self.slots]
        if wanted:
            for slot in self._tx.slots_by_key(wanted):
                self.slots.setdefault(slot.key, slot)

    def known(self, slot: Slot) -> Slot:
        """The transaction's view of a slot found by a range or index read."""
        return self.slots.setdefault(slot.key, slot)

    def at_point(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        """The transaction's view of a point's slots starting in [start, end)."""
        return [self.known(s) for s in self._tx.point_slots(point_id, start, end)]

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

    def release_visits(self, visits: Sequence[Visit]) -> None:
        for visit in visits:
            self.release(visit.point_id, visit.starts_at, visit.vaccine)

    def save(self) -> list[SlotKey]:
        """Write the changed counters; the keys changed, in order."""
        changed = sorted(self.changed)
        self._tx.save_booked([self.slots[key] for key in changed])
        return changed

    def earliest_free_in(
        self, vaccine: str, window: DoseWindow, near: Slot, candidates: Sequence[SlotKey] = ()
    ) -> Slot | None:
        """Earliest free place of the vaccine in the window: at the same point, else elsewhere in its
        municipality (index reads there are confirmed by key, since the index may be a moment behind).

        ``candidates``, chosen before the transaction from a possibly stale copy (the projection or a
        stale snapshot) in order of preference, are tried first, each confirmed by a key read of this
        transaction; only when every one is gone does this fall back to range reads here."""
        chosen = self._first_candidate(vaccine, window, candidates)
        if chosen is not None:
            return chosen
        choice = earliest_free(self.at_point(near.point_id, window.earliest, window.end), window, vaccine)
        if choice is not None:
            return choice
        nearby = SlotQuery(Level.MUNICIPALITY, near.municipality, vaccine, window.earliest, window.latest, NEARBY_READ)
        for found in self._tx.free_slots(nearby):
            candidate = self.get(found.point_id, found.starts_at, found.vaccine)
            if candidate is not None and candidate.free_places > 0 and window.contains(candidate.starts_at):
                return candidate
        return None

    def _first_candidate(self, vaccine: str, window: DoseWindow, candidates: Sequence[SlotKey]) -> Slot | None:
        if not candidates:
            return None
        self.confirm(candidates)
        for key in candidates:
            slot = self.slots.get(key)
            fits = slot is not None and slot.vaccine == vaccine and window.contains(slot.starts_at)
            if fits and slot is not None and slot.free_places > 0:
                return slot
            self.candidates_gone += 1
        return None

    def book_next_doses(
        self,
        vaccine: Vaccine,
        previous: Visit,
        near: Slot,
        channel: Channel,
        candidates: tuple[DoseWindow, Sequence[SlotKey]] | None = None,
    ) -> tuple[list[Visit], DoseWindow | None]:
        """The next-dose planner: each dose of the series after ``previous`` at the earliest free place
        in its window near ``near``; the visits booked, and the window of the first dose with no place
        (it is booked later), if any. ``candidates``: keys to try first for a window chosen before
        the transaction (used only when the window is that one)."""
        booked: list[Visit] = []
        for dose in range(previous.dose + 1, vaccine.doses + 1):
            window = next_dose_window(vaccine, dose, previous.starts_at)
            tried = candidates[1] if candidates is not None and candidates[0] == window else ()
            choice = self.earliest_free_in(vaccine.code, window, near, tried)
            if choice is None:
                return booked, window  # documented fallback: what is booked stands, this dose is booked later
            previous = new_visit(previous.patient_id, previous.series_id, dose, self.take(choice), channel)
            booked.append(previous)
        return booked, None

    def move_later_doses(
        self, vaccine: Vaccine, moved: Visit, later: Sequence[Visit], near: Slot
    ) -> tuple[list[Visit], bool]:
        """After ``moved``, each of the ``later`` doses (in dose order) that no longer fits its window,
        moved to the earliest free place in it near ``near``, up to the first that still fits; and
        whether one had no place (it stays where it was, and so do the doses after it)."""
        followed: list[Visit] = []
        for dose in later:
            previous = followed[-1] if followed else moved
            window = next_dose_window(vaccine, dose.dose, previous.starts_at)
            if window.contains(dose.starts_at):
                break  # this dose and the ones after it still fit
            choice = self.earliest_free_in(vaccine.code, window, near)
            if choice is None:
                return followed, True
            self.release_visits([dose])
            followed.append(dose.moved_to(self.take(choice)))
        return followed, False

    def regions(self, home: Slot | None) -> dict[str, Slot]:
        """A slot carrying the TERYT codes of each point seen (range reads of an index carry none)."""
        found = {s.point_id: s for s in self.slots.values() if s.voivodeship}
        if home is not None:
            found.setdefault(home.point_id, home)
            for slot in self.slots.values():
                found.setdefault(slot.point_id, home)  # nearby points: the same municipality
        return found
