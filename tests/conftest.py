"""Shared fixtures.

The emulators start once per test run (or are reused when `make run` has them up). Every test
that touches a backend gets its own Spanner database, Firestore database, Pub/Sub name prefix and
BigQuery dataset, so tests never see each other's data and need no cleanup order.
"""

from __future__ import annotations

import itertools
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from emulators.ports import Ports, free_port
from emulators.stack import LocalStack, StackError
from shared.config import LOCAL_PROJECT_ID, Settings, local_project_id

RUN_ID = uuid.uuid4().hex[:6]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def pytest_configure(config: pytest.Config) -> None:
    # A terminated run still tears its fixtures down, so no emulator outlives it.
    signal.signal(signal.SIGTERM, _interrupt)
    # The deployment defaults to cloud (fail closed); tests run the local one, and say so.
    os.environ["EREG_DEPLOYMENT"] = "local"


_names = itertools.count()


@pytest.fixture(scope="session")
def emulator_env() -> Iterator[dict[str, str]]:
    """Start the emulators, the SMS gateway and Redis for this run (never skipped: a missing backend fails loudly)."""
    stack = LocalStack(Ports.from_env(), local_project_id())
    try:
        stack.start()
    except StackError as error:
        pytest.fail(f"The local emulators could not start: {error}", pytrace=False)
    env = stack.env()
    os.environ.update(env)
    os.environ["GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_FOR_RW"] = "false"
    yield env
    stack.stop()


def isolated_settings(**overrides: object) -> Settings:
    """Settings with names no other test uses."""
    name = f"t{RUN_ID}n{next(_names)}"
    values: dict[str, object] = {
        "deployment": "local",
        "project_id": LOCAL_PROJECT_ID,
        "spanner_database": name,
        "firestore_database": name.replace("n", "-n"),
        "pubsub_prefix": f"{name}-",
        "bigquery_dataset": name,
        "redis_key_prefix": f"{name}:",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[LocalStack]:
    """A Redis of this test's own, so stopping it disturbs no other test."""
    stack = LocalStack(replace(Ports.from_env(), redis=free_port()), "demo-ereg", state_dir=tmp_path)
    stack.start(["redis"])
    yield stack
    stack.stop()
