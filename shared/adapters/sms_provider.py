"""The SMS provider behind an interface; the HTTP implementation talks to the operator's API.

Timeouts, connection errors, 429 and 5xx are retried here with backoff; other 4xx are permanent.
The request id is sent as the provider's message id, so a resend after a crash is not a second SMS
at a provider that de-duplicates (the local gateway does).
"""

from __future__ import annotations

import time
from typing import Protocol

import requests


class TransientSmsError(Exception):
    """Worth trying again later."""


class PermanentSmsError(Exception):
    """The provider refused the message for good."""


class SmsProvider(Protocol):
    def send(self, message_id: str, to: str, text: str) -> str: ...


class HttpSmsProvider:
    def __init__(
        self,
        base_url: str,
        token: str,
        timeout_s: float = 5.0,
        attempts: int = 3,
        backoff_s: float = 0.3,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.http = http or requests.Session()

    def send(self, message_id: str, to: str, text: str) -> str:
        last_error = "no attempt"
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self.http.post(
                    f"{self.base_url}/messages",
                    json={"id": message_id, "to": to, "text": text},
                    headers={"Authorization": f"Bearer {self._token}"},
                    timeout=(2.0, self.timeout_s),
                )
            except requests.RequestException as error:
                last_error = type(error).__name__
                continue
            if response.status_code < 300:
                return str(response.json().get("id", message_id))
            if response.status_code == 429 or response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                continue
            raise PermanentSmsError(f"HTTP {response.status_code}")
        raise TransientSmsError(last_error)
