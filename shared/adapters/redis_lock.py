"""A lock held across instances through Redis, or within the process while Redis is unreachable."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis


class SharedLock:
    def __init__(self, client: redis.Redis | None, key: str, timeout_s: float = 600, wait_s: float = 300) -> None:
        self.client = client
        self.key = key
        self.timeout_s = timeout_s
        self.wait_s = wait_s
        self._process = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._process:  # one holder per process first: the others wait here, not on Redis
            lock = None
            if self.client is not None:
                try:
                    lock = self.client.lock(self.key, timeout=self.timeout_s, blocking_timeout=self.wait_s)
                    if not lock.acquire():
                        lock = None
                except redis.RedisError:
                    lock = None  # Redis down: this process alone (close_days skips days already closed)
            try:
                yield
            finally:
                if lock is not None:
                    with contextlib.suppress(redis.RedisError):  # or it expires by itself
                        lock.release()
