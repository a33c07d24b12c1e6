"""Free-slot search and the directory of vaccination points.

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
from typing import Any

from cachetools import TTLCache
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_booking import BookingStore
from shared.adapters.spanner_db import SpannerDatabase
from shared.domain.booking import Slot
from shared.domain.points import Point
from shared.domain.programme import Programme

POINT_COLUMNS = ("PointId", "Name", "Voivodeship", "County", "Municipality", "City", "Street", "PostalCode",
                 "Vaccines", "Active")  # fmt: skip
MAX_RANGE = timedelta(days=92)


class InvalidSearch(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


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
        raise InvalidSearch("page_token", "Nieprawidłowy znacznik strony") from None
    # A token this service made holds a slot's time: never a date at the calendar's edges.
    if fingerprint != filters.fingerprint() or after.tzinfo is None or not 2000 < after.year < 2199:
        raise InvalidSearch("page_token", "Znacznik strony nie pasuje do tego wyszukiwania")
    return after, str(point_id), str(vaccine)


class PointDirectory:
    """Points by id, cached per process: they change rarely and every search result names one."""

    def __init__(self, database: SpannerDatabase, ttl_s: float = 300) -> None:
        self.database = database
        self._cache: TTLCache[str, Point | None] = TTLCache(maxsize=20_000, ttl=ttl_s)
        self._lock = threading.Lock()

    def get_many(self, point_ids: Iterable[str]) -> dict[str, Point]:
        wanted = set(point_ids)
        with self._lock:
            missing = [p for p in wanted if p not in self._cache]
        if missing:
            with self.database.snapshot() as snapshot:
                rows = list(snapshot.read("Points", POINT_COLUMNS, KeySet(keys=[[p] for p in missing])))
            found = {row[0]: Point(*row) for row in rows}
            with self._lock:
                for point_id in missing:
                    self._cache[point_id] = found.get(point_id)
        with self._lock:
            return {p: point for p in wanted if (point := self._cache.get(p)) is not None}

    def in_region(self, voivodeship: str, county: str | None, municipality: str | None) -> list[Point]:
        prefix = [voivodeship] + ([county] if county else []) + ([municipality] if municipality else [])
        keys = KeySet(ranges=[KeyRange(start_closed=prefix, end_closed=prefix)])
        columns = ("Voivodeship", "County", "Municipality", "PointId", "Name", "City", "Street", "PostalCode",
                   "Vaccines", "Active")  # fmt: skip
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("Points", columns, keys, index="PointsByMunicipality"))
        points = [Point(r[3], r[4], r[0], r[1], r[2], r[5], r[6], r[7], list(r[8]), r[9]) for r in rows]
        return sorted((p for p in points if p.active), key=lambda p: (p.municipality, p.name))


@dataclass(frozen=True)
class SearchPage:
    slots: list[tuple[Slot, Point]]
    next_page_token: str | None


class SlotSearch:
    def __init__(
        self,
        database: SpannerDatabase,
        store: BookingStore,
        points: PointDirectory,
        programme: Callable[[], Programme | None],
        staleness_s: float,
        cache_ttl_s: float = 3.0,
    ) -> None:
        self.database = database
        self.store = store
        self.points = points
        self.programme = programme
        self.staleness = timedelta(seconds=staleness_s)
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

    def _snapshot(self) -> Any:
        if self.staleness.total_seconds() > 0:
            return self.database.snapshot(exact_staleness=self.staleness)
        return self.database.snapshot()

    def _point(self, point_id: str, vaccines: list[str], start: datetime, end: datetime) -> list[Slot]:
        with self._snapshot() as snapshot:
            slots = self.store.point_slots(snapshot, point_id, start, end)
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
        with self._snapshot() as snapshot:
            slots = self.store.free_slots(snapshot, level, region, vaccine, start, end, limit, resume, inclusive)
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
        raise InvalidSearch("voivodeship", "Podaj województwo, powiat, gminę albo punkt szczepień")


def _order(slot: Slot) -> tuple[datetime, str, str]:
    return (slot.starts_at, slot.point_id, slot.vaccine)
