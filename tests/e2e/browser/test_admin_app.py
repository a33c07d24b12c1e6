"""The registry app at /admin/ and the point console's staff view in real Chromium, with axe-core."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page, expect

from shared.bootstrap import Container
from tests.e2e.browser.conftest import axe_violations, screenshot
from tests.e2e.conftest import Api


def sign_in_as_admin(page: Page, pesel: str) -> None:
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Logowanie administratora")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("PESEL").fill(pesel)
    page.get_by_label("Imię").fill("Adam")
    page.get_by_label("Nazwisko").fill("Rejestrowy")
    page.get_by_role("button", name="Zaloguj się").click()
    expect(page.locator("#status")).to_contain_text("Zalogowano: Adam Rejestrowy")
    expect(page.get_by_role("heading", name="Punkty szczepień")).to_be_visible()


def confirm(page: Page, button: str) -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_have_count(0)


def test_an_admin_adds_changes_staffs_and_suspends_a_point(
    page: Page, api: Api, new_pesel, e2e_backends: Container
) -> None:
    sign_in_as_admin(page, new_pesel())
    editor = page.locator("#point-form")

    # A bad postal code: the field the server names is marked and focused, nothing is stored.
    editor.get_by_label("Nazwa").fill("Punkt z przeglądarki")
    editor.get_by_label("Ulica i numer").fill("ul. Polna 3")
    editor.get_by_label("Kod pocztowy").fill("00001")
    editor.get_by_label("Miejscowość").fill("Warszawa")
    editor.get_by_label("Gmina (kod TERYT, 7 cyfr)").fill("1465011")
    editor.get_by_label("Szczepionki (kody, oddzielone przecinkami)").fill("comirnaty")
    editor.get_by_role("button", name="Dodaj punkt").click()
    postal = editor.get_by_label("Kod pocztowy")
    expect(postal).to_have_attribute("aria-invalid", "true")
    expect(postal).to_be_focused()
    postal.fill("00-001")
    editor.get_by_role("button", name="Dodaj punkt").click()
    expect(page.locator("#status")).to_contain_text("Dodano punkt Punkt z przeglądarki")
    row = page.locator("#points-list tr", has_text="Punkt z przeglądarki")
    expect(row).to_contain_text("czynny")
    point_id = row.get_attribute("data-point-id")
    assert point_id

    row.get_by_role("button", name="Zmień: Punkt z przeglądarki").click()
    expect(page.get_by_role("heading", name="Zmiana punktu: Punkt z przeglądarki")).to_be_visible()
    editor.get_by_label("Nazwa").fill("Punkt przemianowany")
    editor.get_by_role("button", name="Zapisz zmiany").click()
    expect(page.locator("#status")).to_contain_text("Zapisano zmiany punktu Punkt przemianowany")
    row = page.locator(f'#points-list tr[data-point-id="{point_id}"]')
    expect(row).to_contain_text("Punkt przemianowany")

    # Staff: grant a manager by PESEL, see them listed by name, revoke.
    manager_pesel = new_pesel(date(1979, 9, 9))
    api.login(manager_pesel)  # a patient already: the list knows their names
    row.get_by_role("button", name="Personel: Punkt przemianowany").click()
    staff = page.locator("#staff")
    expect(staff.get_by_role("heading", name="Personel punktu: Punkt przemianowany")).to_be_focused()
    staff.get_by_label("PESEL osoby").fill(manager_pesel)
    staff.get_by_label("Rola").select_option("point_manager")
    staff.get_by_role("button", name="Nadaj uprawnienia").click()
    expect(page.locator("#status")).to_contain_text("Nadano uprawnienia: kierownik")
    member = staff.locator("tbody tr")
    expect(member).to_have_count(1)
    expect(member).to_contain_text("Jan Testowy")
    expect(member).to_contain_text("kierownik")
    assert manager_pesel not in page.content()
    assert axe_violations(page) == []
    screenshot(page, "admin-registry")
    staff.get_by_role("button", name="Odbierz uprawnienia: Jan Testowy").click()
    confirm(page, "Odbierz uprawnienia")
    expect(page.locator("#status")).to_contain_text("Odebrano uprawnienia: Jan Testowy")
    expect(staff.locator("tbody tr")).to_have_count(0)

    row.get_by_role("button", name="Zawieś: Punkt przemianowany").click()
    confirm(page, "Zawieś")
    expect(page.locator("#status")).to_contain_text("Zawieszono punkt Punkt przemianowany")
    expect(row).to_contain_text("zawieszony")
    stored = e2e_backends.points_store.get(point_id)
    assert stored is not None and not stored.point.active and stored.point.name == "Punkt przemianowany"
    row.get_by_role("button", name="Przywróć: Punkt przemianowany").click()
    expect(row).to_contain_text("czynny")
    assert axe_violations(page) == []


def test_a_point_manager_manages_staff_in_the_point_console_and_point_staff_are_not_offered_it(
    page: Page, api: Api, new_pesel
) -> None:
    admin = api.login(new_pesel(), roles=["admin"])["session_token"]
    body = {"name": "Punkt kierownika", "address": {"street": "ul. Krótka 2", "postal_code": "00-002",
            "city": "Warszawa"}, "municipality": "1465011", "vaccines": ["comirnaty"]}  # fmt: skip
    point_id = api.call("POST", "/api/v1/admin/points", admin, json=body).json()["point_id"]
    manager_pesel = new_pesel(date(1977, 7, 7))
    granted = api.call("POST", f"/api/v1/points/{point_id}/staff", admin,
                       json={"pesel": manager_pesel, "role": "point_manager"})  # fmt: skip
    assert granted.status_code == 201, granted.text

    page.goto("/point/")
    page.get_by_label("PESEL").fill(manager_pesel)
    page.get_by_label("Imię").fill("Maria")
    page.get_by_label("Nazwisko").fill("Kierownik")
    page.get_by_label("Identyfikatory punktów").fill(point_id)
    page.get_by_role("button", name="Zaloguj się").click()
    expect(page.get_by_role("heading", name="Lista dnia")).to_be_visible()
    page.get_by_role("link", name="Personel").click()
    heading = page.get_by_role("heading", name="Personel punktu:")
    expect(heading).to_be_visible()
    nurse = new_pesel(date(1990, 1, 1))
    page.get_by_label("PESEL osoby").fill(nurse)
    page.get_by_role("button", name="Nadaj uprawnienia").click()
    expect(page.locator("#status")).to_contain_text("Nadano uprawnienia: personel")
    expect(page.locator(".staff-table tbody tr")).to_have_count(2)  # the manager and the new nurse
    assert axe_violations(page) == []

    # The nurse signs in: the registry makes them staff here, and they are not offered staff management.
    page.get_by_role("button", name="Wyloguj").click()
    page.get_by_label("PESEL", exact=True).fill(nurse)
    page.get_by_label("Imię").fill("Ola")
    page.get_by_label("Nazwisko").fill("Pielęgniarka")
    page.get_by_label("Identyfikatory punktów").fill(point_id)
    page.get_by_role("button", name="Zaloguj się").click()
    expect(page.get_by_role("heading", name="Lista dnia")).to_be_visible()
    expect(page.get_by_role("link", name="Personel")).to_be_hidden()
