// Texts in Polish (the default) and English. Every app adds its own with extend(); elements with
// data-i18n="key" get their text, data-i18n-attr="aria-label:key;placeholder:key" their attributes.
const STORAGE_KEY = 'ereg.lang';
export const LANGUAGES = ['pl', 'en'];

const texts = {
  pl: {
    'lang.switch': 'English',
    'lang.switch.label': 'Switch to English',
    'app.signout': 'Wyloguj',
    'app.skip': 'Przejdź do treści',
    'app.signedin': 'Zalogowano: {name}.',
    'app.signedout': 'Wylogowano.',
    'signin.given_name': 'Imię',
    'signin.family_name': 'Nazwisko',
    'signin.submit': 'Zaloguj się',
    'signin.national': 'Zaloguj się przez login.gov.pl.',
    'status.working': 'Trwa przetwarzanie…',
    'status.slow': 'Serwer odpowiada wolniej niż zwykle. Prosimy o chwilę cierpliwości.',
    'status.offline': 'Brak połączenia z serwerem. Sprawdź połączenie z internetem i spróbuj ponownie.',
    'status.expired': 'Sesja wygasła. Zaloguj się ponownie.',
    'action.retry': 'Spróbuj ponownie',
    'action.cancel': 'Anuluj',
    'action.confirm': 'Potwierdź',
    'action.close': 'Zamknij',
    'refusal.network': 'Nie udało się połączyć z serwerem. Spróbuj ponownie za chwilę.',
    'refusal.timeout': 'Serwer nie odpowiedział na czas. Spróbuj ponownie za chwilę.',
    'refusal.unavailable': 'Usługa jest chwilowo niedostępna. Spróbuj ponownie za chwilę.',
    'refusal.rate_limited': 'Zbyt wiele prób. Odczekaj chwilę i spróbuj ponownie.',
    'refusal.unauthenticated': 'Zaloguj się, aby kontynuować.',
    'refusal.invalid_session': 'Sesja wygasła. Zaloguj się ponownie.',
    'refusal.forbidden_role': 'Nie masz uprawnień do tej czynności.',
    'refusal.already_booked': 'Masz już zarezerwowaną wizytę na tę dawkę.',
    'refusal.dose_already_given': 'Ta dawka została już podana.',
    'refusal.no_programme': 'Program szczepień nie jest jeszcze dostępny.',
    'refusal.no_referral': 'Nie masz aktywnego e-skierowania na szczepienie.',
    'refusal.not_eligible': 'Twoja grupa nie może się jeszcze zapisać.',
    'refusal.too_young': 'Szczepienie nie jest jeszcze dostępne dla Twojej grupy wiekowej.',
    'refusal.not_your_visit': 'Ta wizyta należy do innej osoby.',
    'refusal.not_your_point': 'To nie jest Twój punkt szczepień.',
    'refusal.patient_not_found': 'Nie znaleziono pacjenta o tym numerze PESEL.',
    'refusal.point_not_found': 'Nie znaleziono punktu szczepień.',
    'refusal.slot_full': 'Ten termin właśnie się zapełnił. Wybierz inny.',
    'refusal.slot_in_past': 'Ten termin już minął. Wybierz inny.',
    'refusal.slot_not_found': 'Tego terminu już nie ma. Wybierz inny.',
    'refusal.unknown_vaccine': 'Nieznana szczepionka.',
    'refusal.visit_not_active': 'Ta wizyta została już odwołana lub zakończona.',
    'refusal.visit_not_found': 'Nie znaleziono wizyty.',
    'refusal.visit_started': 'Wizyta już się rozpoczęła i nie można jej zmienić.',
    'refusal.visit_not_started': 'Wizyta jeszcze się nie rozpoczęła.',
    'refusal.visit_of_other_point': 'Ta wizyta jest w innym punkcie szczepień.',
    // Refusals of booking, moving, the interest form and sign-in (patient app and call-centre console).
    'refusal.cohort_not_open': 'Rejestracja dla Twojej grupy jeszcze się nie rozpoczęła.',
    'refusal.cohort_already_open': 'Rejestracja dla Twojej grupy już trwa: możesz umówić wizytę.',
    'refusal.vaccine_not_for_cohort': 'Ta szczepionka nie jest przeznaczona dla Twojej grupy. Wybierz inną.',
    'refusal.other_vaccine_in_series': 'Kolejna dawka musi być tą samą szczepionką co poprzednia.',
    'refusal.too_early_for_next_dose': 'Na kolejną dawkę jest jeszcze za wcześnie. Wybierz późniejszy termin.',
    'refusal.outside_dose_window': 'Ten termin wypada poza dozwolonym odstępem między dawkami. Wybierz inny.',
    'refusal.no_place_for_next_dose': 'Po tej zmianie nie byłoby wolnego terminu na kolejną dawkę. Wybierz inny termin.',
    'refusal.no_free_place': 'Brak wolnego miejsca na tę szczepionkę. Wybierz inny termin lub punkt.',
    'refusal.phone_required': 'Podaj numer telefonu komórkowego, na który wyślemy SMS z potwierdzeniem.',
    'refusal.invalid_phone': 'Podaj polski numer telefonu komórkowego, np. 601 234 567.',
    'refusal.invalid_pesel': 'Nieprawidłowy numer PESEL. Sprawdź wszystkie 11 cyfr.',
    'refusal.idempotency_key_reused': 'To zgłoszenie wysłano już z innymi danymi. Odśwież stronę i spróbuj ponownie.',
    'refusal.idempotency_key_required': 'Nie udało się wysłać zgłoszenia. Odśwież stronę i spróbuj ponownie.',
    'refusal.programme_unavailable': 'Program szczepień jest chwilowo niedostępny. Spróbuj ponownie za chwilę.',
    'refusal.no_session': 'Zaloguj się, aby kontynuować.',
    'refusal.session_expired': 'Sesja wygasła. Zaloguj się ponownie.',
    'refusal.invalid_identity': 'Nie udało się potwierdzić tożsamości. Sprawdź PESEL, imię i nazwisko.',
    'refusal.weak_authentication': 'Pracownicy logują się silnym uwierzytelnieniem (profil zaufany lub e-dowód). Zaloguj się ponownie.',
    'refusal.assertion_expired': 'Logowanie trwało zbyt długo. Zaloguj się ponownie.',
    'refusal.assertion_replayed': 'To potwierdzenie logowania zostało już użyte. Zaloguj się ponownie.',
    'refusal.algorithm_not_allowed': 'Logowanie nie powiodło się. Zaloguj się ponownie.',
    'refusal.assertion_not_yet_valid': 'Logowanie nie powiodło się. Zaloguj się ponownie.',
    'refusal.bad_signature': 'Logowanie nie powiodło się. Zaloguj się ponownie.',
    'refusal.malformed_assertion': 'Logowanie nie powiodło się. Zaloguj się ponownie.',
    'refusal.unknown_signing_key': 'Logowanie nie powiodło się. Zaloguj się ponownie.',
    'refusal.untrusted_issuer': 'Logowanie nie powiodło się. Zaloguj się ponownie.',
    'refusal.wrong_audience': 'Logowanie nie powiodło się. Zaloguj się ponownie.',
    'refusal.provider_not_allowed': 'Zaloguj się przez węzeł krajowy (login.gov.pl).',
    'refusal.backend_unavailable': 'Usługa jest chwilowo niedostępna. Spróbuj ponownie za chwilę.',
    'refusal.sessions_unavailable': 'Logowanie jest chwilowo niedostępne. Spróbuj ponownie za chwilę.',
    'refusal.not_configured': 'Usługa jest chwilowo niedostępna. Spróbuj ponownie za chwilę.',
    'refusal.internal_error': 'Wystąpił błąd systemu. Spróbuj ponownie za chwilę.',
    'refusal.method_not_allowed': 'Tej czynności nie można tu wykonać.',
    'refusal.day_in_past': 'Nie można zmieniać dni, które minęły.',
    'refusal.no_blocks': 'Harmonogram musi mieć co najmniej jeden blok.',
    // The point console's refusals.
    'refusal.wrong_check_in_code': 'Nieprawidłowy kod z SMS-a. Poproś pacjenta o kod z wiadomości i wpisz go ponownie.',
    'refusal.no_place_on_move_to': 'Brak wolnych miejsc w wybranym dniu dla wszystkich wizyt. Dodaj terminy albo wybierz inny dzień.',
    'refusal.invalid_move_to': 'Przenieść można tylko na inny, przyszły dzień.',
    'refusal.patient_exists': 'Ten pacjent jest już w systemie. Wyszukaj go po numerze PESEL.',
    'refusal.sms_resent_recently': 'Potwierdzenie tej wizyty wysłano ponownie w ciągu ostatniej godziny.',
    'refusal.no_mobile_on_file': 'Pacjent nie ma numeru komórkowego. Odczytaj mu termin wizyty.',
    'refusal.not_point_manager': 'Tylko kierownik punktu może to zrobić.',
    'refusal.not_vaccinated': 'Ta wizyta nie ma zapisanego szczepienia.',
    'refusal.void_too_late': 'Szczepienie można unieważnić tylko w ciągu 24 godzin od zapisu.',
    'refusal.identity_check_limit': 'Wykorzystano dzienny limit szczepień bez kodu z SMS-a. Poproś kierownika punktu.',
    'refusal.reason_required': 'Podaj powód szczepienia bez kodu z SMS-a.',
    'refusal.check_in_code_required': 'Podaj kod z SMS-a pacjenta albo potwierdź jego tożsamość.',
    'refusal.booked_elsewhere': 'Pacjent ma wizytę w innym punkcie. Podaj kod z jego SMS-a, aby przenieść ją tutaj.',
    'refusal.booked_other_vaccine': 'Pacjent jest umówiony na inną szczepionkę.',
    'refusal.check_in_code_locked':
      'Zbyt wiele błędnych kodów dla tej wizyty: kod jest zablokowany. Potwierdź tożsamość pacjenta i umów wizytę ponownie.',
    'refusal.visit_not_today': 'Ta wizyta jest umówiona na inny dzień. Szczepienie można zarejestrować tylko w dniu wizyty.',
    'refusal.unknown_lot': 'Ta partia szczepionki nie została dostarczona do punktu. Sprawdź numer partii.',
    'refusal.exceeds_stock': 'Opublikowanych miejsc byłoby więcej niż dawek w punkcie. Najpierw zarejestruj dostawę albo zmniejsz liczbę miejsc.',
    'refusal.slot_has_visits': 'Nie można usunąć ani zmniejszyć terminów, na które są umówione wizyty.',
    'refusal.vaccine_not_at_point': 'Ten punkt nie podaje tej szczepionki.',
    'refusal.invalid_block': 'Blok musi kończyć się po początku i mieścić co najmniej jeden termin.',
    'refusal.overlapping_blocks': 'Bloki tej samej szczepionki nakładają się. Popraw godziny.',
    'refusal.day_too_far_ahead': 'Harmonogramu nie można publikować tak daleko naprzód.',
    'refusal.too_many_slots': 'Za dużo terminów w jednej zmianie. Podziel harmonogram na mniejsze części.',
    'refusal.delivery_too_far_ahead': 'Dostawę można zarejestrować najwyżej 92 dni naprzód.',
    'refusal.invalid_range': 'Nieprawidłowy zakres dni.',
    'refusal.invalid_field': 'Popraw zaznaczone pole.',
    'refusal.malformed_json': 'Nieprawidłowe dane formularza.',
    'refusal.body_too_large': 'Za dużo danych w formularzu.',
    'refusal.not_found': 'Nie znaleziono.',
    // The registry of points and staff (admin app, point console)
    'refusal.registry_unavailable': 'Rejestr personelu jest chwilowo niedostępny. Spróbuj za chwilę.',
    'refusal.point_suspended': 'Ten punkt szczepień jest zawieszony i nie przyjmuje zapisów.',
    'refusal.invalid_municipality': 'Nieprawidłowy kod TERYT gminy (7 cyfr).',
    'refusal.version_mismatch': 'Ktoś zmienił ten punkt w międzyczasie. Odśwież i spróbuj ponownie.',
    'refusal.point_has_visits': 'Punkt ma przyszłe wizyty. Najpierw odwołaj jego dni.',
    'refusal.forbidden_region': 'Nie masz uprawnień w tym województwie.',
    'refusal.forbidden_point': 'Nie masz uprawnień do personelu tego punktu.',
    'refusal.staff_not_found': 'Ta osoba nie pracuje w tym punkcie.',
    'refusal.coordinator_not_found': 'Ta osoba nie jest koordynatorem.',
    'refusal.invalid_role': 'Nieznana rola.',
    'refusal.if_match_required': 'Brak wersji zmienianego punktu. Odśwież i spróbuj ponownie.',
    'refusal.invalid_if_match': 'Nieprawidłowa wersja punktu. Odśwież i spróbuj ponownie.',
    'refusal.invalid_voivodeship': 'Nieznane województwo.',
    'refusal.unknown': 'Nie udało się wykonać tej czynności.',
  },
  en: {
    'lang.switch': 'Polski',
    'lang.switch.label': 'Przełącz na język polski',
    'app.signout': 'Sign out',
    'app.skip': 'Skip to content',
    'app.signedin': 'Signed in: {name}.',
    'app.signedout': 'Signed out.',
    'signin.given_name': 'Given name',
    'signin.family_name': 'Family name',
    'signin.submit': 'Sign in',
    'signin.national': 'Sign in with login.gov.pl.',
    'status.working': 'Working…',
    'status.slow': 'The server is answering more slowly than usual. Please wait a moment.',
    'status.offline': 'The server cannot be reached. Check your connection and try again.',
    'status.expired': 'Your session has expired. Please sign in again.',
    'action.retry': 'Try again',
    'action.cancel': 'Cancel',
    'action.confirm': 'Confirm',
    'action.close': 'Close',
    'refusal.network': 'Could not reach the server. Please try again in a moment.',
    'refusal.timeout': 'The server did not answer in time. Please try again in a moment.',
    'refusal.unavailable': 'The service is temporarily unavailable. Please try again in a moment.',
    'refusal.rate_limited': 'Too many attempts. Please wait a moment and try again.',
    'refusal.unauthenticated': 'Please sign in to continue.',
    'refusal.invalid_session': 'Your session has expired. Please sign in again.',
    'refusal.forbidden_role': 'You are not allowed to do this.',
    'refusal.already_booked': 'You already have a visit booked for this dose.',
    'refusal.dose_already_given': 'This dose has already been given.',
    'refusal.no_programme': 'The vaccination programme is not available yet.',
    'refusal.no_referral': 'You have no active e-referral for vaccination.',
    'refusal.not_eligible': 'Your group cannot book yet.',
    'refusal.too_young': 'Vaccination is not yet open to your age group.',
    'refusal.not_your_visit': 'This visit belongs to someone else.',
    'refusal.not_your_point': 'This is not your vaccination point.',
    'refusal.patient_not_found': 'No patient with this PESEL was found.',
    'refusal.point_not_found': 'Vaccination point not found.',
    'refusal.slot_full': 'This time has just filled up. Please choose another.',
    'refusal.slot_in_past': 'This time has already passed. Please choose another.',
    'refusal.slot_not_found': 'This time is no longer offered. Please choose another.',
    'refusal.unknown_vaccine': 'Unknown vaccine.',
    'refusal.visit_not_active': 'This visit has already been cancelled or completed.',
    'refusal.visit_not_found': 'Visit not found.',
    'refusal.visit_started': 'The visit has already started and cannot be changed.',
    'refusal.visit_not_started': 'The visit has not started yet.',
    'refusal.visit_of_other_point': 'This visit is at another vaccination point.',
    'refusal.cohort_not_open': 'Booking for your group has not opened yet.',
    'refusal.cohort_already_open': 'Booking for your group is already open: you can book a visit.',
    'refusal.vaccine_not_for_cohort': 'This vaccine is not offered to your group. Please choose another.',
    'refusal.other_vaccine_in_series': 'The next dose must be the same vaccine as the previous one.',
    'refusal.too_early_for_next_dose': 'It is too early for the next dose. Please choose a later time.',
    'refusal.outside_dose_window': 'This time is outside the allowed interval between doses. Please choose another.',
    'refusal.no_place_for_next_dose': 'After this change there would be no free time for the next dose. Please choose another time.',
    'refusal.no_free_place': 'No free place for this vaccine. Please choose another time or point.',
    'refusal.phone_required': 'Enter a mobile number for the confirmation SMS.',
    'refusal.invalid_phone': 'Enter a Polish mobile number, e.g. 601 234 567.',
    'refusal.invalid_pesel': 'Invalid PESEL number. Check all 11 digits.',
    'refusal.idempotency_key_reused': 'This request was already sent with other data. Reload the page and try again.',
    'refusal.idempotency_key_required': 'The request could not be sent. Reload the page and try again.',
    'refusal.programme_unavailable': 'The vaccination programme is temporarily unavailable. Please try again in a moment.',
    'refusal.no_session': 'Please sign in to continue.',
    'refusal.session_expired': 'Your session has expired. Please sign in again.',
    'refusal.invalid_identity': 'Your identity could not be confirmed. Check the PESEL and your names.',
    'refusal.weak_authentication': 'Staff sign in with strong authentication (trusted profile or e-ID card). Please sign in again.',
    'refusal.assertion_expired': 'Signing in took too long. Please sign in again.',
    'refusal.assertion_replayed': 'This sign-in confirmation was already used. Please sign in again.',
    'refusal.algorithm_not_allowed': 'Signing in failed. Please sign in again.',
    'refusal.assertion_not_yet_valid': 'Signing in failed. Please sign in again.',
    'refusal.bad_signature': 'Signing in failed. Please sign in again.',
    'refusal.malformed_assertion': 'Signing in failed. Please sign in again.',
    'refusal.unknown_signing_key': 'Signing in failed. Please sign in again.',
    'refusal.untrusted_issuer': 'Signing in failed. Please sign in again.',
    'refusal.wrong_audience': 'Signing in failed. Please sign in again.',
    'refusal.provider_not_allowed': 'Please sign in through the national login node (login.gov.pl).',
    'refusal.backend_unavailable': 'The service is temporarily unavailable. Please try again in a moment.',
    'refusal.sessions_unavailable': 'Signing in is temporarily unavailable. Please try again in a moment.',
    'refusal.not_configured': 'The service is temporarily unavailable. Please try again in a moment.',
    'refusal.internal_error': 'Something went wrong in the system. Please try again in a moment.',
    'refusal.method_not_allowed': 'This cannot be done here.',
    'refusal.day_in_past': 'Past days cannot be changed.',
    'refusal.no_blocks': 'The schedule needs at least one block.',
    // The point console's refusals.
    'refusal.wrong_check_in_code': "Wrong code from the SMS. Ask the patient for the code in the message and enter it again.",
    'refusal.no_place_on_move_to': 'Not enough free places on the chosen day for every visit. Add slots or choose another day.',
    'refusal.invalid_move_to': 'Visits can only be moved to another, future day.',
    'refusal.patient_exists': 'This patient is already registered. Look them up by PESEL.',
    'refusal.sms_resent_recently': 'This visit\'s confirmation was resent within the last hour.',
    'refusal.no_mobile_on_file': 'The patient has no mobile number on file. Read the visit out to them.',
    'refusal.not_point_manager': 'Only the point manager may do this.',
    'refusal.not_vaccinated': 'This visit has no recorded vaccination.',
    'refusal.void_too_late': 'A vaccination can only be voided within 24 hours of recording it.',
    'refusal.identity_check_limit': 'The daily limit of vaccinations without the SMS code is used up. Ask the point manager.',
    'refusal.reason_required': 'Give the reason for vaccinating without the SMS code.',
    'refusal.check_in_code_required': 'Enter the code from the patient\'s SMS or confirm their identity.',
    'refusal.booked_elsewhere': 'The patient has a visit at another point. Enter the code from their SMS to move it here.',
    'refusal.booked_other_vaccine': 'The patient is booked for another vaccine.',
    'refusal.check_in_code_locked':
      "Too many wrong codes for this visit: the code is locked. Confirm the patient's identity and book the visit again.",
    'refusal.visit_not_today': "This visit is booked for another day. A vaccination can only be recorded on the visit's day.",
    'refusal.unknown_lot': 'This vaccine lot was never delivered to the point. Check the lot number.',
    'refusal.exceeds_stock': 'More places would be published than the point has doses. Record a delivery first or publish fewer places.',
    'refusal.slot_has_visits': 'Times with booked visits cannot be removed or lowered.',
    'refusal.vaccine_not_at_point': 'This point does not give this vaccine.',
    'refusal.invalid_block': 'A block must end after it starts and hold at least one time.',
    'refusal.overlapping_blocks': 'Blocks of the same vaccine overlap. Correct the times.',
    'refusal.day_too_far_ahead': 'A schedule cannot be published that far ahead.',
    'refusal.too_many_slots': 'Too many times in one change. Split the schedule into smaller parts.',
    'refusal.delivery_too_far_ahead': 'A delivery can be recorded at most 92 days ahead.',
    'refusal.invalid_range': 'The range of days is not valid.',
    'refusal.invalid_field': 'Please correct the marked field.',
    'refusal.malformed_json': 'The form data is not valid.',
    'refusal.body_too_large': 'The form holds too much data.',
    'refusal.not_found': 'Not found.',
    // The registry of points and staff (admin app, point console)
    'refusal.registry_unavailable': 'The staff registry is temporarily unavailable. Please try again shortly.',
    'refusal.point_suspended': 'This vaccination point is suspended and takes no bookings.',
    'refusal.invalid_municipality': 'Invalid TERYT municipality code (7 digits).',
    'refusal.version_mismatch': 'Someone changed this point meanwhile. Refresh and try again.',
    'refusal.point_has_visits': 'The point has visits to come. Cancel its days first.',
    'refusal.forbidden_region': 'You have no rights in this voivodeship.',
    'refusal.forbidden_point': 'You may not manage the staff of this point.',
    'refusal.staff_not_found': 'This person does not work at this point.',
    'refusal.coordinator_not_found': 'This person is not a coordinator.',
    'refusal.invalid_role': 'Unknown role.',
    'refusal.if_match_required': 'The version of the point is missing. Refresh and try again.',
    'refusal.invalid_if_match': 'Invalid version of the point. Refresh and try again.',
    'refusal.invalid_voivodeship': 'Unknown voivodeship.',
    'refusal.unknown': 'This could not be done.',
  },
};

