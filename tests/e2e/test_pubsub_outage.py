"""A hung Pub/Sub (its emulator frozen with SIGSTOP) does not hold a booking's answer, and every
SMS still arrives once it thaws (SIGCONT), through the outbox sweep."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from emulators.ports import LOOPBACK, Ports, free_port
from emulators.provision import ensure_pubsub
from emulators.stack import LocalStack
from shared.bootstrap import Container, build_container
from tests.e2e.conftest import Api, running_host
from tests.e2e.test_booking import book, find_slots
from tests.e2e.test_messaging import wait_for_messages


@pytest.fixture
def frozen_pubsub_host(
    emulator_env: dict[str, str], e2e_backends: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, LocalStack, Container]]:
    """A host whose Pub/Sub is an emulator of this test's own (the shared one is never paused)."""
    ports = replace(Ports.from_env(), pubsub=free_port())
    pubsub = LocalStack(ports, e2e_backends.settings.project_id, state_dir=tmp_path)
    pubsub.start(["pubsub"])
    host_port = free_port()
    pubsub_host = f"{LOOPBACK}:{ports.pubsub}"
    push_endpoint = f"http://{LOOPBACK}:{host_port}"
    settings = e2e_backends.settings.model_copy(
        update={"pubsub_emulator_host": pubsub_host, "push_endpoint": push_endpoint}
    )
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_host)  # for the provisioning clients; restored after
    ensure_pubsub(settings)
    overrides = {"PUBSUB_EMULATOR_HOST": pubsub_host}
    try:
        with running_host(emulator_env, settings, "pubsub-outage", overrides, port=host_port) as base:
            yield base, pubsub, build_container(settings)
    finally:
        os.killpg(pubsub.started[0].pgid, signal.SIGCONT)  # never leave a stopped process behind
        pubsub.stop()


def _timed_booking(api: Api, new_pesel, phone: str, slot: dict[str, object]) -> float:
    token = api.login(new_pesel(date(1961, 3, 3)))["session_token"]
    started = time.monotonic()
    response = book(api, token, slot, phone=phone)
    took = time.monotonic() - started
    assert response.status_code == 201, response.text
    return took


def test_a_booking_answers_at_once_while_pubsub_hangs_and_every_sms_arrives_after(
    frozen_pubsub_host: tuple[str, LocalStack, Container], new_pesel, new_phone, gateway: str
) -> None:
    base, pubsub, container = frozen_pubsub_host
    api = Api(base, "198.18.20.1")
    slots = find_slots(api, "comirnaty")[30:]
    usual_phone = new_phone()
    usual = _timed_booking(api, new_pesel, usual_phone, slots[0])
    wait_for_messages(gateway, usual_phone, 1)  # Pub/Sub works: the SMS comes by the fast path

    os.killpg(pubsub.started[0].pgid, signal.SIGSTOP)  # Pub/Sub hangs: it takes connections, answers nothing
    phones = [new_phone() for _ in range(3)]
    took = [_timed_booking(api, new_pesel, phone, slot) for phone, slot in zip(phones, slots[1:], strict=False)]
    assert max(took) < max(1.5, 3 * usual), (usual, took)  # before: 6 s each (two events, 3 s each)

    os.killpg(pubsub.started[0].pgid, signal.SIGCONT)
    # The scheduled sweep (every minute in the cloud) publishes what the fast path could not.
    container.relay.sweep(datetime.now(UTC), older_than_s=0)
    for phone in phones:
        [sms] = wait_for_messages(gateway, phone, 1, timeout_s=60)
        assert "dawka 1" in sms["text"]
