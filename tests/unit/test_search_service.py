"""Slot search through SlotSearch on fakes: order, filters, paging and its tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from emulators.seed import demo_programme
from shared.domain.booking import WARSAW, Slot
from shared.domain.points import Point
from shared.domain.refusals import RefusalKind, Refused
from shared.services.search import CachedFreeSlots, SearchFilters, SlotSearch
from tests.unit.fakes import FakeFreeSlots, FakePointDirectory

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
WAW = ("14", "1465", "1465011")
A, B = sorted(str(uuid.uuid4()) for _ in range(2))


def at(days: int, hour: int) -> datetime:
    day = NOW.astimezone(WARSAW).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)


def point(point_id: str) -> Point:
    return Point(point_id, f"Punkt {point_id[:4]}", *WAW, "Warszawa", "ul. Długa 1", "00-001", ["comirnaty"], True)


def search_over(slots: list[Slot]) -> tuple[SlotSearch, FakeFreeSlots]:
    reads = FakeFreeSlots(slots)
    programme = demo_programme(NOW)
    return SlotSearch(reads, FakePointDirectory([point(A), point(B)]), lambda: programme), reads


def filters(limit: int, vaccine: str | None = None, **region: str) -> SearchFilters:
    where = {"voivodeship": None, "county": None, "municipality": None, "point_id": None, **region}
    return SearchFilters(**where, vaccine=vaccine, start=NOW, end=NOW + timedelta(days=14), limit=limit)  # type: ignore[arg-type]


def slot(point_id: str, starts_at: datetime, vaccine: str = "comirnaty", booked: int = 0) -> Slot:
    return Slot(point_id, starts_at, vaccine, 2, booked, *WAW)


def every_page(search: SlotSearch, wanted: SearchFilters) -> list[list[tuple[datetime, str, str]]]:
    pages, token = [], None
    while True:
        page = search.search(wanted, token, NOW)
        pages.append([(s.starts_at, s.point_id, s.vaccine) for s, _ in page.slots])
        token = page.next_page_token
        if token is None:
            return pages


def test_pages_walk_every_free_slot_of_every_vaccine_earliest_first_without_repeats() -> None:
    laid = [
        slot(A, at(1, 9)), slot(B, at(1, 9)), slot(A, at(1, 9), "jcovden"), slot(B, at(1, 10), "spikevax"),
        slot(A, at(2, 9)), slot(B, at(2, 9), "jcovden"), slot(A, at(3, 9), booked=2), slot(B, at(4, 9)),
    ]  # fmt: skip
    search, _ = search_over(laid)

    pages = every_page(search, filters(limit=3, voivodeship="14"))

    free = sorted((s.starts_at, s.point_id, s.vaccine) for s in laid if s.free_places > 0)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [row for page in pages for row in page] == free


def test_a_vaccine_filter_and_a_point_filter_narrow_the_results() -> None:
    laid = [slot(A, at(1, 9)), slot(A, at(1, 9), "jcovden"), slot(B, at(1, 8)), slot(A, at(1, 7), booked=2)]
    search, _ = search_over(laid)
    only_jcovden = search.search(filters(10, vaccine="jcovden", county="1465"), None, NOW)
    at_a = search.search(filters(10, point_id=A), None, NOW)
    assert [(s.point_id, s.vaccine) for s, _ in only_jcovden.slots] == [(A, "jcovden")]
    assert [(s.starts_at, s.vaccine) for s, _ in at_a.slots] == [(at(1, 9), "comirnaty"), (at(1, 9), "jcovden")]
    assert {p.name for _, p in at_a.slots} == {f"Punkt {A[:4]}"}


def test_past_slots_are_never_offered() -> None:
    search, _ = search_over([slot(A, NOW - timedelta(hours=1)), slot(A, NOW + timedelta(hours=1))])
    page = search.search(filters(10, municipality="1465011"), None, NOW)
    assert [s.starts_at for s, _ in page.slots] == [NOW + timedelta(hours=1)]


def test_a_search_without_a_region_or_point_is_refused() -> None:
    search, _ = search_over([])
    with pytest.raises(Refused) as refusal:
        search.search(filters(10), None, NOW)
    assert (refusal.value.kind, refusal.value.field) == (RefusalKind.INVALID, "voivodeship")


@pytest.mark.parametrize("token", ["not base64 !", "bnVsbA", "WzEsMiwzXQ"])
def test_a_broken_page_token_is_refused_as_invalid(token: str) -> None:
    search, _ = search_over([slot(A, at(1, 9))])
    with pytest.raises(Refused) as refusal:
        search.search(filters(10, voivodeship="14"), token, NOW)
    assert (refusal.value.kind, refusal.value.field) == (RefusalKind.INVALID, "page_token")


def test_a_page_token_only_continues_the_search_it_came_from() -> None:
    search, _ = search_over([slot(A, at(1, 9)), slot(B, at(1, 10))])
    token = search.search(filters(1, voivodeship="14"), None, NOW).next_page_token
    assert token is not None
    with pytest.raises(Refused) as refusal:
        search.search(filters(1, voivodeship="12"), token, NOW)
    assert refusal.value.field == "page_token"


def test_repeated_searches_over_cached_reads_are_served_from_the_cache() -> None:
    reads = FakeFreeSlots([slot(A, at(1, 9))])
    programme = demo_programme(NOW)
    search = SlotSearch(CachedFreeSlots(reads, ttl_s=60), FakePointDirectory([point(A)]), lambda: programme)
    first = search.search(filters(10, vaccine="comirnaty", voivodeship="14"), None, NOW)
    reads_after_first = reads.reads
    again = search.search(filters(10, vaccine="comirnaty", voivodeship="14"), None, NOW + timedelta(seconds=20))
    assert again == first and reads.reads == reads_after_first == 1
    at_the_point = filters(10, vaccine="comirnaty", point_id=A)
    search.search(at_the_point, None, NOW)
    search.search(at_the_point, None, NOW)
    assert reads.reads == 2


def test_a_live_reader_is_read_by_every_search_so_a_change_shows_at_once() -> None:
    search, reads = search_over([slot(A, at(1, 9))])
    wanted = filters(10, vaccine="comirnaty", voivodeship="14")
    assert [s.free_places for s, _ in search.search(wanted, None, NOW).slots] == [slot(A, at(1, 9)).free_places]
    del reads.slots[slot(A, at(1, 9)).key]  # the slot filled up
    assert search.search(wanted, None, NOW).slots == []
    assert reads.reads == 2
