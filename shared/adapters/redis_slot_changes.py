"""Which voivodeships' and points' free slots changed, as this process hears it from Redis.

Every script of the projection that changes a slot publishes, in the same atomic script, a number
from a sequence and the scopes it changed (``17 voivodeship:14 point:{id}``) on ``av:changed``;
``clear`` publishes ``*``. Each process listens on one connection of its own and counts what it hears
per scope, so a search's kept answer is checked against the count it was read under without a round
trip (``shared/services/search_answers.py``).

Nothing listens in the background: each call drains what has arrived on the connection, without
waiting, before it answers. Redis writes a published message to every subscriber while it runs the
script, before it runs any later command, so the message of a change whose caller has been answered
is on its way to every process before that caller can pass the news on. The process that made a
change counts it at once from the script's answer (and knows its number, so its message is not
counted twice). An answer kept under one subscription never holds under the next: messages may have
been lost in between, so each confirmed (re)subscription starts a new generation. A connection that
died silently is noticed by a ping: while no answer to one has come for ``silent_after_s``, this
process cannot tell what changed, so it has no version (search reads Redis) until an answer comes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis

log = logging.getLogger(__name__)

CHANNEL = "av:changed"
EVERY_SCOPE = "*"  # what ``clear`` publishes: every scope changed


def _parse(published: str) -> tuple[int | None, list[str]]:
    """A message's number (None for a clear's) and its scopes."""
    words = published.split()
    if words and words[0].isdigit():
        return int(words[0]), words[1:]
    return None, words


class RedisSlotChanges:
    """The projection's change counts per scope, heard on a subscription (the projection's ``version``)."""

    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str = "",
        ping_every_s: float = 0.5,
        silent_after_s: float = 2.0,
        retry_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.channel = f"{key_prefix}{CHANNEL}"
        self.ping_every_s = ping_every_s
        self.silent_after_s = silent_after_s
        self.retry_after_s = retry_after_s
        self.clock = clock
        self._lock = threading.Lock()
        self._pubsub: Any = None
        self._generation = 0
        self._confirmed = False
        self._heard_at = float("-inf")  # every change published before then has been heard
        self._pinged_at: float | None = None  # a ping (or the subscription) not answered yet
        self._retry_at = float("-inf")
        self._every = 0
        self._counts: dict[str, int] = {}
        self._counted_here: set[int] = set()  # numbers of this process's changes whose message is due

    def version(self, scope: str) -> str | None:
        """How many changes of ``scope`` this subscription has heard (None while it cannot tell)."""
        with self._lock:
            now = self.clock()
            try:
                self._hear(now)
            except redis.RedisError as error:
                self._lose(error)
            if not self._confirmed or now - self._heard_at > self.silent_after_s:
                return None
            return f"{self._generation}.{self._every}.{self._counts.get(scope, 0)}"

    def heard(self, published: str) -> None:
        """A change this process made itself, as its script published it: counted now, before its
        message arrives, and not again when it does. Nothing to count while not subscribed (a process
        that only writes never is): the next subscription starts from zero anyway."""
        with self._lock:
            if not self._confirmed:
                return
            number, scopes = _parse(published)
            if number is not None:
                self._counted_here.add(number)
            self._count(scopes)

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _hear(self, now: float) -> None:
        if self._pubsub is None:
            if now < self._retry_at:
                return
            self._retry_at = now + self.retry_after_s
            self._pubsub = self.client.pubsub()
            self._pubsub.subscribe(self.channel)
            self._pinged_at = now  # the confirmation is awaited like a ping's answer
        while (message := self._pubsub.get_message(timeout=0)) is not None:
            self._take(message, now)
        if self._pinged_at is not None:
            if now - self._pinged_at > self.silent_after_s:
                raise redis.ConnectionError("no answer on the slot change subscription")
        elif now - self._heard_at >= self.ping_every_s:
            self._pubsub.ping()
            self._pinged_at = now

    def _take(self, message: dict[str, Any], now: float) -> None:
        kind = message["type"]
        if kind == "message":
            data = message["data"]
            number, scopes = _parse(data.decode() if isinstance(data, bytes) else str(data))
            if number is None or number not in self._counted_here:
                self._count(scopes)
            if number is not None:  # messages come in the order of their numbers: earlier ones are past
                self._counted_here = {n for n in self._counted_here if n > number}
        elif kind == "subscribe":  # also after a reconnect the client made by itself: changes were missed
            self._generation += 1
            self._confirmed = True
            self._every = 0
            self._counts.clear()
            self._counted_here.clear()
            self._pinged_at = None
            self._heard_at = now  # from now on every change is heard; earlier ones do not count
        elif kind == "pong" and self._confirmed and self._pinged_at is not None:
            # Redis answers in order: every change published before it read the ping has been heard.
            self._heard_at = self._pinged_at
            self._pinged_at = None

    def _count(self, scopes: Iterable[str]) -> None:
        for scope in scopes:
            if scope == EVERY_SCOPE:
                self._every += 1
            else:
                self._counts[scope] = self._counts.get(scope, 0) + 1

    def _lose(self, error: Exception) -> None:
        if self._confirmed:
            log.warning("slot change subscription lost; kept search answers are not served", exc_info=error)
        self._drop()

    def _drop(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self._confirmed = False
        self._pinged_at = None
        if pubsub is not None:
            with contextlib.suppress(redis.RedisError):
                pubsub.close()
