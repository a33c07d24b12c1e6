"""tools/smoke_test.py against the local host: the same steps Cloud Build runs through staging's
load balancer (health, sign in, search, book, see, cancel, sign out)."""

from __future__ import annotations

import requests

from tests.e2e.conftest import LOAD_BALANCER_IP
from tools.smoke_test import Smoke, SmokeFailed, dev_idp_assertion


def _session() -> requests.Session:
    http = requests.Session()
    http.headers["X-Forwarded-For"] = f"198.51.100.250, {LOAD_BALANCER_IP}"  # as the load balancer sends
    return http


def test_the_smoke_test_books_and_cancels_through_the_front_door(host_url: str) -> None:
    lines: list[str] = []
    smoke = Smoke(host_url, dev_idp_assertion(host_url), phone="601 234 567", say=lines.append, http=_session())
    result = smoke.run()
    assert result["booked"] >= 1 and result["slots"] > 0
    steps = [line.split(":")[0] for line in lines if not line.startswith("search")]
    assert steps == ["health", "login", "book", "my visits", "cancel", "logout"], lines
    assert all(line.endswith(("200", "201", "204")) for line in lines)


def test_the_smoke_test_fails_when_a_step_fails(host_url: str) -> None:
    lines: list[str] = []
    smoke = Smoke(host_url, lambda _: "not.an.assertion", phone="601 234 567", say=lines.append, http=_session())
    try:
        smoke.run()
    except SmokeFailed as failure:
        assert str(failure).startswith("login: 401")
    else:
        raise AssertionError("a smoke test whose login was refused passed")
    assert not any(line.startswith("book") for line in lines)
    unknown = Smoke(host_url, None, vaccine="no-such-vaccine", say=lines.append, http=_session())
    try:
        unknown.run()
    except SmokeFailed as failure:
        assert "unknown_vaccine" in str(failure)
    else:
        raise AssertionError("a search for an unknown vaccine passed")


def test_the_read_only_smoke_test_books_nothing(host_url: str) -> None:
    lines: list[str] = []
    assert Smoke(host_url, None, say=lines.append, http=_session()).run()["slots"] > 0
    assert not any(line.startswith(("login", "book")) for line in lines)
