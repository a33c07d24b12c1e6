"""The hand-off between a committed change and Pub/Sub: the request never waits on a hung Pub/Sub.

Each commit's events go to a small pool of publisher threads. The request waits for them a short
while (so in the usual case they are out before the answer, while the instance has its CPU), then
answers whatever Pub/Sub does; the thread finishes on its own, or fails, and the outbox sweep
publishes whatever the fast path could not. With too much already waiting, events are left to the
sweep at once rather than piling up in memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from shared.services.ports import EventPublisher

log = logging.getLogger(__name__)


class PostCommitHandOff:
    """An ``EventPublisher`` that bounds how long the caller waits for the one it wraps."""

    def __init__(
        self, publisher: EventPublisher, wait_s: float = 0.25, max_pending: int = 2_000, threads: int = 4
    ) -> None:
        self.publisher = publisher
        self.wait_s = wait_s
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="post-commit")
        self._pending = 0
        self._lock = threading.Lock()

    def publish(self, events: Sequence[dict[str, Any]]) -> int:
        """Hand the events off; never raises and never waits longer than ``wait_s``.

        Returns how many were published within the wait (the rest are still on their way, or
        will be swept)."""
        if not events:
            return 0
        with self._lock:
            if self._pending >= self.max_pending:
                log.warning("post-commit publishing is backed up; %d event(s) left to the sweep", len(events))
                return 0
            self._pending += 1
        try:
            future = self._pool.submit(self._publish, list(events))
        except RuntimeError:  # the pool is shutting down with the process
            self._done()
            return 0
        try:
            published: int = future.result(timeout=self.wait_s)
        except FutureTimeout:
            log.warning("Pub/Sub is slow: answering without waiting for %d event(s)", len(events))
            return 0
        return published

    def _publish(self, events: list[dict[str, Any]]) -> int:
        try:
            return self.publisher.publish(events)
        except Exception:  # the wrapped publisher should not raise; the sweep covers it if it does
            log.warning("post-commit publish failed; the sweep will publish", exc_info=True)
            return 0
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
