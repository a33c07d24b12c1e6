"""The HTTP SMS provider's retries (tenacity) against a scripted HTTP session, no network."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from shared.adapters.sms_provider import HttpSmsProvider
from shared.services.sms import PermanentSmsError, TransientSmsError


class Answer:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code

    def json(self) -> dict[str, Any]:
        return {"id": "gw-1"}


class ScriptedSession(requests.Session):
    """Answers each POST with the next status code, or raises the next exception."""

    def __init__(self, *script: int | Exception) -> None:
        super().__init__()
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def post(self, url: Any, data: Any = None, json: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls.append({"url": url, "json": json, **kwargs})
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return Answer(step)


def provider(session: ScriptedSession, attempts: int = 3) -> HttpSmsProvider:
    return HttpSmsProvider("http://gateway/", "secret", attempts=attempts, backoff_s=0, http=session)


def test_a_5xx_or_429_or_a_lost_connection_is_tried_again_then_sent_once() -> None:
    session = ScriptedSession(502, requests.ConnectionError(), 429, 201)
    assert provider(session, attempts=4).send("event-1", "+48601234567", "tekst") == "gw-1"
    assert len(session.calls) == 4
    assert session.calls[-1]["url"] == "http://gateway/messages"
    assert session.calls[-1]["json"] == {"id": "event-1", "to": "+48601234567", "text": "tekst"}
    assert session.calls[-1]["headers"] == {"Authorization": "Bearer secret"}


def test_after_the_last_attempt_the_error_is_transient() -> None:
    session = ScriptedSession(503, 503, requests.Timeout())
    with pytest.raises(TransientSmsError, match="Timeout"):
        provider(session).send("event-1", "+48601234567", "tekst")
    assert len(session.calls) == 3


def test_another_4xx_is_permanent_at_once() -> None:
    session = ScriptedSession(400, 201)
    with pytest.raises(PermanentSmsError, match="HTTP 400"):
        provider(session).send("event-1", "+48601234567", "tekst")
    assert len(session.calls) == 1
