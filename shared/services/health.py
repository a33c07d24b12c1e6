"""Health of the backends: each probed in parallel with a deadline and timed."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Literal

Probe = Callable[[float], None]


@dataclass(frozen=True)
class BackendHealth:
    status: Literal["ok", "down"]
    latency_ms: float
    error: str | None = None


@dataclass(frozen=True)
class HealthReport:
    backends: dict[str, BackendHealth]
    # Backends the system serves without (slower): one of them down is "degraded", still serving.
    optional: frozenset[str] = frozenset()
    # Work waiting on an outside party, e.g. {"ehealth_backlog": records not yet at the platform}.
    figures: dict[str, int | None] = field(default_factory=dict)

    @property
    def status(self) -> Literal["ok", "degraded"]:
        return "ok" if all(b.status == "ok" for b in self.backends.values()) else "degraded"

    @property
    def serving(self) -> bool:
        return all(b.status == "ok" for name, b in self.backends.items() if name not in self.optional)

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "backends": {
                name: {k: v for k, v in vars(b).items() if v is not None} for name, b in self.backends.items()
            },
            **({"figures": self.figures} if self.figures else {}),
        }


_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")


def check_backends(
    probes: Mapping[str, Probe], timeout_s: float, optional: frozenset[str] = frozenset()
) -> HealthReport:
    def timed(probe: Probe) -> BackendHealth:
        started = time.perf_counter()
        try:
            probe(timeout_s)
        except Exception as error:
            return BackendHealth("down", _ms(started), type(error).__name__)
        return BackendHealth("ok", _ms(started))

    started = time.perf_counter()
    futures = {name: _pool.submit(timed, probe) for name, probe in probes.items()}
    wait(futures.values(), timeout=timeout_s + 0.5)
    results = {}
    for name, future in futures.items():
        if future.done():
            results[name] = future.result()
        else:
            results[name] = BackendHealth("down", _ms(started), "Timeout")
    return HealthReport(results, optional)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
