"""Every local port in one place; each can be overridden by an environment variable."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass


def _port(variable: str, default: int) -> int:
    value = os.environ.get(variable)
    if value is None or value == "":
        return default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SystemExit(f"{variable}={value!r} is not a TCP port number")
    return int(value)


@dataclass(frozen=True)
class Ports:
    host: int
    spanner_grpc: int
    spanner_rest: int
    firestore: int
    pubsub: int
    bigquery_rest: int
    bigquery_grpc: int
    sms_gateway: int
    redis: int
    fhir: int

    @classmethod
    def from_env(cls) -> Ports:
        return cls(
            host=_port("EREG_HOST_PORT", 8080),
            spanner_grpc=_port("EREG_SPANNER_GRPC_PORT", 9010),
            spanner_rest=_port("EREG_SPANNER_REST_PORT", 9020),
            firestore=_port("EREG_FIRESTORE_PORT", 8086),
            pubsub=_port("EREG_PUBSUB_PORT", 8085),
            bigquery_rest=_port("EREG_BIGQUERY_REST_PORT", 9050),
            bigquery_grpc=_port("EREG_BIGQUERY_GRPC_PORT", 9060),
            sms_gateway=_port("EREG_SMS_GATEWAY_PORT", 8089),
            redis=_port("EREG_REDIS_PORT", 6379),
            fhir=_port("EREG_FHIR_PORT", 8091),
        )


LOOPBACK = "127.0.0.1"


def is_listening(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port
