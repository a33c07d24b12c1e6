"""Waiting for a condition with a deadline, never a fixed sleep: tenacity polls the probe."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_delay, wait_fixed

T = TypeVar("T")


def _last_result(state: RetryCallState) -> object:
    assert state.outcome is not None
    return state.outcome.result()


def poll_until(probe: Callable[[], T], done: Callable[[T], bool], timeout_s: float, every_s: float = 0.2) -> T:
    """Call ``probe`` every ``every_s`` seconds until ``done`` holds for its result or ``timeout_s``
    have passed; returns the last result either way (the caller decides what a timeout means)."""
    retrying = Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(every_s),
        retry=retry_if_result(lambda result: not done(result)),
        retry_error_callback=_last_result,
    )
    return retrying(probe)
