"""Free-slot search.

Searches read the NULL_FILTERED indexes that hold free slots only, with bounded staleness (no locks),
and a short-lived per-process cache absorbs repeated popular searches. The booking transaction stays
the only authority on free places: a slot shown here may be gone a second later.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cachetools import TTLCache

from shared.domain.booking import Slot
from shared.domain.points import Point
from shared.domain.programme import Programme
from shared.domain.refusals import RefusalKind, Refused
from shared.services.ports import PointDirectory

MAX_RANGE = timedelta(days=92)


def invalid_search(field: str, detail: str) -> Refused:
    return Refused(RefusalKind.INVALID, "invalid_field", detail, field=field)


class FreeSlotReader(Protocol):
    """Slot reads for search: no locks, possibly a few seconds old (the booking re-checks)."""

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]: ...

    def free_slots(
        self,
        level: str,
        region: str,
        vaccine: str,
        start: datetime,
        end: datetime,
        limit: int,
        after: tuple[datetime, str] | None = None,
        inclusive_after: bool = False,
    ) -> list[Slot]:
        """Slots with free places of one vaccine in a region, earliest first, after (time, point) if given."""
        ...


@dataclass(frozen=True)
class SearchFilters:
    voivodeship: str | None
    county: str | None
    municipality: str | None
    point_id: str | None
    vaccine: str | None
    start: datetime
    end: datetime
    limit: int

    def fingerprint(self) -> str:
        # Not the date range: "from now" moves between pages, and a page continues after its last slot.
        what = (self.voivodeship, self.county, self.municipality, self.point_id, self.vaccine)
        return hashlib.sha256(repr(what).encode()).hexdigest()[:12]


def encode_page_token(filters: SearchFilters, last: Slot) -> str:
    raw = json.dumps([filters.fingerprint(), last.starts_at.isoformat(), last.point_id, last.vaccine])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(filters: SearchFilters, token: str) -> tuple[datetime, str, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(raw, list) and len(raw) == 4 and all(isinstance(part, str) for part in raw)):
            raise ValueError("not a page token")
        fingerprint, starts_at, point_id, vaccine = raw
        after = datetime.fromisoformat(starts_at)
    except (ValueError, TypeError, RecursionError):
        raise invalid_search("page_token", "Nieprawidłowy znacznik strony") from None
    # A token this service made holds a slot's time: never a date at the calendar's edges.
    if fingerprint != filters.fingerprint() or after.tzinfo is None or not 2000 < after.year < 2199:
        raise invalid_search("page_token", "Znacznik strony nie pasuje do tego wyszukiwania")
    return after, str(point_id), str(vaccine)


@dataclass(frozen=True)
class SearchPage:
    slots: list[tuple[Slot, Point]]
    next_page_token: str | None


class SlotSearch:
    def __init__(
        self,
        slots: FreeSlotReader,
        points: PointDirectory,
        programme: Callable[[], Programme | None],
        cache_ttl_s: float = 3.0,
    ) -> None:
        self.slots = slots
        self.points = points
        self.programme = programme
        self._cache: TTLCache[tuple[Any, ...], SearchPage] = TTLCache(maxsize=50_000, ttl=cache_ttl_s)
        # Index range reads by (region, vaccine, time range), shared by the searches with and without
        # a vaccine filter: a search of all vaccines is the merge of the per-vaccine ranges.
        self._ranges: TTLCache[tuple[Any, ...], list[Slot]] = TTLCache(maxsize=50_000, ttl=cache_ttl_s)
        self._lock = threading.Lock()

    def search(self, filters: SearchFilters, page_token: str | None, now: datetime) -> SearchPage:
        # Cached by the filters rounded to the minute, so "from now" searches share an entry.
        key = (filters.voivodeship, filters.county, filters.municipality, filters.point_id, filters.vaccine,
               filters.start.replace(second=0, microsecond=0), filters.end, filters.limit, page_token)  # fmt: skip
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        page = self._search(filters, page_token, now)
        with self._lock:
            self._cache[key] = page
        return page

    def _search(self, filters: SearchFilters, page_token: str | None, now: datetime) -> SearchPage:
        programme = self.programme()
        vaccines = (
            [filters.vaccine] if filters.vaccine else sorted(v.code for v in programme.vaccines) if programme else []
        )
        after = decode_page_token(filters, page_token) if page_token else None
        # Whole minutes, so that searches "from now" share range reads; past slots are dropped below.
        start = max(filters.start, now).replace(second=0, microsecond=0)
        wanted = filters.limit + 1
        candidates: Iterable[Slot]
        if filters.point_id:
            candidates = self._point(filters.point_id, vaccines, start, filters.end)
        else:
            level, region = self._level(filters)
            candidates = heapq.merge(
                *(self._region(level, region, vaccine, start, filters.end, wanted, after) for vaccine in vaccines),
                key=_order,
            )
        found: list[Slot] = []
        for slot in candidates:
            if after is not None and _order(slot) <= (after[0], after[1], after[2]):
                continue
            if slot.free_places <= 0 or slot.starts_at <= now:
                continue
            found.append(slot)
            if len(found) == wanted:
                break
        page, more = found[: filters.limit], len(found) > filters.limit
        points = self.points.get_many(s.point_id for s in page)
        return SearchPage(
            [(s, points[s.point_id]) for s in page if s.point_id in points],
            encode_page_token(filters, page[-1]) if more and page else None,
        )

    def _point(self, point_id: str, vaccines: list[str], start: datetime, end: datetime) -> list[Slot]:
        slots = self.slots.point_slots(point_id, start, end)
        return sorted((s for s in slots if s.vaccine in vaccines), key=_order)

    def _region(
        self,
        level: str,
        region: str,
        vaccine: str,
        start: datetime,
        end: datetime,
        limit: int,
        after: tuple[datetime, str, str] | None,
    ) -> list[Slot]:
        resume = None
        inclusive = False
        if after is not None and after[0] >= start:
            resume = (after[0], after[1])
            inclusive = vaccine > after[2]  # the same (time, point) comes after the last one for later vaccines
        key = (level, region, vaccine, start, end.replace(second=0, microsecond=0), limit, resume, inclusive)
        with self._lock:
            cached = self._ranges.get(key)
        if cached is not None:
            return cached
        slots = self.slots.free_slots(level, region, vaccine, start, end, limit, resume, inclusive)
        with self._lock:
            self._ranges[key] = slots
        return slots

    @staticmethod
    def _level(filters: SearchFilters) -> tuple[str, str]:
        if filters.municipality:
            return "municipality", filters.municipality
        if filters.county:
            return "county", filters.county
        if filters.voivodeship:
            return "voivodeship", filters.voivodeship
        raise invalid_search("voivodeship", "Podaj województwo, powiat, gminę albo punkt szczepień")


def _order(slot: Slot) -> tuple[datetime, str, str]:
    return (slot.starts_at, slot.point_id, slot.vaccine)
