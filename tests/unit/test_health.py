from __future__ import annotations

import time

from shared.services.health import check_backends


def _ok(timeout: float) -> None:
    return None


def _broken(timeout: float) -> None:
    raise ConnectionError("refused")


def _hanging(timeout: float) -> None:
    time.sleep(timeout + 2)


def test_all_up_is_ok() -> None:
    report = check_backends({"a": _ok, "b": _ok}, timeout_s=0.5)
    assert report.status == "ok"
    assert report.as_dict()["backends"] == {
        "a": {"status": "ok", "latency_ms": report.backends["a"].latency_ms},
        "b": {"status": "ok", "latency_ms": report.backends["b"].latency_ms},
    }


def test_a_failing_or_hanging_backend_degrades_without_blocking() -> None:
    started = time.monotonic()
    report = check_backends({"a": _ok, "broken": _broken, "hanging": _hanging}, timeout_s=0.2)
    assert time.monotonic() - started < 1.5
    assert report.status == "degraded"
    assert report.backends["a"].status == "ok"
    assert (report.backends["broken"].status, report.backends["broken"].error) == ("down", "ConnectionError")
    assert (report.backends["hanging"].status, report.backends["hanging"].error) == ("down", "Timeout")


def test_figures_of_outside_parties_are_reported_beside_the_backends() -> None:
    from dataclasses import replace

    report = check_backends({"a": _ok}, timeout_s=0.5)
    assert "figures" not in report.as_dict()
    with_backlog = replace(report, figures={"ehealth_backlog": 3})
    assert with_backlog.as_dict()["figures"] == {"ehealth_backlog": 3}
    assert with_backlog.status == "ok"  # a backlog is information, not a failure