export function extend(more) {
  for (const language of LANGUAGES) Object.assign(texts[language], more[language] || {});
}

export function currentLanguage() {
  const chosen = localStorage.getItem(STORAGE_KEY);
  return LANGUAGES.includes(chosen) ? chosen : 'pl';
}

export function t(key, params = {}) {
  const text = texts[currentLanguage()][key] ?? texts.pl[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function has(key) {
  return key in texts[currentLanguage()];
}

export function translate(root = document) {
  document.documentElement.lang = currentLanguage();
  for (const element of root.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  for (const element of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of element.dataset.i18nAttr.split(';')) {
      const [attribute, key] = pair.split(':');
      element.setAttribute(attribute.trim(), t(key.trim()));
    }
  }
}

export function setLanguage(language) {
  localStorage.setItem(STORAGE_KEY, language);
  translate();
  document.dispatchEvent(new CustomEvent('language:changed', { detail: { language } }));
}

// The message for a refused request: ours for a known code, else the server's own (Polish) detail.
export function refusalMessage(error) {
  const key = `refusal.${error.code}`;
  if (has(key)) return t(key);
  if (error.status === 429) return t('refusal.rate_limited');
  if (error.status >= 500 || error.status === 0) return t('refusal.unavailable');
  return error.detail || error.title || t('refusal.unknown');
}

// The vaccines' makers, said beside the name where staff read it: one spelling for every app.
const MAKERS = {
  comirnaty: 'Pfizer-BioNTech',
  spikevax: 'Moderna',
  vaxzevria: 'AstraZeneca',
  jcovden: 'Janssen',
  nuvaxovid: 'Novavax',
};

// A vaccine by its code: "Comirnaty", or with `maker` "Comirnaty (Pfizer-BioNTech)".
export function vaccineName(code, { maker = false } = {}) {
  const name = code ? code.charAt(0).toUpperCase() + code.slice(1) : '';
  return maker && MAKERS[code] ? `${name} (${MAKERS[code]})` : name;
}

const WARSAW = 'Europe/Warsaw';
export function formatDateTime(iso) {
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'full', timeStyle: 'short', timeZone: WARSAW }).format(
    new Date(iso),
  );
}
export function formatDate(iso) {
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'medium', timeZone: WARSAW }).format(new Date(iso));
}
export function formatTime(iso) {
  return new Intl.DateTimeFormat(currentLanguage(), { timeStyle: 'short', timeZone: WARSAW }).format(new Date(iso));
}
export function formatNumber(value) {
  return new Intl.NumberFormat(currentLanguage()).format(value);
}
