"""The patient app in real Chromium: sign in, find a slot, book (dose 2 too), see the check-in code,
move, cancel; the interest form; refusals in Polish; a 360 px phone; the API slow or down."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, Route, expect

from shared.bootstrap import Container
from shared.domain.booking import Visit
from tests.e2e.browser.conftest import PageProblems, axe_violations, screenshot
from tests.e2e.conftest import Api
from tests.e2e.test_booking import VOIVODESHIPS, book

ADULT = date(1971, 6, 6)


def sign_in(page: Page, pesel: str) -> None:
    page.goto("/")
    expect(page.get_by_label("PESEL")).to_be_focused()
    page.get_by_label("PESEL").fill(pesel)
    page.get_by_label("Imię").fill("Jan")
    page.get_by_label("Nazwisko").fill("Testowy")
    page.get_by_label("Nazwisko").press("Enter")
    expect(page.get_by_role("heading", name="Twoje szczepienie")).to_be_focused()


def patient_id(page: Page) -> str:
    return str(page.evaluate("JSON.parse(sessionStorage.getItem('ereg.session')).patient.patient_id"))


def visits_of(backends: Container, page: Page) -> list[Visit]:
    return sorted(backends.visits.list_for_patient(patient_id(page)).visits, key=lambda v: v.dose)


def search(page: Page, voivodeship: str, vaccine: str | None = None) -> None:
    page.get_by_label("Województwo").select_option(voivodeship)
    if vaccine:
        expect(page.get_by_label("Szczepionka").locator(f"option[value='{vaccine}']")).to_have_count(1)
        page.get_by_label("Szczepionka").select_option(vaccine)
    page.get_by_role("button", name="Szukaj terminów").click()
    expect(page.get_by_role("heading", name="Najbliższe wolne terminy")).to_be_visible()


def region_with(api: Api, vaccine: str) -> str:
    """A voivodeship (TERYT code) with a few free slots of the vaccine, asked of the API."""
    for code in VOIVODESHIPS:
        params = {"voivodeship": code, "vaccine": vaccine, "limit": "3"}
        if len(api.call("GET", "/api/v1/slots", params=params).json()["slots"]) == 3:
            return code
    raise AssertionError(f"no voivodeship has free {vaccine} slots")


def slot_buttons(page: Page, name: str):
    return page.locator("ol.slots").get_by_role("button", name=name)


def test_patient_books_sees_the_code_is_refused_a_second_booking_moves_and_cancels(
    page: Page, api: Api, new_pesel: Callable[..., str], e2e_backends: Container
) -> None:
    region = region_with(api, "comirnaty")
    page.goto("/")
    screenshot(page, "patient-signin")
    sign_in(page, new_pesel(ADULT))
    expect(page.locator("#eligibility-text")).to_have_text("Możesz umówić szczepienie.")
    expect(page.get_by_text("Nie masz umówionych wizyt.")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_label("Numer telefonu komórkowego", exact=True).fill("601 234 567")
    search(page, region, "comirnaty")
    first = slot_buttons(page, "Umów").first
    expect(first).to_be_focused()  # focus goes to the earliest slot
    page.keyboard.press("ArrowDown")  # the results are reachable with the arrow keys
    expect(slot_buttons(page, "Umów").nth(1)).to_be_focused()
    assert axe_violations(page) == []
    screenshot(page, "patient-slots")
    with page.expect_request(lambda r: "page_token=" in r.url):  # the next page, with the API's token
        page.get_by_role("button", name="Pokaż kolejne terminy").click()
    expect(slot_buttons(page, "Umów").nth(10)).to_be_focused()  # the first of the new page

    first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Termin kolejnej dawki zarezerwujemy automatycznie")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Tak, umów").click()
    expect(page.locator("#status")).to_contain_text("Umówiono szczepienie")
    expect(page.locator("#status")).to_contain_text("Dawka 2 umówiona")

    booked = visits_of(e2e_backends, page)
    assert [(v.dose, str(v.status), str(v.channel)) for v in booked] == [(1, "BOOKED", "WEB"), (2, "BOOKED", "WEB")]
    cards = page.locator("ul.visits > li")
    expect(cards).to_have_count(2)
    expect(cards.first.get_by_role("heading")).to_have_text("Dawka 1 · Comirnaty")
    expect(cards.first.locator(".code")).to_have_text(booked[0].check_in_code)
    expect(cards.nth(1).locator(".code")).to_have_text(booked[1].check_in_code)
    assert axe_violations(page) == []
    screenshot(page, "patient-visits")

    # A second dose 1 is refused, in Polish, and nothing changes.
    slot_buttons(page, "Umów").nth(1).click()
    page.get_by_role("dialog").get_by_role("button", name="Tak, umów").click()
    expect(page.locator("#status")).to_have_text("Masz już zarezerwowaną wizytę na tę dawkę.")
    assert [v.visit_id for v in visits_of(e2e_backends, page)] == [v.visit_id for v in booked]
    screenshot(page, "patient-refusal")

    # Move dose 1 to another slot.
    page.get_by_role("button", name="Zmień termin: Dawka 1 · Comirnaty").click()
    expect(page.get_by_role("heading", name="Wybierz nowy termin: dawka 1")).to_be_focused()
    expect(page.get_by_label("Szczepionka")).to_be_disabled()
    page.get_by_role("button", name="Szukaj terminów").click()
    target = slot_buttons(page, "Przenieś tutaj").nth(1)
    expect(target).to_be_visible()
    target.click()
    page.get_by_role("dialog").get_by_role("button", name="Tak, przenieś").click()
    expect(page.locator("#status")).to_contain_text("Wizyta przeniesiona")
    moved = visits_of(e2e_backends, page)[0]
    assert (moved.visit_id, str(moved.status)) == (booked[0].visit_id, "BOOKED")
    assert (moved.point_id, moved.starts_at) != (booked[0].point_id, booked[0].starts_at)
    expect(page.get_by_role("heading", name="Umów szczepienie")).to_be_visible()

    # Cancel: the dialog first says no (Escape), then yes.
    cancel = page.get_by_role("button", name="Odwołaj wizytę: Dawka 1 · Comirnaty")
    cancel.click()
    expect(page.get_by_role("dialog")).to_contain_text("Kolejne dawki z tej serii także zostaną odwołane")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert all(str(v.status) == "BOOKED" for v in visits_of(e2e_backends, page))
    cancel.click()
    page.get_by_role("dialog").get_by_role("button", name="Tak, odwołaj").click()
    expect(page.locator("#status")).to_have_text("Wizyta odwołana.")
    assert {str(v.status) for v in visits_of(e2e_backends, page)} == {"CANCELLED"}
    expect(page.locator("ul.visits > li").first.get_by_text("Odwołana")).to_be_visible()
    expect(page.locator("ul.visits .code")).to_have_count(0)
    expect(page.get_by_role("button", name="Odwołaj wizytę: Dawka 1 · Comirnaty")).to_have_count(0)
    assert axe_violations(page) == []


def test_on_a_360_px_phone_a_patient_books_in_english(
    phone_page: Page, api: Api, new_pesel: Callable[..., str], e2e_backends: Container
) -> None:
    page = phone_page
    region = region_with(api, "comirnaty")
    page.goto("/")
    page.get_by_role("button", name="Switch to English").click()
    page.get_by_label("PESEL").fill(new_pesel(ADULT))
    page.get_by_label("Given name").fill("Jan")
    page.get_by_label("Family name").fill("Testowy")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#eligibility-text")).to_have_text("You can book a vaccination.")
    page.get_by_label("Mobile phone number").fill("+48 601 234 567")
    page.get_by_label("Voivodeship").select_option(region)
    page.get_by_role("button", name="Find times").click()
    page.locator("ol.slots").get_by_role("button", name="Book").first.click()
    page.get_by_role("dialog").get_by_role("button", name="Yes, book").click()
    expect(page.locator("#status")).to_contain_text("Booked for")
    expect(page.locator("ul.visits .code").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the screen
    assert str(visits_of(e2e_backends, page)[0].status) == "BOOKED"
    assert axe_violations(page) == []
    screenshot(page, "patient-phone")
    page.get_by_role("button", name="Polski").click()
    expect(page.get_by_role("heading", name="Moje wizyty")).to_be_visible()
    expect(page.locator("ul.visits > li").first.get_by_text("Umówiona")).to_be_visible()


def test_a_slow_or_failing_api_shows_what_is_going_on(
    page: Page, api: Api, new_pesel: Callable[..., str], page_problems: PageProblems
) -> None:
    page_problems.expect_console_error("status of 503")
    page_problems.expect_console_error("net::ERR_CONNECTION_REFUSED")
    region = region_with(api, "comirnaty")
    sign_in(page, new_pesel(ADULT))

    held: list[Route] = []
    page.route("**/api/v1/slots?*", lambda route: held.append(route))  # the search hangs until the test lets it go
    search_button = page.get_by_role("button", name="Szukaj terminów")
    page.get_by_label("Województwo").select_option(region)
    search_button.click()
    expect(page.locator("#server-notice")).to_have_text(
        "Serwer odpowiada wolniej niż zwykle. Prosimy o chwilę cierpliwości."
    )
    expect(search_button).to_be_disabled()  # one search at a time
    assert axe_violations(page) == []
    screenshot(page, "patient-slow")
    held[0].continue_()
    page.unroute("**/api/v1/slots?*")
    expect(page.locator("#server-notice")).to_be_hidden()
    expect(page.locator("ol.slots > li").first).to_be_visible()

    problem = {"type": "about:blank", "title": "Usługa chwilowo niedostępna", "status": 503, "code": "unavailable"}
    page.route(
        "**/api/v1/slots?*",
        lambda route: route.fulfill(status=503, content_type="application/problem+json", body=json.dumps(problem)),
    )
    search_button.click()
    expect(page.locator("#status")).to_have_text("Usługa jest chwilowo niedostępna. Spróbuj ponownie za chwilę.")
    expect(search_button).to_be_enabled()

    page.route("**/api/v1/visits", lambda route: route.abort("connectionrefused"))
    page.unroute("**/api/v1/slots?*")
    search_button.click()
    expect(page.locator("#status")).to_contain_text("Znaleziono terminów")
    page.locator("ol.slots").get_by_role("button", name="Umów").first.click()
    page.get_by_role("dialog").get_by_role("button", name="Tak, umów").click()
    expect(page.locator("#status")).to_have_text("Nie udało się połączyć z serwerem. Spróbuj ponownie za chwilę.")
    assert axe_violations(page) == []


def _programme(api: Api, token: str) -> tuple[dict[str, Any], str]:
    response = api.call("GET", "/api/v1/admin/programme", token)
    assert response.status_code == 200, response.text
    return {k: v for k, v in response.json().items() if k != "version"}, response.headers["ETag"]


def test_a_patient_whose_group_is_not_open_leaves_a_number(
    page: Page, api: Api, new_pesel: Callable[..., str], new_phone: Callable[[], str], e2e_backends: Container
) -> None:
    admin = api.login(new_pesel(), roles=["admin"])["session_token"]
    current, etag = _programme(api, admin)
    opens = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    # Born 2022 or later: in no cohort of the demo programme (tests/e2e/test_admin.py does the same).
    code = f"kids-{uuid.uuid4().hex[:6]}"
    children = {"code": code, "name": "Dzieci", "birth_year_from": 2022,
                "birth_year_to": 2026, "opens_at": opens.isoformat()}  # fmt: skip
    put = api.call(
        "PUT", "/api/v1/admin/programme", admin, json={**current, "cohorts": [*current["cohorts"], children]},
        headers={"If-Match": etag},
    )  # fmt: skip
    assert put.status_code == 200, put.text
    try:
        sign_in(page, new_pesel(date(2023, 2, 2)))
        expect(page.locator("#eligibility-text")).to_contain_text("Rejestracja dla Twojej grupy rozpocznie się")
        expect(page.get_by_role("heading", name="Umów szczepienie")).to_be_hidden()  # not before the opening
        form = page.locator("#interest-form")
        number = form.get_by_label("Numer telefonu komórkowego do powiadomienia")
        number.fill("22 123 45 67")
        form.get_by_role("button", name="Powiadom mnie").click()
        expect(page.locator("#status")).to_have_text("Podaj polski numer telefonu komórkowego, np. 601 234 567.")
        expect(form.get_by_label("Numer telefonu komórkowego do powiadomienia")).to_have_attribute(
            "aria-invalid", "true"
        )
        expect(form.get_by_label("Numer telefonu komórkowego do powiadomienia")).to_be_focused()
        assert axe_violations(page) == []

        phone = new_phone()
        number.fill(phone)
        form.get_by_role("button", name="Powiadom mnie").click()
        expect(page.get_by_role("status").filter(has_text="Zapisaliśmy numer")).to_contain_text(
            "Wyślemy SMS, gdy ruszy rejestracja grupy „Dzieci”"
        )
        waiting = e2e_backends.interest.store.pending(code, 10)
        assert [(w.patient_id, w.phone) for w in waiting] == [(patient_id(page), phone)]
        assert axe_violations(page) == []
        screenshot(page, "patient-interest")
    finally:  # the host is shared: leave the programme as the other tests know it
        latest = _programme(api, admin)[1]
        api.call("PUT", "/api/v1/admin/programme", admin, json=current, headers={"If-Match": latest})


def test_a_session_ended_elsewhere_brings_back_the_sign_in_with_a_reason(
    page: Page, api: Api, new_pesel: Callable[..., str]
) -> None:
    sign_in(page, new_pesel(ADULT))
    token = page.evaluate("JSON.parse(sessionStorage.getItem('ereg.session')).session_token")
    assert api.call("POST", "/api/v1/logout", token).status_code == 204
    page.reload()  # the app reads the visits with the revoked token
    # Until the app's start-up requests answer, the page shows its static sign-in form: on a busy
    # machine that takes longer than the 5 s default.
    expect(page.locator("#status")).to_have_text("Sesja wygasła. Zaloguj się ponownie.", timeout=20_000)
    expect(page.get_by_role("heading", name="Zaloguj się")).to_be_visible()
    expect(page.get_by_label("PESEL")).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('ereg.session')") is None


def test_a_slot_taken_meanwhile_is_refused_in_polish_and_the_list_is_renewed(
    page: Page, api: Api, new_pesel: Callable[..., str], e2e_backends: Container
) -> None:
    region = region_with(api, "comirnaty")
    sign_in(page, new_pesel(ADULT))
    page.get_by_label("Numer telefonu komórkowego", exact=True).fill("601 234 567")
    search(page, region, "comirnaty")
    params = {"voivodeship": region, "vaccine": "comirnaty", "limit": "1"}
    [earliest] = api.call("GET", "/api/v1/slots", params=params).json()["slots"]
    first = page.locator("ol.slots > li").first
    expect(first).to_contain_text(earliest["point_name"])
    before = first.inner_text()
    for _ in range(earliest["free_places"]):  # other people take every place left
        token = api.login(new_pesel(ADULT))["session_token"]
        assert book(api, token, earliest).status_code == 201

    first.get_by_role("button", name="Umów").click()
    page.get_by_role("dialog").get_by_role("button", name="Tak, umów").click()
    expect(page.locator("#status")).to_have_text("Ten termin właśnie się zapełnił. Wybierz inny.")
    assert visits_of(e2e_backends, page) == []
    expect(first).not_to_have_text(before)  # the list was asked for again: the full slot is gone from it
    [now_first] = api.call("GET", "/api/v1/slots", params=params).json()["slots"]
    expect(first).to_contain_text(now_first["point_name"])
