// Finding free slots, shared by the patient app and the call-centre console: a region (voivodeship,
// then optionally a county that has points), a vaccine, and the earliest free slots page by page.
import { api } from './api.js';
import { extend, formatDateTime, formatNumber, t, vaccineName } from './i18n.js';
import { el, say, sayRefusal, whileBusy } from './ui.js';
import { voivodeshipName, voivodeships } from './voivodeships.js';

extend({
  pl: {
    'slots.voivodeship': 'Województwo',
    'slots.voivodeship.choose': 'Wybierz województwo',
    'slots.county': 'Miasto lub powiat',
    'slots.county.any': 'Całe województwo',
    'slots.vaccine': 'Szczepionka',
    'slots.vaccine.any': 'Dowolna',
    'slots.search': 'Szukaj terminów',
    'slots.results': 'Najbliższe wolne terminy',
    'slots.none': 'Brak wolnych terminów w tym regionie w najbliższych dniach. Wybierz inny region lub szczepionkę.',
    'slots.found': 'Znaleziono terminów: {count}.',
    'slots.more': 'Pokaż kolejne terminy',
    'slots.free': 'wolnych miejsc: {count}',
    'slots.choose.voivodeship': 'Wybierz województwo, aby wyszukać terminy.',
    'slots.keys': 'Strzałki w górę i w dół przechodzą między terminami.',
  },
  en: {
    'slots.voivodeship': 'Voivodeship',
    'slots.voivodeship.choose': 'Choose a voivodeship',
    'slots.county': 'City or county',
    'slots.county.any': 'The whole voivodeship',
    'slots.vaccine': 'Vaccine',
    'slots.vaccine.any': 'Any',
    'slots.search': 'Find times',
    'slots.results': 'Earliest free times',
    'slots.none': 'No free times in this region in the coming days. Choose another region or vaccine.',
    'slots.found': 'Times found: {count}.',
    'slots.more': 'Show more times',
    'slots.free': 'free places: {count}',
    'slots.choose.voivodeship': 'Choose a voivodeship to find times.',
    'slots.keys': 'The up and down arrows move between times.',
  },
});

// "ul. Zdrowia 5, 00-123 Warszawa" -> "Warszawa"
function cityOf(address) {
  const match = /\d{2}-\d{3}\s+(.+)$/.exec(address || '');
  return match ? match[1] : address;
}

// A label and its control side by side (a label wrapping a select would take in the options' texts).
function field(control, key) {
  return el('div', { class: 'field' }, el('label', { for: control.id, 'data-text': key }), control);
}

function option(value, label, selected = false) {
  return el('option', { value, selected }, label);
}

// Moves focus between the buttons of a list with the up and down arrows (and Home/End).
export function arrowNavigation(list, selector) {
  list.addEventListener('keydown', (event) => {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(event.key)) return;
    const items = [...list.querySelectorAll(selector)].filter((item) => !item.disabled);
    const index = items.indexOf(document.activeElement);
    if (index === -1 || items.length === 0) return;
    event.preventDefault();
    const next = {
      ArrowDown: Math.min(index + 1, items.length - 1),
      ArrowUp: Math.max(index - 1, 0),
      Home: 0,
      End: items.length - 1,
    }[event.key];
    items[next].focus();
  });
}

