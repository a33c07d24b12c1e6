"""Closed-loop HTTP load with locust as a library, run as a process of its own.

    python -m bench.load URL USERS SECONDS MODULE:FACTORY PAYLOAD_JSON_FILE

prints one JSON object with the figures. It patches the standard library with gevent before
anything else is imported, which is why it is not imported by the processes that hold gRPC clients.
"""

from gevent import monkey

monkey.patch_all()

import importlib
import json
import sys
import time
from pathlib import Path

import gevent
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment


def main() -> None:
    base_url, users, seconds, factory_name, payload_file = sys.argv[1:6]
    module_name, function_name = factory_name.split(":")
    payload = json.loads(Path(payload_file).read_text())
    step_function = getattr(importlib.import_module(module_name), function_name)(payload)

    class Client(FastHttpUser):
        host = base_url
        wait_time = constant(0)
        network_timeout = 30.0
        connection_timeout = 10.0

        @task
        def step(self) -> None:
            step_function(self.client)

    environment = Environment(user_classes=[Client])
    runner = environment.create_local_runner()
    runner.start(int(users), spawn_rate=int(users))
    started = time.monotonic()
    gevent.spawn_later(float(seconds), runner.quit)
    runner.greenlet.join()
    total = environment.stats.total
    # The time requests were actually made (a client out of work stops early).
    elapsed = (total.last_request_timestamp or 0) - total.start_time
    if elapsed <= 0:
        elapsed = time.monotonic() - started
    errors = {f"{e.method} {e.name}: {e.error}": e.occurrences for e in environment.stats.errors.values()}
    flows = {  # per request name, over the same time as the total
        entry.name: {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "seconds": elapsed,
            "p50_ms": entry.get_response_time_percentile(0.50),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
        }
        for entry in environment.stats.entries.values()
    }
    print(
        json.dumps(
            {
                "requests": total.num_requests,
                "failures": total.num_failures,
                "seconds": elapsed,
                "p50_ms": total.get_response_time_percentile(0.50),
                "p95_ms": total.get_response_time_percentile(0.95),
                "p99_ms": total.get_response_time_percentile(0.99),
                "errors": errors,
                "flows": flows,
            }
        )
    )


if __name__ == "__main__":
    main()
