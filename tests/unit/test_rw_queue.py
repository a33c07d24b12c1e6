"""Read-write transactions queue across processes when a lock file is configured."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from shared.adapters.spanner_db import SpannerDatabase


def _hold(lock_file: str, ready: multiprocessing.synchronize.Event, seconds: float) -> None:
    database = SpannerDatabase(database=None, max_rw_transactions=1, lock_file=lock_file)  # type: ignore[arg-type]
    with database._read_write_turn():
        ready.set()
        time.sleep(seconds)


def test_a_second_process_waits_for_the_first_ones_turn(tmp_path: Path) -> None:
    lock_file = str(tmp_path / "rw.lock")
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    holder = context.Process(target=_hold, args=(lock_file, ready, 0.6))
    holder.start()
    assert ready.wait(10)
    started = time.monotonic()
    with SpannerDatabase(database=None, max_rw_transactions=1, lock_file=lock_file)._read_write_turn():  # type: ignore[arg-type]
        waited = time.monotonic() - started
    holder.join(10)
    assert waited >= 0.4


def test_without_a_lock_file_only_the_process_cap_applies(tmp_path: Path) -> None:
    database = SpannerDatabase(database=None, max_rw_transactions=1)  # type: ignore[arg-type]
    started = time.monotonic()
    with database._read_write_turn():
        pass
    assert time.monotonic() - started < 0.1
