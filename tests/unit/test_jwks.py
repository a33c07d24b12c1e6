"""JWKS fetched over HTTP (a real server on loopback), cached, refreshed on rotation at most once a minute."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.adapters.jwks import JwksKeySource
from shared.domain.identity import UnknownSigningKey


def _jwk(kid: str) -> dict[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "alg": "RS256"}


class Provider:
    def __init__(self) -> None:
        self.keys = [_jwk("k1")]
        self.hits = 0


@pytest.fixture
def provider() -> Iterator[tuple[Provider, str]]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


def test_keys_are_cached_and_unknown_kids_do_not_flood_the_provider(provider: tuple[Provider, str]) -> None:
    state, url = provider
    source = JwksKeySource(url, min_refresh_s=60)
    assert source.key_for("k1").key_id == "k1"
    assert source.key_for("k1").key_id == "k1"
    for _ in range(5):
        with pytest.raises(UnknownSigningKey):
            source.key_for("made-up")
    assert state.hits == 1


def test_a_rotated_key_is_fetched_once_the_refresh_interval_allows(provider: tuple[Provider, str]) -> None:
    state, url = provider
    source = JwksKeySource(url, min_refresh_s=0)
    assert source.key_for("k1").key_id == "k1"
    state.keys = [_jwk("k2")]
    assert source.key_for("k2").key_id == "k2"
    assert state.hits == 2
    with pytest.raises(UnknownSigningKey):
        source.key_for("k1")  # retired


def test_a_provider_that_is_down_keeps_the_keys_we_had(provider: tuple[Provider, str]) -> None:
    _, url = provider
    source = JwksKeySource(url, min_refresh_s=0)
    assert source.key_for("k1")
    source.url = "http://127.0.0.1:9/nothing"
    assert source.key_for("k1").key_id == "k1"
    with pytest.raises(UnknownSigningKey):
        source.key_for("k9")