// A search form and its results. `choose(slot)` runs when a slot's button is pressed;
// `chooseLabel(slot)` names that button. Returns the element and a few controls.
export function slotSearch({ id, choose, chooseLabel }) {
  const voivodeship = el('select', { id: `${id}-voivodeship`, name: 'voivodeship', required: true });
  const county = el('select', { id: `${id}-county`, name: 'county' });
  const vaccine = el('select', { id: `${id}-vaccine`, name: 'vaccine' });
  const submitButton = el('button', { class: 'primary', type: 'submit' });
  const form = el(
    'form',
    { class: 'slot-search', novalidate: true },
    el(
      'div',
      { class: 'row' },
      field(voivodeship, 'slots.voivodeship'),
      field(county, 'slots.county'),
      field(vaccine, 'slots.vaccine'),
    ),
    el('div', { class: 'actions' }, submitButton),
  );
  const heading = el('h3', { id: `${id}-results-heading`, tabindex: '-1' });
  const keys = el('p', { class: 'hint' });
  const list = el('ol', { class: 'cards slots', 'aria-labelledby': heading.id });
  const more = el('button', { type: 'button', class: 'secondary', hidden: true });
  const results = el('div', { class: 'slot-results', hidden: true }, heading, keys, list, el('div', { class: 'actions' }, more));
  const element = el('div', { class: 'slot-finder' }, form, results);
  arrowNavigation(list, 'button');

  let points = [];
  let lockedVaccine = null;
  let nextPage = null;
  let lastQuery = null;
  let shown = [];

  function texts() {
    for (const node of element.querySelectorAll('[data-text]')) node.textContent = t(node.dataset.text);
    submitButton.textContent = t('slots.search');
    heading.textContent = t('slots.results');
    keys.textContent = t('slots.keys');
    more.textContent = t('slots.more');
  }

  async function fillVoivodeships() {
    const chosen = voivodeship.value;
    voivodeship.replaceChildren(
      option('', t('slots.voivodeship.choose')),
      ...(await voivodeships()).map((v) => option(v.code, voivodeshipName(v), v.code === chosen)),
    );
  }

  function fillCounties() {
    const chosen = county.value;
    const counties = new Map();
    for (const point of points) if (!counties.has(point.county)) counties.set(point.county, cityOf(point.address));
    const sorted = [...counties.entries()].sort((a, b) => a[1].localeCompare(b[1], 'pl'));
    county.replaceChildren(
      option('', t('slots.county.any')),
      ...sorted.map(([code, name]) => option(code, name, code === chosen)),
    );
  }

  function fillVaccines() {
    const chosen = lockedVaccine || vaccine.value;
    const codes = new Set(points.filter((p) => !county.value || p.county === county.value).flatMap((p) => p.vaccines));
    if (chosen) codes.add(chosen);
    vaccine.replaceChildren(
      option('', t('slots.vaccine.any')),
      ...[...codes].sort().map((code) => option(code, vaccineName(code), code === chosen)),
    );
    vaccine.disabled = Boolean(lockedVaccine);
  }

  let regionAsked = 0;
  async function regionChanged() {
    const asked = ++regionAsked; // only the latest choice's answer fills the lists
    points = [];
    county.value = '';
    let found = [];
    if (voivodeship.value) {
      try {
        found = (await api('GET', `/points?voivodeship=${encodeURIComponent(voivodeship.value)}`)).points;
      } catch (error) {
        sayRefusal(error);
      }
    }
    if (asked !== regionAsked) return;
    points = found;
    fillCounties();
    fillVaccines();
  }

  function slotItem(slot) {
    const when = formatDateTime(slot.starts_at);
    return el(
      'li',
      {},
      el('strong', {}, when),
      el('span', {}, slot.point_name),
      el('span', { class: 'muted' }, slot.address),
      el(
        'span',
        {},
        `${vaccineName(slot.vaccine)} · ${t('slots.free', { count: formatNumber(slot.free_places) })}`,
      ),
      el(
        'div',
        { class: 'actions' },
        el(
          'button',
          {
            type: 'button',
            class: 'primary',
            'aria-label': `${chooseLabel(slot)}: ${when}, ${slot.point_name}`,
            onclick: () => choose(slot),
          },
          chooseLabel(slot),
        ),
      ),
    );
  }

  function render() {
    list.replaceChildren(
      ...(shown.length ? shown.map(slotItem) : [el('li', { class: 'muted' }, t('slots.none'))]),
    );
    more.hidden = !nextPage;
    results.hidden = lastQuery === null;
    texts();
  }

  async function load(pageToken) {
    const params = new URLSearchParams(lastQuery);
    params.set('limit', '10');
    if (pageToken) params.set('page_token', pageToken);
    const page = await api('GET', `/slots?${params}`);
    nextPage = page.next_page_token;
    return page.slots;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!voivodeship.value) {
      voivodeship.setAttribute('aria-invalid', 'true');
      say(t('slots.choose.voivodeship'), 'error');
      voivodeship.focus();
      return;
    }
    voivodeship.removeAttribute('aria-invalid');
    const query = { voivodeship: voivodeship.value };
    if (county.value) query.county = county.value;
    if (vaccine.value) query.vaccine = vaccine.value;
    try {
      lastQuery = query;
      shown = await whileBusy(form, () => load(null));
      render();
      say(t('slots.found', { count: shown.length }));
      (list.querySelector('button') || heading).focus();
    } catch (error) {
      sayRefusal(error);
    }
  });

  more.addEventListener('click', async () => {
    const before = shown.length;
    try {
      shown = shown.concat(await whileBusy(results, () => load(nextPage)));
      render();
      say(t('slots.found', { count: shown.length }));
      const first = list.querySelectorAll('li')[before];
      (first?.querySelector('button') || more).focus();
    } catch (error) {
      sayRefusal(error);
    }
  });

  // Enter on a choice searches, as it would in a text field.
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && event.target.tagName === 'SELECT') {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  voivodeship.addEventListener('change', regionChanged);
  county.addEventListener('change', fillVaccines);

  return {
    element,
    async start() {
      await fillVoivodeships();
      fillCounties();
      fillVaccines();
      texts();
    },
    // Language changed: labels, options and dates again.
    async retranslate() {
      await fillVoivodeships();
      fillCounties();
      fillVaccines();
      if (lastQuery !== null) render();
      else texts();
    },
    // Only this vaccine (a visit being moved keeps its vaccine); null frees the choice.
    lockVaccine(code) {
      lockedVaccine = code;
      fillVaccines();
    },
    // The same search again, quietly (after a refusal says a slot is gone): the list is current again.
    async rerun() {
      if (lastQuery === null) return;
      try {
        shown = await load(null);
        render();
      } catch {
        // the refusal already shown says enough
      }
    },
    // Redraws the buttons' labels.
    refresh() {
      if (lastQuery !== null) render();
    },
    clear() {
      lastQuery = null;
      shown = [];
      nextPage = null;
      render();
    },
    // The region, or with `submit` the search button when a region is already chosen.
    focus({ submit = false } = {}) {
      (submit && voivodeship.value ? submitButton : voivodeship).focus();
    },
  };
}
