"""The local function host, started once per run over its own database names, with demo data."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from typing import Any

import pytest
import requests

from emulators.host import host_env, start_host
from emulators.ports import LOOPBACK, free_port
from emulators.provision import provision, remove_pubsub
from emulators.seed import pesel_for, seed
from emulators.stack import STATE_DIR, _kill_group
from shared.bootstrap import Container, build_container
from shared.config import Settings
from tests.conftest import RUN_ID, isolated_settings


@pytest.fixture(scope="session")
def e2e_backends(emulator_env: dict[str, str]) -> Iterator[Container]:
    """The backends behind the e2e host: own names, demo data. Tests may read them to check effects."""
    # Short push retry back-off, so a poison message reaches its dead-letter topic within seconds.
    settings = isolated_settings(push_endpoint=f"http://{LOOPBACK}:{HOST_PORT}", pubsub_max_backoff_s=2)
    container = build_container(settings)
    provision(settings, container.warehouse.client)
    seed(container.spanner, container.firestore, points=32, days=3, second_dose_days=3, patients=5)
    yield container
    remove_pubsub(settings)
    container.spanner.database.drop()


HOST_PORT = free_port()
# The address Google's load balancer appends after the client's (its range is 35.191.0.0/16).
LOAD_BALANCER_IP = "35.191.0.1"


@pytest.fixture(scope="session")
def host_url(emulator_env: dict[str, str], e2e_backends: Container) -> Iterator[str]:
    base = f"http://{LOOPBACK}:{HOST_PORT}"
    env = {
        **emulator_env,
        **host_env(e2e_backends.settings, base),
        "EREG_TRUSTED_PROXY_HOPS": "1",
        # Strong reads: the tests check free places right after they change them.
        "EREG_SPANNER_SEARCH_STALENESS_S": "0",
        "EREG_SEARCH_CACHE_S": "0",
        # Bulk referral jobs in 16 chunks instead of 256: the e2e data is small.
        "EREG_REFERRAL_CHUNK_PREFIX_LENGTH": "1",
    }
    STATE_DIR.joinpath("logs").mkdir(parents=True, exist_ok=True)
    process = start_host(env, HOST_PORT, log_path=STATE_DIR / "logs" / "e2e-host.log")
    yield base
    _kill_group(process.pid)


class Api:
    """A small client for the local host: the dev identity provider, login, authorised calls."""

    def __init__(self, base: str, client_ip: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.client_ip = client_ip
        # The host trusts one load balancer, which appends "<client-ip>,<lb-ip>" (docs/decisions.md).
        self.http.headers["X-Forwarded-For"] = f"{client_ip}, {LOAD_BALANCER_IP}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def assertion(self, pesel: str, roles: list[str] | None = None, point_ids: list[str] | None = None) -> str:
        response = self.http.post(
            self.url("/dev/idp/assertions"),
            json={"pesel": pesel, "given_name": "Jan", "family_name": "Testowy", "roles": roles or [],
                  "point_ids": point_ids or []},
            timeout=10,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        return str(response.json()["assertion"])

    def login(self, pesel: str, roles: list[str] | None = None, point_ids: list[str] | None = None) -> dict[str, Any]:
        response = self.http.post(
            self.url("/api/v1/login"), json={"assertion": self.assertion(pesel, roles, point_ids)}, timeout=10
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.url(path), headers=headers, timeout=30, **kwargs)


_addresses = itertools.count(1)


@pytest.fixture
def api(host_url: str) -> Api:
    """A client with an address of its own (documentation range), so rate limits stay per test."""
    n = next(_addresses)
    return Api(host_url, f"198.51.{100 + n // 250}.{n % 250 + 1}")


_pesels = itertools.count(100)
_phones = itertools.count(1)


@pytest.fixture
def new_phone() -> Callable[[], str]:
    """A Polish mobile number no other test in this run uses (E.164)."""
    return lambda: f"+48601{(int(RUN_ID, 16) % 100) * 10_000 + next(_phones):06d}"


@pytest.fixture(scope="session")
def gateway(emulator_env: dict[str, str]) -> str:
    return emulator_env["EREG_SMS_PROVIDER_URL"]


def fresh_pesel(birth: date = date(1980, 5, 17), female: bool = False) -> str:
    """A valid PESEL that no other test in this run uses."""
    return pesel_for(birth, next(_pesels), female)


@pytest.fixture
def new_pesel() -> Callable[..., str]:
    """A valid PESEL that no other test in this run uses."""
    return fresh_pesel


@contextmanager
def running_host(
    emulator_env: dict[str, str],
    settings: Settings,
    name: str,
    overrides: dict[str, str] | None = None,
    workers: int = 1,
    drop: tuple[str, ...] = (),
    port: int | None = None,
) -> Iterator[str]:
    """Another host over ``settings``' backends behind one trusted proxy hop (as the load balancer
    adds), with ``overrides`` to its environment and without the variables ``drop`` names; yields its
    base URL and stops it on the way out."""
    port = port or free_port()
    base = f"http://{LOOPBACK}:{port}"
    env = {**emulator_env, **host_env(settings, base), "EREG_TRUSTED_PROXY_HOPS": "1", **(overrides or {})}
    for name in drop:
        env.pop(name, None)
    process = start_host(env, port, log_path=STATE_DIR / "logs" / f"e2e-{name}-{port}.log", workers=workers)
    try:
        yield base
    finally:
        _kill_group(process.pid)


@pytest.fixture
def extra_host(
    emulator_env: dict[str, str], e2e_backends: Container, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., str]]:
    """Start another host over the e2e databases, with some settings changed; stopped after the test.

    ``drop`` names variables the host must not inherit (``EREG_DEPLOYMENT`` to see its default).
    """
    with ExitStack() as hosts:

        def start(overrides: dict[str, str] | None = None, drop: tuple[str, ...] = (), workers: int = 1) -> str:
            for name in drop:
                monkeypatch.delenv(name, raising=False)  # the host inherits this process's environment
            return hosts.enter_context(
                running_host(emulator_env, e2e_backends.settings, "extra-host", overrides, workers, drop)
            )

        yield start
