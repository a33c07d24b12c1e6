"""Next-dose candidates from the live projection (real Redis), confirmed by key in the Spanner
emulator's booking transaction (issue 10, item 4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.cloud.spanner_v1.keyset import KeySet

from emulators.seed import demo_programme
from shared.adapters.spanner_reads import SLOT_COLUMNS, SpannerFreeSlots, SpannerVisitReader
from shared.adapters.spanner_transaction import SpannerTransactions
from shared.bootstrap import Container, build_container
from shared.domain.availability import SlotState
from shared.domain.booking import Channel, next_dose_window
from shared.services.dose_candidates import NextDoseCandidates
from shared.services.transaction import Transaction
from shared.services.visits import BookingRequest, VisitService
from tests.integration.conftest import NOW, CapturedEvents, add_patient, add_point, at

T = TypeVar("T")


class RecordedTransactions(SpannerTransactions):
    """The Spanner adapter, noting which port reads each transaction attempt made."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.calls: list[str] = []

    def run_written(self, work: Callable[[Transaction], T]) -> tuple[T, list[SlotState]]:
        def recorded(tx: Transaction) -> T:
            outer = self

            class Recorder:
                def __getattr__(self, name: str) -> Any:
                    method = getattr(tx, name)

                    def call(*args: Any, **kwargs: Any) -> Any:
                        outer.calls.append(name)
                        return method(*args, **kwargs)

                    return call

            return work(Recorder())  # type: ignore[arg-type]

        return super().run_written(recorded)


def fill_behind_the_projections_back(container: Container, point: str, starts_at: datetime) -> None:
    """Another booking's effect on Spanner that the projection has not seen (its fast path lost)."""
    with container.spanner.batch() as batch:
        batch.update("Slots", ("PointId", "StartsAt", "Vaccine", "Booked", "FreeMarker"),
                     [(point, starts_at, "comirnaty", 1, None)])  # fmt: skip


def booked_counts(container: Container, point: str) -> dict[datetime, tuple[int, int]]:
    with container.spanner.snapshot() as snapshot:
        rows = list(snapshot.read("Slots", SLOT_COLUMNS, KeySet(all_=True)))
    return {row[1]: (row[4], row[3]) for row in rows if row[0] == point}


def test_dose_two_candidates_come_from_the_projection_and_are_confirmed_by_key(backends: Container) -> None:
    backends.firestore.publish_programme(demo_programme(NOW))
    here = add_point(
        backends,
        [(at(2, 9), "comirnaty", 3), (at(23, 9), "comirnaty", 1), (at(23, 10), "comirnaty", 1),
         (at(30, 9), "comirnaty", 1)],
    )  # fmt: skip
    container = build_container(backends.settings)
    assert container.availability is not None
    container.availability.rebuild()
    transactions = RecordedTransactions(container.spanner)
    service = VisitService(
        transactions, SpannerVisitReader(container.spanner), container.patients, container.points, CapturedEvents(),
        lambda: demo_programme(NOW), candidates=NextDoseCandidates(container.free_slot_reads, container.points),
    )  # fmt: skip
    request = BookingRequest(here, at(2, 9), "comirnaty", None)

    # The projection still shows 23 days 9:00 free: the transaction finds it full by key and takes the next.
    fill_behind_the_projections_back(container, here, at(23, 9))
    first = service.book(add_patient(container), request, Channel.WEB, datetime.now(UTC), "k1", "h1")

    assert [v.starts_at for v in first.visits] == [at(2, 9), at(23, 10)]
    assert "point_slots" not in transactions.calls and "free_slots" not in transactions.calls
    assert transactions.calls.count("slots_by_key") == 1 and "slot" not in transactions.calls

    # Every candidate it offers is gone now: the transaction falls back to its own range reads.
    fill_behind_the_projections_back(container, here, at(30, 9))
    add_point_slot = [(here, at(31, 9), "comirnaty", 1, 0, "14", "1465", "1465011", True)]
    with container.spanner.batch() as batch:
        batch.insert("Slots", ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked", "Voivodeship", "County",
                               "Municipality", "FreeMarker"), add_point_slot)  # fmt: skip
    transactions.calls.clear()
    second = service.book(add_patient(container), request, Channel.WEB, datetime.now(UTC), "k2", "h2")

    assert [v.starts_at for v in second.visits] == [at(2, 9), at(31, 9)]
    assert "point_slots" in transactions.calls
    counts = booked_counts(container, here)
    assert all(booked <= capacity for booked, capacity in counts.values())
    assert counts[at(23, 9)] == (1, 1) and counts[at(30, 9)] == (1, 1) and counts[at(2, 9)] == (2, 3)


def test_without_the_projection_candidates_come_from_a_snapshot_of_spanner(backends: Container) -> None:
    here = add_point(
        backends,
        [(at(23, 9), "comirnaty", 1), (at(23, 10), "comirnaty", 1), (at(23, 11), "jcovden", 1),
         (at(24, 9), "comirnaty", 1)],
    )  # fmt: skip
    fill_behind_the_projections_back(backends, here, at(23, 9))
    candidates = NextDoseCandidates(SpannerFreeSlots(backends.spanner, 0), backends.points, per_source=4)
    window = next_dose_window(demo_programme(NOW).vaccine("comirnaty"), 2, at(2, 9))  # type: ignore[arg-type]

    plan = candidates.plan(here, "comirnaty", window)

    assert plan is not None and plan.keys == ((here, at(23, 10), "comirnaty"), (here, at(24, 9), "comirnaty"))
