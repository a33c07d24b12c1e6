"""Kept search answers: served only while the projection's version of their slots holds, within the
minute they were read in and before their first slot starts; nothing kept where search reads Spanner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.availability import SlotState
from shared.domain.booking import Slot
from shared.services.availability import ProjectedFreeSlots
from shared.services.search_answers import MAX_AGE, KeptAnswer, SearchAnswers, minute_of, search_scope
from tests.unit.fakes import FakeFreeSlots, FakeProjection

NOW = datetime(2026, 11, 25, 12, 30, 10, tzinfo=UTC)
WAW = ("14", "1465", "1465011")
KRK = ("12", "1261", "1261011")


def projected(ready: bool = True) -> tuple[ProjectedFreeSlots, FakeProjection]:
    projection = FakeProjection()
    projection.ready = ready
    return ProjectedFreeSlots(projection, FakeFreeSlots([]), clock=lambda: 0.0), projection


def state(point_id: str, region: tuple[str, str, str], booked: int, version: int) -> SlotState:
    return SlotState(Slot(point_id, NOW + timedelta(days=1), "comirnaty", 3, booked, *region), version)


def keep(
    answers: SearchAnswers, query: str, scope: str, body: bytes, first: datetime | None = None, minute: bool = True
) -> None:
    version = answers.version(scope)
    assert version is not None
    answers.keep(query, KeptAnswer(scope, version, NOW, first, minute, body))


def test_an_answer_is_served_until_a_slot_of_its_voivodeship_changes_and_not_after() -> None:
    reads, projection = projected()
    projection.apply([state("p1", WAW, 0, 1), state("p2", KRK, 0, 1)])
    answers = SearchAnswers(reads)
    keep(answers, "voivodeship=14", search_scope("14", None), b"before")

    assert answers.kept("voivodeship=14", NOW) == b"before"
    projection.apply([state("p2", KRK, 1, 2)])  # another voivodeship: the answer still holds
    assert answers.kept("voivodeship=14", NOW) == b"before"
    projection.apply([state("p1", WAW, 1, 2)])  # a booking in it: read again
    assert answers.kept("voivodeship=14", NOW) is None
    projection.apply([state("p1", WAW, 1, 2)])  # a redelivered change applies nothing and changes nothing
    keep(answers, "voivodeship=14", search_scope("14", None), b"after")
    assert answers.kept("voivodeship=14", NOW) == b"after"
    projection.remove([state("p1", WAW, 1, 2).slot.key])  # a slot removed
    assert answers.kept("voivodeship=14", NOW) is None


def test_a_point_search_follows_its_point_version() -> None:
    reads, projection = projected()
    projection.apply([state("p1", WAW, 0, 1), state("p3", WAW, 0, 1)])
    answers = SearchAnswers(reads)
    keep(answers, "point_id=p1", search_scope(None, "p1"), b"p1")
    projection.apply([state("p3", WAW, 1, 2)])
    assert answers.kept("point_id=p1", NOW) == b"p1"
    projection.apply([state("p1", WAW, 2, 2)])
    assert answers.kept("point_id=p1", NOW) is None


def test_an_answer_holds_before_its_first_slot_starts_and_in_its_minute_where_now_moves_it() -> None:
    reads, projection = projected()
    projection.apply([state("p1", WAW, 0, 1)])
    answers = SearchAnswers(reads)
    first = NOW.replace(second=40)
    keep(answers, "q", "voivodeship:14", b"x", first)
    assert answers.kept("q", NOW.replace(second=39, microsecond=999_999)) == b"x"
    assert answers.kept("q", first) is None  # its first slot is no longer shown from now on
    keep(answers, "q", "voivodeship:14", b"x")
    assert answers.kept("q", NOW.replace(second=59)) == b"x"
    assert answers.kept("q", minute_of(NOW) + timedelta(minutes=1)) is None  # the next minute
    assert answers.kept("q", NOW - timedelta(seconds=1)) is None  # a clock set back
    assert answers.kept("other", NOW) is None
    # A full page of a search from a given time: later minutes too, until its first slot starts, for
    # at most MAX_AGE (a point's name and address are not versioned).
    keep(answers, "full", "voivodeship:14", b"y", NOW + timedelta(minutes=3), minute=False)
    assert answers.kept("full", NOW + timedelta(minutes=2)) == b"y"
    assert answers.kept("full", NOW + timedelta(minutes=3)) is None
    keep(answers, "full", "voivodeship:14", b"y", NOW + timedelta(hours=1), minute=False)
    assert answers.kept("full", NOW + MAX_AGE - timedelta(seconds=1)) == b"y"
    assert answers.kept("full", NOW + MAX_AGE) is None


def test_nothing_is_kept_while_search_reads_spanner_or_the_projection_is_down() -> None:
    reads, projection = projected(ready=False)
    projection.apply([state("p1", WAW, 0, 1)])
    assert SearchAnswers(reads).version("voivodeship:14") is None  # not ready: Spanner
    reads, projection = projected()
    projection.apply([state("p1", WAW, 0, 1)])
    answers = SearchAnswers(reads)
    keep(answers, "q", "voivodeship:14", b"x")
    projection.down = True
    assert answers.kept("q", NOW) is None
    assert SearchAnswers(None).version("voivodeship:14") is None  # no projection at all


def test_a_clear_of_the_projection_changes_every_scope_s_version() -> None:
    reads, projection = projected()
    answers = SearchAnswers(reads)
    keep(answers, "never changed", "voivodeship:02", b"x")  # a scope never changed has a version too
    keep(answers, "changed", "voivodeship:14", b"y")
    assert answers.kept("never changed", NOW) == b"x"
    projection.clear()
    assert answers.kept("never changed", NOW) is None and answers.kept("changed", NOW) is None


def test_clear_forgets_every_answer() -> None:
    reads, projection = projected()
    projection.apply([state("p1", WAW, 0, 1)])
    answers = SearchAnswers(reads)
    keep(answers, "q", "voivodeship:14", b"x")
    answers.clear()
    assert answers.kept("q", NOW) is None
