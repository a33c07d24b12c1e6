"""What one Read API call costs on the Spanner emulator at a given scale (the search's building blocks).

    .venv/bin/python -m bench.spanner_reads [--points 6000] [--repeat 10]

Seeds two weeks of slots into a database of its own and times, one at a time: a free-slot index
range (LIMIT 21) per region level, a point's slot range and a slot by key.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from emulators.ports import Ports
from emulators.provision import provision
from emulators.seed import generate_points, seed
from emulators.stack import LocalStack
from shared.adapters.spanner_reads import read_free_slots, read_point_slots
from shared.adapters.spanner_transaction import SpannerTransaction
from shared.bootstrap import build_container
from shared.config import Settings, local_project_id
from shared.domain.availability import Level, SlotQuery


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    stack = LocalStack(Ports.from_env(), local_project_id())
    stack.start()
    os.environ.update(stack.env())
    name = f"reads{int(time.time()) % 100000}"
    settings = Settings(  # type: ignore[call-arg]
        deployment="local",
        spanner_database=name,
        firestore_database=name,
        pubsub_prefix=f"{name}-",
        bigquery_dataset=name,
    )
    container = build_container(settings)
    try:
        provision(settings, container.warehouse.client, push=False)
        summary = seed(container.spanner, container.firestore, points=args.points, days=14, second_dose_days=0,
                       patients=0)  # fmt: skip
        print(f"scale: {summary.points} points, {summary.slots} slots", flush=True)
        point = generate_points(args.points)[7]
        now, vaccine = datetime.now(UTC), point.vaccines[0]
        end = now + timedelta(days=14)

        def timed(label: str, read: Callable[[Any], object]) -> None:
            started = time.perf_counter()
            for _ in range(args.repeat):
                with container.spanner.snapshot() as snapshot:
                    read(snapshot)
            print(f"{label}: {(time.perf_counter() - started) / args.repeat * 1000:.1f} ms", flush=True)

        def index_range(level: str, region: str) -> Callable[[Any], object]:
            return lambda snapshot: read_free_slots(snapshot, SlotQuery(Level(level), region, vaccine, now, end, 21))

        for level, region in (("voivodeship", point.voivodeship), ("county", point.county),
                              ("municipality", point.municipality)):  # fmt: skip
            timed(f"free-slot index range, {level}, LIMIT 21", index_range(level, region))
        timed("a point's slots, 14 days", lambda s: read_point_slots(s, point.point_id, now, end))
        timed("one slot by key", lambda s: SpannerTransaction(s).slot(point.point_id, now, vaccine))
    finally:
        container.spanner.database.drop()
        stack.stop()


if __name__ == "__main__":
    main()
