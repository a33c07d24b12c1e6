"""The vaccination point console in real Chromium: schedule and stock, the day list, vaccinating by the
check-in code and lot, no-shows, walk-ins; on a phone; with the API slow or down."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from google.cloud.spanner_v1 import param_types
from playwright.sync_api import Page, Route, expect

from emulators.seed import SLOT_COLUMNS
from shared.bootstrap import Container
from shared.domain.booking import WARSAW, Channel
from shared.services.visits import BookingRequest
from tests.e2e.browser.conftest import PageProblems, axe_violations, screenshot
from tests.e2e.conftest import Api
from tests.e2e.test_point_day import new_point, today_block
from tests.integration.conftest import visit_service

LOT = "FK-1234"
ADDRESS = "Punkt Szczepień e2e, ul. Próżna 7, 00-107 Warszawa"  # new_point's


def sign_in(page: Page, pesel: str, point_ids: list[str], manager: bool = False) -> None:
    page.goto("/point/")
    expect(page.get_by_role("heading", name="Logowanie personelu punktu")).to_be_visible()
    if manager:
        page.get_by_label("Kierownik punktu").check()
    page.get_by_label("PESEL").fill(pesel)
    page.get_by_label("Imię").fill("Ewa")
    page.get_by_label("Nazwisko").fill("Lekarz")
    page.get_by_label("Identyfikatory punktów").fill(", ".join(point_ids))
    page.get_by_role("button", name="Zaloguj się").click()
    expect(page.locator("#status")).to_contain_text("Zalogowano: Ewa Lekarz")
    expect(page.get_by_role("heading", name="Lista dnia")).to_be_visible()


def confirm(page: Page, button: str) -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_have_count(0)


def staff_token(api: Api, new_pesel, point_id: str) -> str:
    return str(api.login(new_pesel(date(1975, 3, 3)), roles=["point_staff"], point_ids=[point_id])["session_token"])


def point_open_today(api: Api, new_pesel, e2e_backends: Container) -> tuple[str, str, list[dict[str, Any]]]:
    """A point with a delivery of lot LOT, today's block from the next five-minute mark and one in three weeks.

    Returns the point, a staff token and today's slots."""
    point_id = new_point(e2e_backends)
    staff = staff_token(api, new_pesel, point_id)
    delivery = {"vaccine": "comirnaty", "doses": 50, "lot": LOT}
    assert api.call("POST", f"/api/v1/points/{point_id}/deliveries", staff, json=delivery).status_code == 201
    day, start, end = today_block()
    block = {"day": day, "from": start, "to": end, "slot_minutes": 5, "places": 2, "vaccine": "comirnaty"}
    in_three_weeks = (date.fromisoformat(day) + timedelta(days=21)).isoformat()  # for the second doses
    later = {**block, "day": in_three_weeks, "from": "08:00", "to": "09:00", "slot_minutes": 30}
    published = api.call("PUT", f"/api/v1/points/{point_id}/schedule", staff, json={"blocks": [block, later]})
    assert published.status_code == 200, published.text
    slots = api.call("GET", f"/api/v1/points/{point_id}/schedule", staff, params={"from": day, "to": day}).json()
    return point_id, staff, slots["slots"]


def book(api: Api, pesel: str, point_id: str, starts_at: str, phone: str) -> tuple[str, dict[str, Any]]:
    token = str(api.login(pesel)["session_token"])
    body = {"point_id": point_id, "starts_at": starts_at, "vaccine": "comirnaty", "phone": phone}
    booked = api.call("POST", "/api/v1/visits", token, headers={"Idempotency-Key": str(uuid.uuid4())}, json=body)
    assert booked.status_code == 201, booked.text
    return token, booked.json()["visits"][0]


