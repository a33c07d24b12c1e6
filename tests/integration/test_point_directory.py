"""The point directory's cache over the Spanner emulator: every point in one read at the first miss,
points added later by key, all of them again once the cache's age has passed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_points import SpannerPointDirectory
from shared.bootstrap import Container
from tests.integration.conftest import add_point


class CountedReads:
    """The database as the directory uses it, counting the snapshots it opens."""

    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database
        self.snapshots = 0

    def snapshot(self, **kwargs: Any) -> Any:
        self.snapshots += 1
        return self.database.snapshot(**kwargs)


def test_the_first_miss_reads_every_point_once_and_a_point_added_later_is_read_by_key(backends: Container) -> None:
    slot = [(datetime(2030, 1, 2, 9, tzinfo=UTC), "comirnaty", 5)]
    first, second, third = (add_point(backends, slot) for _ in range(3))
    reads = CountedReads(backends.spanner)
    now = [0.0]
    directory = SpannerPointDirectory(reads, ttl_s=300, clock=lambda: now[0])  # type: ignore[arg-type]

    assert set(directory.get_many([first])) == {first}
    assert reads.snapshots == 1  # all points in one read
    assert set(directory.get_many([second, third])) == {second, third} and reads.snapshots == 1

    later = add_point(backends, slot)
    assert set(directory.get_many([later, first])) == {later, first}
    assert reads.snapshots == 2  # the new point alone, by key
    assert directory.get_many(["no-such-point"]) == {} and reads.snapshots == 3
    assert directory.get_many(["no-such-point"]) == {} and reads.snapshots == 3  # its absence is kept too

    now[0] = 301.0  # the cache's age has passed: the next miss reads every point again
    assert directory.get_many([first, later])[later].name == "Punkt testowy"
    assert reads.snapshots == 4
