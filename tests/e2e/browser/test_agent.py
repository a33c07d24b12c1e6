"""The call-centre console in real Chromium, by keyboard only: an agent finds a caller by PESEL and
books, moves and cancels for them; the effects are checked in the backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from playwright.sync_api import Page, expect

from shared.bootstrap import Container
from shared.domain.booking import Visit
from tests.e2e.browser.conftest import axe_violations, screenshot
from tests.e2e.browser.test_patient import region_with
from tests.e2e.conftest import Api
from tests.e2e.test_booking import VOIVODESHIPS


def sign_in_as_agent(page: Page, pesel: str) -> None:
    page.goto("/agent/")
    expect(page.get_by_label("PESEL", exact=True)).to_be_focused()
    page.keyboard.type(pesel)
    page.keyboard.press("Tab")
    page.keyboard.type("Ewa")
    page.keyboard.press("Tab")
    page.keyboard.type("Konsultantka")
    page.keyboard.press("Enter")
    expect(page.get_by_label("PESEL dzwoniącego")).to_be_focused()


def visits(backends: Container, patient_id: str) -> list[Visit]:
    return sorted(backends.visits.list_for_patient(patient_id).visits, key=lambda v: v.dose)


def test_an_agent_books_moves_and_cancels_for_a_caller_by_keyboard_only(
    page: Page, api: Api, new_pesel: Callable[..., str], e2e_backends: Container
) -> None:
    region = region_with(api, "comirnaty")
    caller_pesel = new_pesel(date(1965, 9, 9))
    caller = api.login(caller_pesel)["patient"]["patient_id"]
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto("/agent/")
    assert axe_violations(page) == []
    screenshot(page, "agent-signin")
    sign_in_as_agent(page, new_pesel())
    expect(page.get_by_text("Alt+N")).to_be_visible()  # the shortcuts are on screen
    assert axe_violations(page) == []

    # A PESEL that is nobody's: said plainly, the field ready for another try.
    page.keyboard.type(new_pesel(date(1950, 1, 1)))
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Nie znaleziono pacjenta o tym numerze PESEL.")
    expect(page.get_by_label("PESEL dzwoniącego")).to_be_focused()

    page.keyboard.type(caller_pesel)  # the old number is selected, so this replaces it
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dzwoniący: Jan Testowy")).to_be_visible()
    expect(page.get_by_text("brak: zapytaj o numer")).to_be_visible()
    phone = page.get_by_label("Telefon komórkowy dzwoniącego")
    expect(phone).to_be_focused()  # no number on file: that comes first
    page.keyboard.type("601 234 567")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Województwo")).to_be_focused()
    for _ in range(VOIVODESHIPS.index(region) + 1):
        page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Województwo")).to_have_value(region)
    expect(page.get_by_label("Szczepionka").locator("option[value='comirnaty']")).to_have_count(1)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("Comirnaty")  # a select takes the typed option
    expect(page.get_by_label("Szczepionka")).to_have_value("comirnaty")
    page.keyboard.press("Enter")
    first = page.locator("ol.slots").get_by_role("button", name="Umów").first
    expect(first).to_be_focused()
    assert axe_violations(page) == []
    screenshot(page, "agent-caller")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Umówić dzwoniącemu Jan Testowy szczepienie (Comirnaty)")
    expect(dialog.get_by_role("button", name="Umów")).to_be_focused()  # Enter goes ahead
    assert axe_violations(page) == []
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Umówiono na")
    booked = visits(e2e_backends, caller)
    assert [(v.dose, str(v.status), str(v.channel)) for v in booked] == [
        (1, "BOOKED", "CALL_CENTRE"),
        (2, "BOOKED", "CALL_CENTRE"),
    ]
    move_dose_1 = page.get_by_role("button", name="Przenieś: dawka 1")
    expect(move_dose_1).to_be_focused()  # the new visit's first action
    expect(page.locator("#caller-visits tbody tr")).to_have_count(2)
    expect(page.locator("#caller-visits")).not_to_contain_text(booked[0].check_in_code)  # only the patient's
    assert axe_violations(page) == []
    screenshot(page, "agent-booked")

    # Move dose 1: Enter on the visit, Enter to search the same region, the second time, Enter twice.
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Przenieś wizytę: dawka 1")).to_be_visible()
    expect(page.get_by_role("button", name="Szukaj terminów")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("ol.slots").get_by_role("button", name="Przenieś tutaj").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_contain_text("Przenieść wizytę (dawka 1)")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Wizyta przeniesiona")
    moved = visits(e2e_backends, caller)[0]
    assert moved.visit_id == booked[0].visit_id
    assert (moved.point_id, moved.starts_at) != (booked[0].point_id, booked[0].starts_at)

    # Cancel: Alt+W to the visits, Tab to "Odwołaj"; the question starts on "Nie, zostaw".
    page.keyboard.press("Alt+KeyW")
    expect(page.get_by_role("button", name="Przenieś: dawka 1")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Odwołaj: dawka 1")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Nie, zostaw")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Wizyta odwołana.")
    assert {str(v.status) for v in visits(e2e_backends, caller)} == {"CANCELLED"}
    expect(page.locator("#caller-visits button")).to_have_count(0)
    assert axe_violations(page) == []

    # Alt+N: the next caller, from an empty PESEL field.
    page.keyboard.press("Alt+KeyN")
    expect(page.get_by_label("PESEL dzwoniącego")).to_be_focused()
    expect(page.get_by_label("PESEL dzwoniącego")).to_have_value("")
    expect(page.locator("#caller")).to_be_hidden()
    assert not [url for url in urls if caller_pesel in url]  # the PESEL travels in bodies, never in a URL


def test_the_console_is_for_agents_and_names_a_bad_pesel(page: Page, new_pesel: Callable[..., str]) -> None:
    sign_in_as_agent(page, new_pesel())
    page.keyboard.type("12345678901")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Nieprawidłowy numer PESEL. Sprawdź wszystkie 11 cyfr.")
    expect(page.get_by_label("PESEL dzwoniącego")).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("heading", name="Find a caller")).to_be_visible()
    assert axe_violations(page) == []


def test_the_console_fits_a_360_px_screen(phone_page: Page, api: Api, new_pesel: Callable[..., str]) -> None:
    caller_pesel = new_pesel(date(1958, 2, 2))
    api.login(caller_pesel)
    sign_in_as_agent(phone_page, new_pesel())
    phone_page.keyboard.type(caller_pesel)
    phone_page.keyboard.press("Enter")
    expect(phone_page.get_by_role("heading", name="Dzwoniący: Jan Testowy")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_violations(phone_page) == []
    screenshot(phone_page, "agent-phone")


def test_an_agent_registers_a_new_caller_and_books_a_landline_caller_with_a_read_back(
    page: Page, api: Api, new_pesel: Callable[..., str], e2e_backends: Container
) -> None:
    region = region_with(api, "jcovden")
    sign_in_as_agent(page, new_pesel())
    caller_pesel = new_pesel(date(1948, 8, 18))
    page.keyboard.type(caller_pesel)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dzwoniącego nie ma w systemie: zarejestruj go")).to_be_visible()
    expect(page.get_by_label("PESEL dzwoniącego")).to_be_focused()
    assert axe_violations(page) == []
    registration = page.locator("#register-form")
    registration.get_by_label("Imię").fill("Halina")
    registration.get_by_label("Nazwisko").fill("Nowa")
    page.get_by_role("button", name="Zarejestruj dzwoniącego").click()
    expect(page.get_by_role("heading", name="Dzwoniący: Halina Nowa")).to_be_visible()
    expect(page.get_by_text("tak, grupa jest otwarta")).to_be_visible()
    page.get_by_label("Telefon stacjonarny (gdy dzwoniący nie ma komórki)").fill("22 123 45 67")
    page.get_by_label("Województwo").select_option(region)
    page.get_by_label("Szczepionka").select_option("jcovden")
    page.get_by_role("button", name="Szukaj terminów").click()
    page.locator("ol.slots").get_by_role("button", name="Umów").first.click()
    page.get_by_role("dialog").get_by_role("button", name="Umów").click()
    read_back = page.locator("#read-back")
    expect(read_back).to_contain_text("Bez SMS-a. Odczytaj dzwoniącemu: Dawka 1:")
    assert axe_violations(page) == []
    screenshot(page, "agent-landline")
    patient, _ = e2e_backends.patients.lookup(caller_pesel)
    assert patient is not None and patient.phone is None and (patient.given_name, patient.family_name) == (
        "Halina", "Nowa"
    )  # fmt: skip
    assert [str(v.status) for v in visits(e2e_backends, patient.patient_id)] == ["BOOKED"]