def shoot(page: Page, name: str) -> None:
    """A screenshot from the top of the page (the status line is sticky: scrolled, it covers what is under it)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def hhmm(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(WARSAW).strftime("%H:%M")


def test_staff_publishes_and_edits_a_day_and_records_a_delivery(
    page: Page, api: Api, new_pesel, new_phone, e2e_backends: Container
) -> None:
    point_id, other_point = new_point(e2e_backends), new_point(e2e_backends)
    sign_in(page, new_pesel(date(1974, 4, 4)), [other_point, point_id])
    choice = page.get_by_label("Punkt", exact=True)
    expect(choice.locator(f"option[value='{point_id}']")).to_have_text(ADDRESS)  # named once the stock answers
    choice.select_option(point_id)
    page.get_by_role("link", name="Harmonogram i zapasy").click()
    expect(page.get_by_role("heading", name="Zapasy szczepionek")).to_be_visible()
    stock = page.locator("table.stock")
    expect(stock.locator("tr[data-vaccine='comirnaty'] td").nth(2)).to_have_text("0")
    expect(page.get_by_text("Brak opublikowanych terminów w tych dniach.")).to_be_visible()
    assert axe_violations(page) == []

    # Over the stock: the Polish refusal, and nothing is published.
    tomorrow = (datetime.now(UTC).astimezone(WARSAW).date() + timedelta(days=1)).isoformat()
    editor = page.locator("#schedule-form")
    expect(editor.get_by_label("Dzień", exact=True)).to_have_value(tomorrow)
    editor.get_by_label("Od godziny").fill("08:00")
    editor.get_by_label("Do godziny").fill("10:00")
    editor.get_by_label("Co ile minut").fill("30")
    editor.get_by_label("Miejsc na termin").fill("3")
    editor.get_by_label("Szczepionka").select_option("comirnaty")
    editor.get_by_role("button", name="Opublikuj").click()
    confirm(page, "Opublikuj")
    expect(page.locator("#status")).to_contain_text("Opublikowanych miejsc byłoby więcej niż dawek w punkcie")

    # A delivery, then the same block goes out.
    delivery = page.locator("#delivery-form")
    delivery.get_by_label("Szczepionka").select_option("comirnaty")
    delivery.get_by_label("Liczba dawek").fill("100")
    delivery.get_by_label("Numer partii").fill(LOT)
    delivery.get_by_role("button", name="Zarejestruj dostawę").click()
    confirm(page, "Zarejestruj dostawę")
    expect(page.locator("#status")).to_contain_text("Zarejestrowano dostawę: 100 dawek")
    expect(stock.locator("tr[data-vaccine='comirnaty'] td").nth(2)).to_have_text("100")
    editor.get_by_role("button", name="Opublikuj").click()
    confirm(page, "Opublikuj")
    expect(page.locator("#status")).to_contain_text("nowe terminy 4, zmienione 0, usunięte 0")
    day = page.locator(f"li[data-day='{tomorrow}']")
    expect(day).to_contain_text("08:00–10:00, co 30 min, 3 miejsc na termin, Comirnaty")
    expect(day).to_contain_text("4 terminów, zajęte 0 z 12 miejsc")
    expect(stock.locator("tr[data-vaccine='comirnaty'] td").nth(4)).to_have_text("12")
    assert axe_violations(page) == []
    shoot(page, "point-schedule")

    # Edit the day: fewer places, and a second block of the other vaccine.
    day.get_by_role("button", name=re.compile("^Edytuj")).click()
    expect(editor.get_by_label("Miejsc na termin")).to_have_value("3")
    editor.get_by_label("Miejsc na termin").fill("2")
    editor.get_by_role("button", name="Dodaj blok").click()
    second = editor.locator("fieldset.block").nth(1)
    second.get_by_label("Od godziny").fill("12:00")
    second.get_by_label("Do godziny").fill("13:00")
    second.get_by_label("Szczepionka").select_option("jcovden")
    delivery.get_by_label("Szczepionka").select_option("jcovden")
    delivery.get_by_label("Liczba dawek").fill("20")
    delivery.get_by_label("Numer partii").fill("JC-1")
    delivery.get_by_role("button", name="Zarejestruj dostawę").click()
    confirm(page, "Zarejestruj dostawę")
    expect(page.locator("#status")).to_contain_text("Zarejestrowano dostawę: 20 dawek")
    editor.get_by_role("button", name="Opublikuj").click()
    confirm(page, "Opublikuj")
    expect(page.locator("#status")).to_contain_text("nowe terminy 4, zmienione 4, usunięte 0")
    expect(day).to_contain_text("08:00–10:00, co 30 min, 2 miejsc na termin, Comirnaty")
    expect(day).to_contain_text("12:00–13:00, co 15 min, 2 miejsc na termin, Jcovden")

    # A time with a visit cannot go: the refusal names it, and nothing changes.
    staff = staff_token(api, new_pesel, point_id)
    eight = next(s for s in api.call("GET", f"/api/v1/points/{point_id}/schedule", staff,
                                     params={"from": tomorrow, "to": tomorrow}).json()["slots"]
                 if hhmm(s["starts_at"]) == "08:00")  # fmt: skip
    book(api, new_pesel(date(1963, 3, 3)), point_id, eight["starts_at"], new_phone())
    day.get_by_role("button", name=re.compile("^Edytuj")).click()
    editor.locator("fieldset.block").nth(0).get_by_label("Od godziny").fill("08:30")
    editor.get_by_role("button", name="Opublikuj").click()
    confirm(page, "Opublikuj")
    expect(page.locator("#status")).to_have_text(
        "Nie można usunąć ani zmniejszyć terminów, na które są umówione wizyty. "
        "Terminy z wizytami: 08:00 Comirnaty (Pfizer-BioNTech) (1)."
    )
    expect(day).to_contain_text("08:00–10:00, co 30 min, 2 miejsc na termin, Comirnaty")

    # The same screen in English.
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("heading", name="Vaccine stock")).to_be_visible()
    expect(day).to_contain_text("08:00–10:00, every 30 min, 2 places per time, Comirnaty")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Przełącz na język polski").click()
    expect(page.get_by_role("heading", name="Zapasy szczepionek")).to_be_visible()

    slots = api.call("GET", f"/api/v1/points/{point_id}/schedule", staff,
                     params={"from": tomorrow, "to": tomorrow}).json()["slots"]  # fmt: skip
    assert sorted((hhmm(s["starts_at"]), s["vaccine"], s["places"]) for s in slots) == [
        ("08:00", "comirnaty", 2), ("08:30", "comirnaty", 2), ("09:00", "comirnaty", 2), ("09:30", "comirnaty", 2),
        ("12:00", "jcovden", 2), ("12:15", "jcovden", 2), ("12:30", "jcovden", 2), ("12:45", "jcovden", 2),
    ]  # fmt: skip


def test_nurse_vaccinates_a_booked_patient_by_check_in_code_and_lot(
    page: Page, api: Api, new_pesel, new_phone, e2e_backends: Container
) -> None:
    point_id, staff, slots = point_open_today(api, new_pesel, e2e_backends)
    patient, visit = book(api, new_pesel(date(1966, 6, 6)), point_id, slots[0]["starts_at"], new_phone())
    sign_in(page, new_pesel(date(1973, 3, 3)), [point_id])
    expect(page.locator("#point-current")).to_have_text(ADDRESS)
    row = page.locator(f"tr[data-visit-id='{visit['visit_id']}']")
    expect(row).to_contain_text("Jan Testowy")
    expect(row).to_contain_text("Umówiona")
    expect(page.locator("#day-summary")).to_contain_text("Umówione: 1, zrealizowane: 0")
    assert axe_violations(page) == []

    # A lot never delivered here: the Polish refusal, the lot field marked.
    row.get_by_role("button", name=f"Szczepienie: Jan Testowy, {hhmm(visit['starts_at'])}").click()
    form = page.locator("#vaccination-form")
    code = form.get_by_label("Kod z SMS-a (4 cyfry)")
    lot = form.get_by_label("Numer partii szczepionki")
    expect(code).to_be_focused()
    code.fill(visit["check_in_code"])
    lot.fill("XX-999")
    form.get_by_role("button", name="Zarejestruj szczepienie").click()
    confirm(page, "Zarejestruj")
    expect(page.locator("#status")).to_have_text(
        "Ta partia szczepionki nie została dostarczona do punktu. Sprawdź numer partii."
    )
    expect(lot).to_have_attribute("aria-invalid", "true")
    expect(lot).to_be_focused()

    # A wrong code: the Polish refusal with the tries left, the code field marked.
    code.fill(f"{(int(visit['check_in_code']) + 1) % 10_000:04d}")
    lot.fill(LOT)
    form.get_by_role("button", name="Zarejestruj szczepienie").click()
    confirm(page, "Zarejestruj")
    expect(page.locator("#status")).to_have_text(
        "Nieprawidłowy kod z SMS-a. Poproś pacjenta o kod z wiadomości i wpisz go ponownie. Pozostałe próby: 4."
    )
    expect(code).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []

    # The right code, by keyboard only: the refusal left the focus in the code field; Enter submits; in the
    # confirmation the safe choice (Anuluj) has the focus, Tab moves to the confirming button.
    expect(code).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(visit["check_in_code"])
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Anuluj")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Zarejestruj")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("Zarejestrowano szczepienie: Jan Testowy, dawka 1, partia FK-1234.")
    expect(page.locator("#status")).to_contain_text("Następna dawka:")
    expect(row).to_contain_text("Zrealizowana")
    expect(row.get_by_role("button")).to_have_count(0)
    shoot(page, "point-day")

    # After five wrong codes the visit's code is locked: the console says what to do.
    other, locked = book(api, new_pesel(date(1966, 7, 7)), point_id, slots[1]["starts_at"], new_phone())
    wrong = {"lot": LOT, "check_in_code": f"{(int(locked['check_in_code']) + 1) % 10_000:04d}"}
    for _ in range(5):
        tried = api.call("POST", f"/api/v1/visits/{locked['visit_id']}/vaccination", staff, json=wrong)
        assert tried.json()["code"] == "wrong_check_in_code"
    page.get_by_role("button", name="Pokaż").click()
    page.locator(f"tr[data-visit-id='{locked['visit_id']}']").get_by_role("button", name=re.compile("^Szczep")).click()
    code.fill(locked["check_in_code"])
    form.get_by_role("button", name="Zarejestruj szczepienie").click()
    confirm(page, "Zarejestruj")
    expect(page.locator("#status")).to_contain_text("Zbyt wiele błędnych kodów dla tej wizyty: kod jest zablokowany.")
    assert {v["visit_id"]: v["status"] for v in api.call("GET", "/api/v1/visits", other).json()["visits"]}[
        locked["visit_id"]
    ] == "BOOKED"

    mine = api.call("GET", "/api/v1/visits", patient).json()["visits"]
    assert {v["visit_id"]: v["status"] for v in mine}[visit["visit_id"]] == "COMPLETED"
    stock = api.call("GET", f"/api/v1/points/{point_id}/stock", staff).json()["stock"]
    assert next(s for s in stock if s["vaccine"] == "comirnaty")["administered"] == 1
    with e2e_backends.spanner.snapshot() as snapshot:
        recorded = list(snapshot.execute_sql(
            "SELECT Lot, Dose, PointId FROM Vaccinations WHERE VisitId = @v",
            params={"v": visit["visit_id"]}, param_types={"v": param_types.STRING},
        ))  # fmt: skip
    assert recorded == [[LOT, 1, point_id]]


def test_no_show_and_a_walk_in_at_the_earliest_time(
    page: Page, api: Api, new_pesel, new_phone, e2e_backends: Container
) -> None:
    point_id, _staff, slots = point_open_today(api, new_pesel, e2e_backends)
    # A patient booked earlier today whose time has come: a no-show is possible.
    started = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    assert started.astimezone(WARSAW).date() == datetime.now(UTC).astimezone(WARSAW).date(), "run after 00:02"
    add_slot(e2e_backends, point_id, started)
    late = api.login(new_pesel(date(1964, 4, 4)))
    missed = visit_service(e2e_backends).book(
        late["patient"]["patient_id"], BookingRequest(point_id, started, "comirnaty", new_phone()),
        Channel.WEB, started - timedelta(hours=1),
    ).visits[0]  # fmt: skip
    sign_in(page, new_pesel(date(1972, 2, 2)), [point_id])
    row = page.locator(f"tr[data-visit-id='{missed.visit_id}']")
    expect(row).to_contain_text("Umówiona")
    row.get_by_role("button", name=re.compile("^Nieobecność")).click()
    confirm(page, "Oznacz nieobecność")
    expect(page.locator("#status")).to_contain_text("Oznaczono nieobecność: Jan Testowy")
    expect(row).to_contain_text("Nieodbyta")
    visits = api.call("GET", "/api/v1/visits", late["session_token"]).json()["visits"]
    assert {v["visit_id"]: v["status"] for v in visits}[missed.visit_id] == "NO_SHOW"

    # A walk-in unknown to the registry, booked at the earliest free time, then vaccinated at once.
    walk_in = new_pesel(date(1958, 8, 8))
    form = page.locator("#walkin-form")
    form.get_by_label("PESEL pacjenta").fill(walk_in)
    form.get_by_label("Szczepionka").select_option("comirnaty")
    form.get_by_label("Imię (gdy pacjenta nie ma w rejestrze)").fill("Zofia")
    form.get_by_label("Nazwisko (gdy pacjenta nie ma w rejestrze)").fill("Wolska")
    form.get_by_role("button", name="Umów na najbliższy termin").click()
    expect(page.locator("#status")).to_contain_text("Umówiono:")
    walk_row = page.locator("tr", has_text="Zofia Wolska")
    expect(walk_row).to_contain_text(hhmm(slots[0]["starts_at"]))
    expect(walk_row).to_contain_text("Umówiona")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Zarejestruj szczepienie tej wizyty").click()
    vaccination = page.locator("#vaccination-form")
    expect(vaccination.get_by_label("Kod z SMS-a (4 cyfry)")).to_have_value(re.compile(r"^\d{4}$"))
    expect(vaccination.get_by_label("Numer partii szczepionki")).to_be_focused()
    vaccination.get_by_label("Numer partii szczepionki").fill(LOT)
    vaccination.get_by_role("button", name="Zarejestruj szczepienie").click()
    confirm(page, "Zarejestruj")
    expect(walk_row).to_contain_text("Zrealizowana")

    walked = api.login(walk_in)
    series = api.call("GET", "/api/v1/visits", walked["session_token"]).json()["visits"]
    dose1 = next(v for v in series if v["dose"] == 1)
    assert (dose1["starts_at"], dose1["channel"], dose1["status"]) == (slots[0]["starts_at"], "POINT", "COMPLETED")


def add_slot(container: Container, point_id: str, starts_at: datetime) -> None:
    with container.spanner.batch() as batch:
        batch.insert("Slots", columns=SLOT_COLUMNS,
                     values=[(point_id, starts_at, "comirnaty", 2, 0, "14", "1465", "1465011", True)])  # fmt: skip


def test_a_nurse_on_a_phone_vaccinates_from_the_day_list(
    phone_page: Page, api: Api, new_pesel, new_phone, e2e_backends: Container
) -> None:
    page = phone_page
    point_id, _staff, slots = point_open_today(api, new_pesel, e2e_backends)
    patient, visit = book(api, new_pesel(date(1967, 7, 7)), point_id, slots[1]["starts_at"], new_phone())
    sign_in(page, new_pesel(date(1971, 1, 1)), [point_id])
    row = page.locator(f"tr[data-visit-id='{visit['visit_id']}']")
    # Stacked into a card: each cell is read with its column's name.
    expect(row.get_by_role("cell", name=f"Godzina: {hhmm(visit['starts_at'])}")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations(page) == []
    shoot(page, "point-phone-day")
    row.get_by_role("button", name=re.compile("^Szczepienie")).tap()
    form = page.locator("#vaccination-form")
    form.get_by_label("Kod z SMS-a (4 cyfry)").fill(visit["check_in_code"])
    form.get_by_label("Numer partii szczepionki").fill(LOT)
    form.get_by_role("button", name="Zarejestruj szczepienie").tap()
    confirm(page, "Zarejestruj")
    expect(row).to_contain_text("Zrealizowana")
    expect(page.locator("#status")).to_contain_text("Zarejestrowano szczepienie")
    expect(page.locator("#status")).to_be_in_viewport()  # down by the form, the outcome is in sight
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    mine = api.call("GET", "/api/v1/visits", patient).json()["visits"]
    assert {v["visit_id"]: v["status"] for v in mine}[visit["visit_id"]] == "COMPLETED"
    page.get_by_role("link", name="Harmonogram i zapasy").tap()
    comirnaty = page.locator("table.stock tr[data-vaccine='comirnaty']")
    expect(comirnaty.get_by_role("cell", name="Podane: 1")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations(page) == []
    shoot(page, "point-phone-schedule")


def test_the_console_says_what_happens_when_the_api_is_down_or_slow(
    page: Page, page_problems: PageProblems, api: Api, new_pesel, new_phone, e2e_backends: Container
) -> None:
    page_problems.expect_console_error("net::ERR_CONNECTION_REFUSED")
    page_problems.expect_console_error("the server responded with a status of 503")
    point_id, _staff, slots = point_open_today(api, new_pesel, e2e_backends)
    _patient, visit = book(api, new_pesel(date(1965, 5, 5)), point_id, slots[0]["starts_at"], new_phone())
    sign_in(page, new_pesel(date(1970, 10, 10)), [point_id])
    row = page.locator(f"tr[data-visit-id='{visit['visit_id']}']")
    expect(row).to_contain_text("Umówiona")

    # Down: the list stays, a Polish alert says so and offers to try again.
    page.route("**/api/v1/points/*/visits?*", lambda route: route.abort("connectionrefused"))
    page.get_by_role("button", name="Pokaż").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nie udało się wczytać danych. Nie udało się połączyć z serwerem.")
    expect(row).to_be_visible()
    assert axe_violations(page) == []
    page.unroute("**/api/v1/points/*/visits?*")
    alert.get_by_role("button", name="Spróbuj ponownie").click()
    expect(alert).to_have_count(0)
    expect(row).to_contain_text("Umówiona")

    # A 503 on an action: the refusal in Polish, nothing marked done.
    page.route("**/api/v1/visits/*/vaccination", lambda route: route.fulfill(
        status=503, content_type="application/problem+json", body='{"code": "unavailable", "title": "x"}'))  # fmt: skip
    row.get_by_role("button", name=re.compile("^Szczepienie")).click()
    form = page.locator("#vaccination-form")
    form.get_by_label("Kod z SMS-a (4 cyfry)").fill(visit["check_in_code"])
    form.get_by_label("Numer partii szczepionki").fill(LOT)
    form.get_by_role("button", name="Zarejestruj szczepienie").click()
    confirm(page, "Zarejestruj")
    expect(page.locator("#status")).to_have_text("Usługa jest chwilowo niedostępna. Spróbuj ponownie za chwilę.")
    expect(row).to_contain_text("Umówiona")

    # Slow: the notice appears while the answer is held back, and goes when it comes.
    held: list[Route] = []
    page.route("**/api/v1/points/*/visits?*", lambda route: held.append(route))
    page.get_by_role("button", name="Pokaż").click()
    notice = page.locator("#server-notice")
    expect(notice).to_have_text("Serwer odpowiada wolniej niż zwykle. Prosimy o chwilę cierpliwości.")
    assert len(held) == 1
    held[0].continue_()
    expect(notice).to_be_hidden()
    expect(row).to_contain_text("Umówiona")


def test_a_manager_searches_the_day_by_surname_and_cancels_the_day(
    page: Page, api: Api, new_pesel, e2e_backends: Container
) -> None:
    day = datetime.now(UTC).astimezone(WARSAW).date() + timedelta(days=5)
    starts_at = datetime(day.year, day.month, day.day, 10, tzinfo=WARSAW).astimezone(UTC)
    point_id = new_point(e2e_backends, [(starts_at, "jcovden", 3)])
    staff = staff_token(api, new_pesel, point_id)
    for birth, family in ((date(1961, 6, 1), "Wolska"), (date(1972, 7, 2), "Nowak")):
        walked = api.call("POST", f"/api/v1/points/{point_id}/visits", staff, headers={"Idempotency-Key": family},
                          json={"pesel": new_pesel(birth), "vaccine": "jcovden", "given_name": "Anna",
                                "family_name": family})  # fmt: skip
        assert walked.status_code == 201, walked.text
    sign_in(page, new_pesel(date(1970, 1, 1)), [point_id], manager=True)
    form = page.locator("#day-form")
    form.get_by_label("Dzień").fill(day.isoformat())
    form.get_by_label("Nazwisko (początek)").fill("wol")
    form.get_by_role("button", name="Pokaż").click()
    rows = page.locator("#day-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Anna Wolska (ur. 1961)")
    assert axe_violations(page) == []

    cancel = page.locator("#cancelday-form")
    cancel.get_by_label("Powód").fill("brak dostawy")
    cancel.get_by_role("button", name="Odwołaj pokazany dzień").click()
    confirm(page, "Odwołaj pokazany dzień")
    expect(page.locator("#status")).to_contain_text("odwołano 2, przeniesiono 0")
    assert axe_violations(page) == []
    screenshot(page, "point-day-cancelled")
    listed = api.call("GET", f"/api/v1/points/{point_id}/visits", staff, params={"day": day.isoformat()}).json()
    assert {v["status"] for v in listed["visits"]} == {"CANCELLED"}
