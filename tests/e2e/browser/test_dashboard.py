"""The ministry dashboard in real Chromium: an analyst signs in and sees the day's figures, a booking and
a vaccination made through the API appear after the page's own refresh, the tables hold what the report
routes return, a failed refresh keeps the last figures with a notice, and it works on a 360 px screen."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, Route, expect

from shared.bootstrap import Container
from shared.domain.local_time import WARSAW
from tests.e2e.browser.conftest import PHONE, PageProblems, axe_violations, screenshot
from tests.e2e.conftest import Api
from tests.e2e.test_booking import book, find_slots
from tests.e2e.test_point_day import eventually, new_point, today_block

VOIVODESHIPS = ["02", "04", "06", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28", "30", "32"]


def today() -> str:
    return datetime.now(UTC).astimezone(WARSAW).date().isoformat()


def sign_in(page: Page, pesel: str, refresh_s: int = 1, figures: bool = True) -> None:
    """The analyst signs in on the dashboard (the dev identity provider) and the first figures show."""
    page.goto(f"/dashboard/?refresh={refresh_s}")
    expect(page.get_by_role("heading", name="Logowanie analityka")).to_be_visible()
    page.get_by_label("PESEL").fill(pesel)
    page.get_by_label("Imię").fill("Anna")
    page.get_by_label("Nazwisko").fill("Analityk")
    page.get_by_role("button", name="Zaloguj się").click()
    if figures:
        expect(page.locator("#board")).to_have_attribute("data-updated", re.compile(r"^\d{4}-"))


def figure(page: Page, key: str) -> int:
    return int(page.locator(f'[data-figure="{key}"] .figure-value').get_attribute("data-value") or "")


def expect_figure(page: Page, key: str, value: int) -> None:
    expect(page.locator(f'[data-figure="{key}"] .figure-value')).to_have_attribute("data-value", str(value))


def summary(api: Api, analyst: str, day: str) -> dict[str, Any]:
    response = api.call("GET", "/api/v1/reports/summary", analyst, params={"day": day})
    assert response.status_code == 200, response.text
    return dict(response.json())


def shown_on_the_page(page: Page) -> dict[str, Any]:
    """The figures, the 'by voivodeship' and 'by vaccine' tables as the page shows them (their cells' values)."""
    shown: dict[str, Any] = page.evaluate(
        """() => {
            const cells = (row) => Object.fromEntries([...row.querySelectorAll('td[data-value]')].map(
                (cell) => [cell.dataset.column, Number(cell.dataset.value)]));
            return {
                figures: Object.fromEntries([...document.querySelectorAll('[data-figure] .figure-value')].map(
                    (value) => [value.parentElement.dataset.figure, value.dataset.value])),
                regions: Object.fromEntries([...document.querySelectorAll('#regions tbody tr')].map(
                    (row) => [row.dataset.voivodeship, cells(row)])),
                vaccines: [...document.querySelectorAll('#by-vaccine tbody tr')].map(
                    (row) => ({vaccine: row.dataset.vaccine, ...cells(row)})),
            };
        }"""
    )
    return shown


def as_the_page_shows_it(report: dict[str, Any]) -> dict[str, Any]:
    """What the page must show for a summary: every voivodeship (0 where the route has none)."""
    given = {row["voivodeship"]: row for row in report["by_voivodeship"]}
    columns = ["bookings", "vaccinations", "no_shows", "places", "booked"]
    keys = ["bookings", "vaccinations", "cancellations", "no_shows", "sms_sent"]
    return {
        "figures": {key: str(report[key]) for key in keys},
        "regions": {code: {c: given.get(code, {}).get(c, 0) for c in columns} for code in VOIVODESHIPS},
        "vaccines": report["by_vaccine"],
    }


def book_and_vaccinate(api: Api, new_pesel: Callable[..., str], e2e_backends: Container) -> None:
    """A patient books through the API; a point vaccinates a walk-in (both as in tests/e2e/test_reports.py)."""
    patient = api.login(new_pesel())["session_token"]
    booked = book(api, patient, find_slots(api, "comirnaty", enough=1)[0])
    assert booked.status_code == 201, booked.text
    point_id = new_point(e2e_backends)
    staff = api.login(new_pesel(date(1975, 1, 1)), roles=["point_staff"], point_ids=[point_id])["session_token"]
    delivered = api.call("POST", f"/api/v1/points/{point_id}/deliveries", staff,
                         json={"vaccine": "comirnaty", "doses": 200, "lot": "DASH-1"})  # fmt: skip
    assert delivered.status_code == 201, delivered.text
    day, start, end = today_block()
    later = (date.fromisoformat(day) + timedelta(days=21)).isoformat()
    blocks = [
        {"day": day, "from": start, "to": end, "slot_minutes": 5, "places": 4, "vaccine": "comirnaty"},
        {"day": later, "from": "08:00", "to": "12:00", "slot_minutes": 30, "places": 4, "vaccine": "comirnaty"},
    ]
    published = api.call("PUT", f"/api/v1/points/{point_id}/schedule", staff, json={"blocks": blocks})
    assert published.status_code == 200, published.text
    walked = api.call("POST", f"/api/v1/points/{point_id}/visits", staff, headers={"Idempotency-Key": "dash-1"},
                      json={"pesel": new_pesel(date(1961, 6, 6)), "vaccine": "comirnaty", "given_name": "Zofia",
                            "family_name": "Wolska"})  # fmt: skip
    assert walked.status_code == 201, walked.text
    dose1 = walked.json()["visits"][0]
    done = api.call("POST", f"/api/v1/visits/{dose1['visit_id']}/vaccination", staff,
                    json={"lot": "DASH-1", "check_in_code": dose1["check_in_code"]})  # fmt: skip
    assert done.status_code == 201, done.text


def test_the_analyst_sees_new_figures_after_the_dashboards_own_refresh(
    page: Page, api: Api, new_pesel: Callable[..., str], e2e_backends: Container
) -> None:
    analyst = api.login(new_pesel(), roles=["analyst"])["session_token"]
    sign_in(page, new_pesel())
    expect(page.get_by_role("heading", level=2, name=re.compile("^Liczby dnia"))).to_be_focused()  # after the form
    expect(page.get_by_text(re.compile(r"Ostatnia aktualizacja: \d"))).to_be_visible()
    before = {key: figure(page, key) for key in ("bookings", "vaccinations")}
    assert axe_violations(page) == []

    book_and_vaccinate(api, new_pesel, e2e_backends)

    # Nothing reloads the page: its own refresh brings what the report route now gives, cell for cell.
    def page_shows_the_new_figures() -> dict[str, Any] | None:
        report = summary(api, analyst, today())
        if report["bookings"] <= before["bookings"] or report["vaccinations"] <= before["vaccinations"]:
            return None
        shown = shown_on_the_page(page)
        expected = as_the_page_shows_it(report)
        shown["figures"] = {key: shown["figures"].get(key) for key in expected["figures"]}
        seen.append(({key: shown[key] for key in expected}, expected))
        return report if seen[-1][0] == expected else None

    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    try:
        after = eventually(page_shows_the_new_figures, "the dashboard to show the new figures", timeout_s=40)
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen (page, route): {seen[-1:]}") from None
    assert after["by_voivodeship"], after
    region = {row["voivodeship"]: row for row in after["by_voivodeship"]}["14"]
    assert region["vaccinations"] >= 1 and region["places"] >= 4  # the walk-in's point is in mazowieckie
    totals = page.locator("#regions tfoot td[data-column='vaccinations']")
    expect(totals).to_have_attribute("data-value", str(after["vaccinations"]))
    capacity = after["capacity"]
    expect(page.locator('[data-figure="capacity"]')).to_contain_text(f"{capacity['booked']} z {capacity['places']}")

    # The series table's last day is the chosen day, as the timeseries route gives it.
    series = api.call("GET", "/api/v1/reports/timeseries", analyst,
                      params={"metric": "vaccinations", "from": today(), "to": today()})  # fmt: skip
    cell = page.locator(f"#series tr[data-day='{today()}'] td[data-column='vaccinations']")
    expect(cell).to_have_attribute("data-value", str(series.json()["points"][0]["value"]))
    for canvas in page.locator("canvas").all():
        if canvas.is_visible():
            assert (canvas.get_attribute("aria-label") or "").startswith("Wykres")
    screenshot(page, "dashboard")

    # Another day, chosen by keyboard: its figures replace today's.
    yesterday = (date.fromisoformat(today()) - timedelta(days=1)).isoformat()
    page.get_by_label("Dzień").fill(yesterday)
    page.get_by_label("Dzień").press("Enter")
    expect(page.locator("#board")).to_have_attribute("data-day", yesterday)
    expect_figure(page, "vaccinations", summary(api, analyst, yesterday)["vaccinations"])


def unavailable(route: Route) -> None:
    problem = {"title": "Usługa niedostępna", "status": 503, "code": "unavailable"}
    route.fulfill(status=503, content_type="application/problem+json", body=json.dumps(problem))


def test_a_failed_refresh_keeps_the_last_figures_and_says_so(
    page: Page, new_pesel: Callable[..., str], page_problems: PageProblems
) -> None:
    page.clock.install()  # refreshes happen when the test moves the page's clock, so none races the route
    sign_in(page, new_pesel(), refresh_s=5)
    board = page.locator("#board")
    shown = {key: figure(page, key) for key in ("bookings", "vaccinations", "sms_sent")}
    first_update = board.get_attribute("data-updated") or ""

    page.route("**/api/v1/reports/**", unavailable)
    page.clock.run_for(5_000)
    notice = page.locator("#refresh-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Nie udało się odświeżyć danych")
    expect(notice).to_contain_text("Usługa jest chwilowo niedostępna")
    assert board.get_attribute("data-refreshes") == "2"
    assert {key: figure(page, key) for key in shown} == shown
    assert board.get_attribute("data-updated") == first_update
    expect(page.locator("#regions tbody tr")).to_have_count(16)
    assert axe_violations(page) == []
    screenshot(page, "dashboard-refresh-failed")

    page.unroute("**/api/v1/reports/**")
    page.clock.run_for(5_000)  # the next refresh goes through: the notice goes, the figures are new
    expect(notice).to_be_hidden()
    expect(board).not_to_have_attribute("data-updated", first_update)
    # The browser logs each refused request; those were this test's doing, anything else still fails it.
    page_problems.errors = [e for e in page_problems.errors if "status of 503" not in e]


def test_reports_down_from_the_start_are_explained_and_retried(
    page: Page, new_pesel: Callable[..., str], page_problems: PageProblems
) -> None:
    page.route("**/api/v1/reports/**", unavailable)
    sign_in(page, new_pesel(), figures=False)
    notice = page.locator("#refresh-notice")
    expect(notice).to_contain_text("Nie udało się wczytać danych")
    expect(notice).to_contain_text("Spróbujemy ponownie za 1 s")
    assert axe_violations(page) == []
    page.unroute("**/api/v1/reports/**")
    expect(page.locator("#board")).to_have_attribute("data-updated", re.compile(r"^\d{4}-"))
    expect(notice).to_be_hidden()
    page_problems.errors = [e for e in page_problems.errors if "status of 503" not in e]


def test_the_dashboard_on_a_360_px_phone_in_english(phone_page: Page, new_pesel: Callable[..., str]) -> None:
    page = phone_page
    sign_in(page, new_pesel(), refresh_s=30)
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vaccinations – ministry dashboard")
    expect(
        page.get_by_role("table", name=re.compile("^Bookings, vaccinations, no-shows and capacity use by voivodeship"))
    ).to_be_visible()
    expect(page.get_by_role("columnheader", name="Voivodeship")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Last updated: "))).to_be_visible()
    expect(page.locator("#sms-price-note")).to_contain_text("estimate")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_violations(page) == []
    screenshot(page, "dashboard-phone")


def test_an_account_without_the_analyst_role_is_asked_to_sign_in_as_one(
    page: Page, api: Api, new_pesel: Callable[..., str], page_problems: PageProblems
) -> None:
    patient = api.login(new_pesel())
    page.goto("/dashboard/?refresh=30")
    page.evaluate("(login) => sessionStorage.setItem('ereg.session', JSON.stringify(login))", patient)
    page.reload()
    expect(page.get_by_text("To konto nie ma roli analityka")).to_be_visible()
    expect(page.get_by_role("heading", name="Logowanie analityka")).to_be_visible()
    expect(page.locator("#board")).to_be_hidden()
    page_problems.errors = [e for e in page_problems.errors if "status of 403" not in e]


def test_refreshing_pauses_while_the_tab_is_hidden_and_resumes_when_it_is_shown(
    page: Page, new_pesel: Callable[..., str]
) -> None:
    page.clock.install()  # the page's timers run when the test says so
    sign_in(page, new_pesel(), refresh_s=5)
    board = page.locator("#board")
    started = int(board.get_attribute("data-refreshes") or "0")
    page.clock.run_for(5_000)
    expect(board).to_have_attribute("data-refreshes", str(started + 1))
    expect(page.locator("#updated")).to_contain_text("co 5 s")

    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")  # fmt: skip
    expect(page.locator("#updated")).to_contain_text("Odświeżanie wstrzymane")
    page.clock.run_for(60_000)
    assert board.get_attribute("data-refreshes") == str(started + 1)  # a minute hidden: no refresh

    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")  # fmt: skip
    expect(board).to_have_attribute("data-refreshes", str(started + 2))  # at once, without waiting
    expect(page.locator("#updated")).to_contain_text("co 5 s")
