"""Issue 21 in real Chromium: a sign-in cannot be forced on a tab with someone else's #assertion=...,
and a booking whose answer is lost is retried with the same Idempotency-Key (the original booking)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date

from playwright.sync_api import Page, Route, expect

from shared.bootstrap import Container
from tests.e2e.browser.conftest import PageProblems
from tests.e2e.browser.test_agent import sign_in_as_agent, visits
from tests.e2e.browser.test_patient import ADULT, region_with, search, sign_in, slot_buttons, visits_of
from tests.e2e.conftest import Api

NATIONAL = {"identity": "national", "login_url": "/dev/idp/authorize"}  # the dev IdP as the login node


def as_national(page: Page) -> None:
    page.route("**/config.json", lambda route: route.fulfill(json=NATIONAL))


def signed_in_as(page: Page) -> str | None:
    stored = page.evaluate("sessionStorage.getItem('ereg.session')")
    return None if stored is None else str(json.loads(stored)["patient"]["patient_id"])


def test_a_link_with_someone_elses_assertion_does_not_sign_the_tab_in(
    page: Page, api: Api, new_pesel: Callable[..., str]
) -> None:
    as_national(page)
    logins: list[str] = []
    page.on("request", lambda r: logins.append(r.url) if r.url.endswith("/api/v1/login") else None)
    for state in ("", "&state=guessed-state-value-0123"):
        page.goto("about:blank")  # a link opened afresh (a fragment change alone is no new page)
        page.goto(f"/#assertion={api.assertion(new_pesel(ADULT))}{state}")
        expect(page).to_have_url(re.compile(r"/$"))  # the page read the fragment and cleared it
        page.wait_for_load_state("networkidle")  # whatever the page would send has been sent
        expect(page.get_by_role("heading", name="Zaloguj się")).to_be_visible()
        assert logins == [] and signed_in_as(page) is None


def test_a_sign_in_the_tab_started_comes_back_with_its_state_once(page: Page, new_pesel: Callable[..., str]) -> None:
    as_national(page)
    page.goto("/")
    page.get_by_role("button", name="Zaloguj się").click()
    expect(page).to_have_url(re.compile(r"/dev/idp/authorize\?return_to=.*&state=[A-Za-z0-9_-]{43}$"))
    page.get_by_label("PESEL").fill(new_pesel(ADULT))
    page.get_by_label("Imię").fill("Jan")
    page.get_by_label("Nazwisko").fill("Testowy")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/login")):
        page.get_by_role("button", name="Zaloguj").click()
    expect(page.get_by_role("heading", name="Twoje szczepienie")).to_be_visible()
    assert signed_in_as(page) is not None
    answer = page.url
    assert "#" not in answer  # the assertion left the address bar
    assert page.evaluate("sessionStorage.getItem('ereg.signin.state')") is None  # used up


def _drop_first_answer(page: Page, path: str, dropped: list[int]) -> None:
    """The first POST reaches the server (the booking is made) but its answer never reaches the page."""

    def handle(route: Route) -> None:
        if route.request.method != "POST" or dropped:
            route.continue_()
            return
        answer = route.fetch()
        dropped.append(answer.status)
        route.abort("connectionreset")

    page.route(f"**{path}", handle)


def test_a_booking_whose_answer_is_lost_is_the_same_booking_when_retried(
    page: Page, api: Api, new_pesel: Callable[..., str], e2e_backends: Container, page_problems: PageProblems
) -> None:
    page_problems.expect_console_error("net::ERR_CONNECTION_RESET")
    region = region_with(api, "comirnaty")
    sign_in(page, new_pesel(ADULT))
    keys: list[str] = []
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers["idempotency-key"])
            if r.method == "POST" and r.url.endswith("/api/v1/visits")
            else None
        ),
    )
    dropped: list[int] = []
    _drop_first_answer(page, "/api/v1/visits", dropped)
    page.get_by_label("Numer telefonu komórkowego", exact=True).fill("601 234 567")
    search(page, region, "comirnaty")
    slot = slot_buttons(page, "Umów").first
    slot.click()
    page.get_by_role("dialog").get_by_role("button", name="Tak, umów").click()
    expect(page.locator("#status")).to_have_text("Nie udało się połączyć z serwerem. Spróbuj ponownie za chwilę.")
    assert dropped == [201]  # the server booked it
    slot.click()  # the person tries again
    page.get_by_role("dialog").get_by_role("button", name="Tak, umów").click()
    expect(page.locator("#status")).to_contain_text("Umówiono szczepienie")
    booked = visits_of(e2e_backends, page)
    assert [v.dose for v in booked] == [1, 2]  # one booking (with its second dose), not two, not a refusal
    expect(page.locator("ul.visits > li").first.locator(".code")).to_have_text(booked[0].check_in_code)
    assert len(keys) == 2 and keys[0] == keys[1]


def test_an_agents_booking_whose_answer_is_lost_is_the_same_booking_when_retried(
    page: Page, api: Api, new_pesel: Callable[..., str], e2e_backends: Container, page_problems: PageProblems
) -> None:
    page_problems.expect_console_error("net::ERR_CONNECTION_RESET")
    region = region_with(api, "comirnaty")
    caller_pesel = new_pesel(date(1966, 6, 6))
    caller = api.login(caller_pesel)["patient"]["patient_id"]
    sign_in_as_agent(page, new_pesel())
    page.get_by_label("PESEL dzwoniącego").fill(caller_pesel)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dzwoniący: Jan Testowy")).to_be_visible()
    page.get_by_label("Telefon komórkowy dzwoniącego").fill("601 234 568")
    page.keyboard.press("Enter")
    dropped: list[int] = []
    _drop_first_answer(page, "/api/v1/agent/visits", dropped)
    page.get_by_label("Województwo").select_option(region)
    page.get_by_label("Szczepionka").select_option("comirnaty")
    page.get_by_role("button", name="Szukaj terminów").click()
    slot = page.locator("ol.slots").get_by_role("button", name="Umów").first
    slot.click()
    page.get_by_role("dialog").get_by_role("button", name="Umów", exact=True).click()
    expect(page.locator("#status")).to_have_text("Nie udało się połączyć z serwerem. Spróbuj ponownie za chwilę.")
    assert dropped == [201]
    slot.click()
    page.get_by_role("dialog").get_by_role("button", name="Umów", exact=True).click()
    expect(page.locator("#status")).to_contain_text("Umówiono na")
    assert [v.dose for v in visits(e2e_backends, caller)] == [1, 2]
