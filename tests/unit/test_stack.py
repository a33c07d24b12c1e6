"""Start-up failures give one clear message, not a stack trace."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from emulators.ports import LOOPBACK, Ports, free_port
from emulators.stack import LocalStack, StackError


def _ports() -> Ports:
    return replace(
        Ports.from_env(),
        spanner_grpc=free_port(), spanner_rest=free_port(), firestore=free_port(), pubsub=free_port(),
        bigquery_rest=free_port(), bigquery_grpc=free_port(),
    )  # fmt: skip


def test_a_port_taken_by_another_program_is_named(tmp_path) -> None:
    ports = _ports()
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, ports.firestore))
        squatter.listen()
        stack = LocalStack(ports, "demo-ereg", state_dir=tmp_path, busy_wait_s=0.5)
        with pytest.raises(StackError, match=f"Port {ports.firestore} for the Firestore emulator is already in use"):
            stack.start(["firestore"])
    assert stack.started == []


def test_missing_gcloud_says_what_is_missing(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    stack = LocalStack(_ports(), "demo-ereg", state_dir=tmp_path)
    with pytest.raises(StackError, match=r"Google Cloud CLI \(gcloud\) is not on PATH"):
        stack.start(["spanner"])


@pytest.mark.parametrize("variable", ["EREG_HOST_PORT", "EREG_SPANNER_GRPC_PORT"])
def test_ports_are_overridable_and_checked(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "18080")
    assert 18080 in vars(Ports.from_env()).values()
    monkeypatch.setenv(variable, "eighty")
    with pytest.raises(SystemExit, match=variable):
        Ports.from_env()


def test_missing_redis_server_says_how_to_install_it(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    stack = LocalStack(replace(_ports(), redis=free_port()), "demo-ereg", state_dir=tmp_path)
    with pytest.raises(StackError, match=r"redis-server is not installed.*apt-get install -y redis-server"):
        stack.start(["redis"])


def test_redis_port_is_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EREG_REDIS_PORT", "16379")
    assert Ports.from_env().redis == 16379
