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
    'refusal.day_in_past': 'Nie można zmieniać dni, które minęły.',
    'refusal.no_blocks': 'Harmonogram musi mieć co najmniej jeden blok.',
    'refusal.invalid_field': 'Popraw zaznaczone pole.',
    'refusal.malformed_json': 'Nieprawidłowe dane formularza.',
    'refusal.body_too_large': 'Za dużo danych w formularzu.',
    'refusal.not_found': 'Nie znaleziono.',
    'refusal.unknown': 'Nie udało się wykonać tej czynności.',
  },
  en: {
    'lang.switch': 'Polski',
    'lang.switch.label': 'Przełącz na język polski',
    'app.signout': 'Sign out',
    'app.skip': 'Skip to content',
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
    'refusal.day_in_past': 'Past days cannot be changed.',
    'refusal.no_blocks': 'The schedule needs at least one block.',
    'refusal.invalid_field': 'Please correct the marked field.',
    'refusal.malformed_json': 'The form data is not valid.',
    'refusal.body_too_large': 'The form holds too much data.',
    'refusal.not_found': 'Not found.',
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
