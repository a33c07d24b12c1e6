"""The e-health platform port (``shared.services.ehealth.FhirPlatform``) over FHIR R4's REST API.

Timeouts, connection errors, 429 and 5xx are retried here a few times with exponential backoff
(tenacity); after that the push fails and Pub/Sub redelivers with its own, longer back-off. Every
write is conditional on the visit's identifier, so a retry never makes a second record.
"""

from __future__ import annotations

from typing import Any

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from shared.services.ehealth import PlatformRejected, PlatformUnavailable

FHIR_JSON = "application/fhir+json"


class HttpFhirPlatform:
    def __init__(
        self,
        base_url: str,
        timeout_s: float = 5.0,
        attempts: int = 3,
        backoff_s: float = 0.3,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.http = http or requests.Session()

    def create(self, resource: dict[str, Any], identifier: str) -> str:
        return self._retrying(
            "POST", f"{self.base_url}/Immunization", resource, {"If-None-Exist": f"identifier={identifier}"}, None
        )

    def update(self, resource: dict[str, Any], identifier: str) -> str:
        return self._retrying("PUT", f"{self.base_url}/Immunization", resource, {}, {"identifier": identifier})

    def _retrying(
        self, method: str, url: str, resource: dict[str, Any], headers: dict[str, str], params: dict[str, str] | None
    ) -> str:
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_s),
            retry=retry_if_exception_type(PlatformUnavailable),
            reraise=True,
        )
        return retrying(self._once, method, url, resource, headers, params)

    def _once(
        self, method: str, url: str, resource: dict[str, Any], headers: dict[str, str], params: dict[str, str] | None
    ) -> str:
        try:
            response = self.http.request(
                method,
                url,
                json=resource,
                params=params,
                headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, **headers},
                timeout=(2.0, self.timeout_s),
            )
        except requests.RequestException as error:
            raise PlatformUnavailable(type(error).__name__) from None
        if response.status_code < 300:
            return str(response.json().get("id", ""))
        if response.status_code == 429 or response.status_code >= 500:
            raise PlatformUnavailable(f"HTTP {response.status_code}")
        raise PlatformRejected(f"HTTP {response.status_code}")
