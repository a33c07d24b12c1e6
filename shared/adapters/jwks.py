"""Signing keys of an identity provider, fetched from its JWKS URL and cached.

An unknown key id triggers a refresh (key rotation), at most once a minute, so a flood of tokens
with made-up ``kid`` values cannot turn into a flood of requests to the provider.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import requests

from shared.domain.identity import UnknownSigningKey


class JwksKeySource:
    def __init__(
        self,
        url: str,
        http: requests.Session | None = None,
        min_refresh_s: float = 60.0,
        max_age_s: float = 3600.0,
        loader: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        """``loader`` replaces the HTTP fetch where the keys are served by this very process (the
        local host serves the development provider's JWKS: fetching it from itself under load could
        wait for a thread that waits for it)."""
        self.url = url
        self._http = http or requests.Session()
        self._loader = loader
        self._min_refresh_s = min_refresh_s
        self._max_age_s = max_age_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> jwt.PyJWK:
        if not kid:
            raise UnknownSigningKey("token names no key")
        with self._lock:
            now = time.monotonic()
            stale = now - self._fetched_at >= self._max_age_s
            if (kid not in self._keys or stale) and now - self._fetched_at >= self._min_refresh_s:
                self._refresh(now)
            key = self._keys.get(kid)
        if key is None:
            raise UnknownSigningKey("unknown key id")
        return key

    def _load(self) -> dict[str, Any]:
        if self._loader is not None:
            return self._loader()
        response = self._http.get(self.url, timeout=3)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    def _refresh(self, now: float) -> None:
        self._fetched_at = now  # also on failure: a broken provider is not asked again at once
        try:
            document = self._load()
        except (requests.RequestException, ValueError):
            return  # keep the keys we had
        keys = {}
        for entry in document.get("keys", []):
            try:
                key = jwt.PyJWK(entry)
            except (jwt.PyJWKError, jwt.InvalidKeyError):
                continue
            if entry.get("kid"):
                keys[entry["kid"]] = key
        self._keys = keys
