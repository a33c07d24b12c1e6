"""The SMS provider port (``shared.services.sms.SmsProvider``) over the operator's HTTP API.

Timeouts, connection errors, 429 and 5xx are retried here with exponential backoff (tenacity);
other 4xx are permanent. The request id is sent as the provider's message id, so a resend after a
crash is not a second SMS at a provider that de-duplicates (the local gateway does).
"""

from __future__ import annotations

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from shared.services.sms import PermanentSmsError, TransientSmsError


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
        """Send, retrying transient failures; the last TransientSmsError is raised when all failed."""
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_s),
            retry=retry_if_exception_type(TransientSmsError),
            reraise=True,
        )
        return retrying(self._send_once, message_id, to, text)

    def _send_once(self, message_id: str, to: str, text: str) -> str:
        try:
            response = self.http.post(
                f"{self.base_url}/messages",
                json={"id": message_id, "to": to, "text": text},
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=(2.0, self.timeout_s),
            )
        except requests.RequestException as error:
            raise TransientSmsError(type(error).__name__) from None
        if response.status_code < 300:
            return str(response.json().get("id", message_id))
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientSmsError(f"HTTP {response.status_code}")
        raise PermanentSmsError(f"HTTP {response.status_code}")
