"""The local function host, started once per run over its own database names, with demo data."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
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
        # The host trusts one proxy hop, as behind the load balancer: this is the caller's address.
        self.http.headers["X-Forwarded-For"] = client_ip

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


@pytest.fixture
def new_pesel() -> Callable[..., str]:
    """A valid PESEL that no other test in this run uses."""

    def make(birth: date = date(1980, 5, 17), female: bool = False) -> str:
        return pesel_for(birth, next(_pesels), female)

    return make
