"""What a process hears of the projection's changes, on a scripted subscription and a hand-moved clock:
counted once whoever made them, nothing told before the subscription is confirmed or while it is
silent, a new generation after it comes back. (On a real redis-server: tests/integration/test_availability.py.)"""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
import redis

from shared.adapters.redis_slot_changes import RedisSlotChanges


class Server:
    """A Redis that delivers what is published to every subscriber, or stops answering."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self.down = False  # refuses connections
        self.silent = False  # a half-open connection: takes commands, delivers nothing
        self.subscriptions = 0

    def publish(self, data: str) -> None:
        for listener in self.listeners:
            listener.deliver({"type": "message", "channel": b"av:changed", "data": data.encode()})

    def pubsub(self) -> Listener:
        return Listener(self)


class Listener:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.inbox: deque[dict[str, Any]] = deque()
        self.confirming: dict[str, Any] | None = None  # a round trip away: read by the drain after next

    def deliver(self, message: dict[str, Any]) -> None:
        if not self.server.silent:
            self.inbox.append(message)

    def subscribe(self, channel: str) -> None:
        if self.server.down:
            raise redis.ConnectionError("refused")
        self.server.subscriptions += 1
        self.server.listeners.append(self)
        self.confirming = {"type": "subscribe", "channel": channel.encode(), "data": 1}

    def get_message(self, timeout: float = 0) -> dict[str, Any] | None:
        if self.inbox:
            return self.inbox.popleft()
        if self.confirming is not None:
            self.deliver(self.confirming)
            self.confirming = None
        return None

    def ping(self) -> None:
        self.deliver({"type": "pong", "channel": None, "data": b""})

    def close(self) -> None:
        if self in self.server.listeners:
            self.server.listeners.remove(self)


@pytest.fixture
def clock() -> list[float]:
    return [100.0]


def changes_on(server: Server, clock: list[float]) -> RedisSlotChanges:
    return RedisSlotChanges(server, ping_every_s=0.5, silent_after_s=2.0, retry_after_s=5.0, clock=lambda: clock[0])  # type: ignore[arg-type]


def subscribed(server: Server, clock: list[float]) -> RedisSlotChanges:
    """Listening, its subscription confirmed (the first ask subscribes; the answer comes a moment later)."""
    changes = changes_on(server, clock)
    assert changes.version("voivodeship:14") is None
    return changes


def test_nothing_is_told_before_the_subscription_is_confirmed_then_each_change_moves_its_scopes_only(
    clock: list[float],
) -> None:
    server = Server()
    changes = subscribed(server, clock)  # changes before the subscription are not heard: None until then
    warsaw, krakow = changes.version("voivodeship:14"), changes.version("voivodeship:12")
    assert warsaw is not None and krakow is not None
    server.publish("1 voivodeship:14 point:a")
    assert changes.version("voivodeship:14") not in (None, warsaw)
    assert changes.version("voivodeship:12") == krakow
    before = changes.version("voivodeship:12")
    server.publish("*")  # a clear: every scope
    assert changes.version("voivodeship:12") != before


def test_a_change_made_here_is_counted_at_once_and_not_again_when_its_message_arrives(clock: list[float]) -> None:
    server = Server()
    changes = subscribed(server, clock)
    start = changes.version("point:a")
    changes.heard("7 voivodeship:14 point:a")  # our script's answer, before its message is read
    mine = changes.version("point:a")
    assert mine != start
    server.publish("7 voivodeship:14 point:a")  # its message
    assert changes.version("point:a") == mine
    server.publish("8 voivodeship:14 point:a")  # somebody else's, after it
    assert changes.version("point:a") != mine


def test_a_silent_connection_tells_nothing_and_is_replaced_under_a_new_generation(clock: list[float]) -> None:
    server = Server()
    changes = subscribed(server, clock)
    live = changes.version("voivodeship:14")
    assert live is not None
    clock[0] += 0.6
    assert changes.version("voivodeship:14") == live  # a ping sent; its answer is on its way
    assert changes.version("voivodeship:14") == live  # and has come
    server.silent = True  # from now on nothing arrives, and nobody says so
    clock[0] += 0.6
    assert changes.version("voivodeship:14") == live  # pinged again: the last answer is recent enough
    clock[0] += 2.1
    assert changes.version("voivodeship:14") is None  # no answer to the ping: cannot tell
    server.silent = False
    assert changes.version("voivodeship:14") is None and server.subscriptions == 1  # 5 s after the last try
    clock[0] += 2.0
    assert changes.version("voivodeship:14") is None and server.subscriptions == 2  # subscribed again
    again = changes.version("voivodeship:14")
    assert again is not None and again.split(".")[0] != live.split(".")[0]


def test_a_server_that_refuses_is_asked_again_only_after_a_pause(clock: list[float]) -> None:
    server = Server()
    server.down = True
    changes = changes_on(server, clock)
    assert [changes.version("voivodeship:14") for _ in range(3)] == [None] * 3
    server.down = False
    clock[0] += 4.9
    assert changes.version("voivodeship:14") is None and server.subscriptions == 0
    clock[0] += 0.2
    changes.version("voivodeship:14")
    assert server.subscriptions == 1 and changes.version("voivodeship:14") is not None


def test_a_process_that_only_writes_keeps_nothing_of_its_changes(clock: list[float]) -> None:
    server = Server()
    changes = changes_on(server, clock)  # never asked for a version: never subscribed
    for number in range(1, 1001):
        changes.heard(f"{number} voivodeship:14 point:a")
    assert server.subscriptions == 0 and not changes._counted_here and not changes._counts
