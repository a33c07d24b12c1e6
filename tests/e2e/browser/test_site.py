"""The web apps are served as the bucket serves them, and the shared page chrome works."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import axe_violations
from tests.e2e.conftest import Api

APPS = ["/", "/patient/", "/agent/", "/point/", "/dashboard/", "/admin/"]


def test_every_app_is_served_with_a_policy_that_allows_only_our_origin(host_url: str) -> None:
    for path in APPS:
        response = requests.get(host_url + path, timeout=10)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_app_without_its_slash_is_redirected_and_unknown_files_are_404_problems(host_url: str) -> None:
    redirect = requests.get(host_url + "/agent", timeout=10, allow_redirects=False)
    assert (redirect.status_code, redirect.headers["Location"]) == (301, "/agent/")
    missing = requests.get(host_url + "/no-such-page.html", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    escaping = requests.get(host_url + "/common/../../README.md", timeout=10)
    assert escaping.status_code == 404
    assert requests.get(host_url + "/api/v1/nothing-here", timeout=10).json()["code"] == "not_found"


def test_the_chart_library_is_served_from_npm_files(host_url: str) -> None:
    response = requests.get(host_url + "/vendor/chart.umd.js", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert b"Chart" in response.content[:5000]


def test_patient_signs_in_switches_language_and_signs_out(page: Page, api: Api, new_pesel) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("e-Rejestracja na szczepienia")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vaccination e-Registration")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_label("PESEL").fill(new_pesel())
    page.get_by_label("Given name").fill("Anna")
    page.get_by_label("Family name").fill("Nowak")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
