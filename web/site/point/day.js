// The day list: who comes when and in what state; recording a vaccination by the patient's check-in
// code and the lot; marking a no-show; booking a walk-in at the earliest free time.
import { api, newIdempotencyKey } from '/common/api.js';
import { formatDateTime, refusalMessage, t } from '/common/i18n.js';
import { session } from '/common/session.js';
import { confirmAction, el, say, showFieldError, whileBusy } from '/common/ui.js';
import {
  clock, formatDay, knownLots, loadFailure, localDay, rememberLot, sayDone, state, updatedAt, vaccineName,
} from './shared.js';

let shownDay = null;
let surname = ''; // the day list's search: the start of a surname
let visits = [];
let walkInKey = null; // one Idempotency-Key per walk-in, kept until it is booked (a retry is the same booking)
let refresher = null;
const REFRESH_EVERY_MS = 60_000; // patients book and cancel all day: the list follows on its own

function patientName(visit) {
  const name = [visit.given_name, visit.family_name].filter(Boolean).join(' ');
  return name || t('day.unknown_patient');
}

function manages() {
  const roles = session.get()?.roles || [];
  return roles.includes('point_manager') || roles.includes('admin');
}

function visitFor(id) {
  return visits.find((visit) => visit.visit_id === id);
}

function counts() {
  const by = (status) => visits.filter((visit) => visit.status === status).length;
  return { booked: by('BOOKED'), done: by('COMPLETED'), noshow: by('NO_SHOW'), cancelled: by('CANCELLED') };
}

function statusCell(visit) {
  return el('span', { class: `visit-status visit-status-${visit.status.toLowerCase()}` }, t(`status.${visit.status}`));
}

function actionsFor(visit) {
  const name = patientName(visit);
  const time = clock(visit.starts_at);
  if (visit.status === 'COMPLETED' && manages()) {
    return [
      el('button', {
        type: 'button', class: 'danger', 'aria-label': t('day.void.label', { name, time }),
        onclick: (event) => voidVaccination(visit, event.currentTarget),
      }, t('day.void')),
    ];
  }
  if (visit.status !== 'BOOKED') return [];
  const buttons = [];
  if (shownDay === localDay()) {
    buttons.push(
      el('button', {
        type: 'button', class: 'primary', 'aria-label': t('day.vaccinate.label', { name, time }),
        onclick: () => chooseForVaccination(visit.visit_id),
      }, t('day.vaccinate')),
    );
  }
  if (new Date(visit.starts_at) <= new Date()) {
    buttons.push(
      el('button', {
        type: 'button', class: 'danger', 'aria-label': t('day.noshow.label', { name, time }),
        onclick: (event) => markNoShow(visit, event.currentTarget),
      }, t('day.noshow')),
    );
  }
  return buttons;
}

function dayTable() {
  if (visits.length === 0) return el('p', { class: 'empty' }, t('day.empty'));
  const head = ['time', 'patient', 'dose', 'vaccine', 'status', 'actions'].map((c) =>
    el('th', { scope: 'col' }, t(`day.col.${c}`)),
  );
  const rows = visits.map((visit) =>
    el(
      'tr',
      { dataset: { visitId: visit.visit_id, status: visit.status } },
      el('td', { 'data-label': t('day.col.time') }, clock(visit.starts_at)),
      el('th', { scope: 'row', 'data-label': t('day.col.patient') }, patientName(visit),
        visit.birth_year ? el('span', { class: 'muted' }, ` (${t('day.born', { year: visit.birth_year })})`) : null),
      el('td', { 'data-label': t('day.col.dose') }, String(visit.dose)),
      el('td', { 'data-label': t('day.col.vaccine') }, vaccineName(visit.vaccine)),
      el('td', { 'data-label': t('day.col.status') }, statusCell(visit)),
      el('td', { 'data-label': t('day.col.actions') }, el('div', { class: 'actions' }, actionsFor(visit))),
    ),
  );
  return el(
    'table',
    { class: 'day-list stacked' },
    el('caption', {}, t('day.caption', { day: formatDay(shownDay) })),
    el('thead', {}, el('tr', {}, head)),
    el('tbody', {}, rows),
  );
}

function fillVaccinationChoice() {
  const select = document.querySelector('#vaccination-form select[name="visit"]');
  if (!select) return;
  const chosen = select.value;
  const open = visits.filter((visit) => visit.status === 'BOOKED');
  const options = open.map((visit) =>
    el(
      'option',
      { value: visit.visit_id, selected: visit.visit_id === chosen },
      `${clock(visit.starts_at)} – ${patientName(visit)} – ${t('day.dose', { dose: visit.dose })}, ${vaccineName(visit.vaccine)}`,
    ),
  );
  select.replaceChildren(
    el('option', { value: '' }, open.length ? t('vacc.visit.choose') : t('vacc.visit.none')),
    ...options,
  );
  document.querySelector('#vaccination-today-hint').hidden = shownDay === localDay();
}

async function loadDay() {
  const list = document.querySelector('#day-list');
  const summary = document.querySelector('#day-summary');
  const failure = document.querySelector('#day-failure');
  if (!list) return;
  list.setAttribute('aria-busy', 'true');
  try {
    const search = surname ? `&q=${encodeURIComponent(surname)}` : '';
    const answer = await api('GET', `/points/${encodeURIComponent(state.pointId)}/visits?day=${shownDay}${search}`);
    visits = answer.visits.slice().sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    failure.replaceChildren();
    list.replaceChildren(dayTable());
    const c = counts();
    summary.replaceChildren(el('p', {}, t('day.summary', c)), updatedAt());
    fillVaccinationChoice();
    if (!state.vaccines.length) fillWalkInVaccines();
  } catch (error) {
    failure.replaceChildren(loadFailure(error, () => loadDay()));
  } finally {
    list.removeAttribute('aria-busy');
  }
}

function chooseForVaccination(visitId) {
  const form = document.querySelector('#vaccination-form');
  form.visit.value = visitId;
  form.check_in_code.focus();
  form.scrollIntoView({ block: 'nearest' });
}

async function voidVaccination(visit, button) {
  const name = patientName(visit);
  const time = clock(visit.starts_at);
  const reason = (window.prompt(t('day.void.reason', { name, time })) || '').trim();
  if (!reason) {
    button.focus();
    return;
  }
  try {
    button.disabled = true;
    await api('POST', `/visits/${encodeURIComponent(visit.visit_id)}/vaccination:void`, { body: { reason } });
    sayDone(t('day.void.done', { name }));
    await loadDay();
  } catch (error) {
    button.disabled = false;
    say(refusalMessage(error), 'error');
  }
}

async function cancelDay(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const reason = form.reason.value.trim();
  const moveTo = form.move_to.value;
  if (!(await confirmAction(t('cancelday.confirm', { day: formatDay(shownDay) }), t('cancelday.submit')))) return;
  const body = moveTo ? { reason, move_to: moveTo } : { reason };
  try {
    const answer = await whileBusy(form, () =>
      api('POST', `/points/${encodeURIComponent(state.pointId)}/days/${shownDay}:cancel`, { body }),
    );
    showFieldError(form, {});
    sayDone(t('cancelday.done', { day: formatDay(shownDay), cancelled: answer.cancelled, moved: answer.moved }));
    form.reset();
    await loadDay();
  } catch (error) {
    say(refusalMessage(error), 'error');
    showFieldError(form, error);
  }
}

async function markNoShow(visit, button) {
  const name = patientName(visit);
  const time = clock(visit.starts_at);
  if (!(await confirmAction(t('day.noshow.confirm', { name, time }), t('day.noshow.confirm.button')))) {
    button.focus();
    return;
  }
  try {
    button.disabled = true;
    await api('POST', `/visits/${encodeURIComponent(visit.visit_id)}/no-show`);
    sayDone(t('day.noshow.done', { name, time }));
    await loadDay();
  } catch (error) {
    button.disabled = false;
    say(refusalMessage(error), 'error');
  }
}

function vaccinationRefusal(error) {
  let text = refusalMessage(error);
  if (error.code === 'wrong_check_in_code') {
    const left = /(\d+)\D*$/.exec(`${error.detail} ${error.title}`);
    if (left) text += ` ${t('vacc.attempts_left', { left: left[1] })}`;
  }
  return text;
}

function nextDoseText(answer, visit) {
  if (answer.next_dose) return t('vacc.next_missing');
  const next = (answer.series || []).find((v) => v.dose === visit.dose + 1 && v.status === 'BOOKED');
  return next ? t('vacc.next', { when: formatDateTime(next.starts_at), vaccine: vaccineName(next.vaccine) }) : '';
}

async function recordVaccination(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const visit = visitFor(form.visit.value);
  const code = form.check_in_code.value.trim();
  const lot = form.lot.value.trim();
  const identity = form.identity_checked.checked;
  const reason = form.reason.value.trim();
  const codeMissing = identity ? (reason.length < 3 ? 'reason' : null) : !/^\d{4}$/.test(code) ? 'check_in_code' : null;
  const missing = !visit ? 'visit' : codeMissing || (!lot ? 'lot' : null);
  if (missing) {
    say(t(missing === 'reason' ? 'vacc.identity.missing' : 'vacc.missing'), 'error');
    showFieldError(form, { field: missing });
    return;
  }
  showFieldError(form, {});
  const name = patientName(visit);
  const question = t('vacc.confirm', { name, dose: visit.dose, vaccine: vaccineName(visit.vaccine), lot });
  if (!(await confirmAction(question, t('vacc.confirm.button')))) {
    form.querySelector('button[type="submit"]').focus();
    return;
  }
  try {
    const answer = await whileBusy(form, () =>
      api('POST', `/visits/${encodeURIComponent(visit.visit_id)}/vaccination`, {
        body: identity ? { lot, identity_checked: true, reason } : { lot, check_in_code: code },
      }),
    );
    rememberLot(state.pointId, lot);
    form.check_in_code.value = '';
    form.identity_checked.checked = false;
    form.reason.value = '';
    sayDone([t('vacc.done', { name, dose: visit.dose, lot }), nextDoseText(answer, visit)].join(' ').trim());
    await loadDay();
    fillLots();
  } catch (error) {
    say(vaccinationRefusal(error), 'error');
    showFieldError(form, error);
  }
}

function fillLots() {
  const list = document.querySelector('#known-lots');
  if (list) list.replaceChildren(...knownLots(state.pointId).map((lot) => el('option', { value: lot })));
  const input = document.querySelector('#vaccination-form input[name="lot"]');
  if (input && !input.value) input.value = knownLots(state.pointId)[0] || '';
}

async function bookWalkIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const data = Object.fromEntries(new FormData(form));
  const body = { pesel: data.pesel.trim(), vaccine: data.vaccine };
  for (const name of ['given_name', 'family_name', 'phone', 'check_in_code']) if (data[name].trim()) body[name] = data[name].trim();
  walkInKey = walkInKey || newIdempotencyKey();
  const result = document.querySelector('#walkin-result');
  try {
    const answer = await whileBusy(form, () =>
      api('POST', `/points/${encodeURIComponent(state.pointId)}/visits`, { body, idempotencyKey: walkInKey }),
    );
    walkInKey = null;
    showFieldError(form, {});
    const [first, ...later] = answer.visits;
    const done = t('walkin.done', { when: formatDateTime(first.starts_at), dose: first.dose, code: first.check_in_code });
    sayDone(done);
    result.replaceChildren(
      el('p', {}, done),
      ...later.map((v) => el('p', {}, t('walkin.later', { when: formatDateTime(v.starts_at), code: v.check_in_code }))),
    );
    if (localDay(new Date(first.starts_at)) === localDay()) {
      result.append(
        el('button', {
          type: 'button',
          onclick: async () => {
            if (shownDay !== localDay()) {
              shownDay = localDay();
              document.querySelector('#day-form').day.value = shownDay;
            }
            await loadDay();
            const vaccination = document.querySelector('#vaccination-form');
            vaccination.check_in_code.value = first.check_in_code;
            chooseForVaccination(first.visit_id);
            vaccination.lot.focus();
          },
        }, t('walkin.use')),
      );
    }
    form.reset();
    if (shownDay === localDay(new Date(first.starts_at))) await loadDay();
  } catch (error) {
    // A refusal is final for these data: the next try (after a change) is a new booking.
    if (error.status > 0 && error.status < 500) walkInKey = null;
    result.replaceChildren();
    if (error.code === 'booked_elsewhere') {
      say(t('walkin.elsewhere', { point: error.problem?.point_name || '' }), 'error');
      form.check_in_code.focus();
      return;
    }
    say(refusalMessage(error), 'error');
    showFieldError(form, error);
  }
}

function vaccineOptions() {
  return state.vaccines.map((code) => el('option', { value: code }, vaccineName(code)));
}

export async function ensureVaccines() {
  if (state.vaccines.length) return;
  const answer = await api('GET', `/points/${encodeURIComponent(state.pointId)}/stock`);
  state.vaccines = answer.stock.map((level) => level.vaccine);
  if (answer.point) state.points[state.pointId] = answer.point;
}

export function renderDay(app) {
  const today = localDay();
  shownDay = shownDay || today;
  visits = [];
  const dayForm = el(
    'form',
    {
      id: 'day-form', class: 'row toolbar', 'aria-label': t('day.pick'),
      onsubmit: (event) => {
        event.preventDefault();
        shownDay = event.currentTarget.day.value || today;
        loadDay();
      },
    },
    el('label', {}, t('day.pick'), el('input', { type: 'date', name: 'day', value: shownDay, required: true })),
    el('label', {}, t('day.search'), el('input', { type: 'search', name: 'q', value: surname, autocomplete: 'off',
                                                   maxlength: 100, oninput: (event) => { surname = event.currentTarget.value.trim(); } })),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, t('day.show'))),
  ); // prettier-ignore
  const vaccinationForm = el(
    'form',
    { id: 'vaccination-form', novalidate: true, onsubmit: recordVaccination },
    el('p', { id: 'vaccination-today-hint', class: 'hint', hidden: true }, t('vacc.only_today')),
    el('label', {}, t('vacc.visit'), el('select', { name: 'visit', required: true })),
    el(
      'div',
      { class: 'row' },
      el('label', {}, t('vacc.code'),
        el('input', { name: 'check_in_code', inputmode: 'numeric', autocomplete: 'off', maxlength: 4, required: true,
                      pattern: '\\d{4}' })), // prettier-ignore
      el('label', {}, t('vacc.lot'),
        el('input', { name: 'lot', autocomplete: 'off', list: 'known-lots', maxlength: 40, required: true })),
    ),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'identity_checked' }), t('vacc.identity')),
    el('label', {}, t('vacc.identity.reason'), el('input', { name: 'reason', autocomplete: 'off', maxlength: 500 })),
    el('datalist', { id: 'known-lots' }),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, t('vacc.submit'))),
  );
  const walkInForm = el(
    'form',
    { id: 'walkin-form', novalidate: true, onsubmit: bookWalkIn, oninput: () => { walkInKey = null; } },
    el('p', { class: 'hint' }, t('walkin.intro')),
    el(
      'div',
      { class: 'row' },
      el('label', {}, t('walkin.pesel'),
        el('input', { name: 'pesel', inputmode: 'numeric', autocomplete: 'off', maxlength: 11, required: true })),
      el('label', {}, t('walkin.vaccine'), el('select', { name: 'vaccine', required: true }, vaccineOptions())),
    ),
    el(
      'div',
      { class: 'row' },
      el('label', {}, t('walkin.given_name'), el('input', { name: 'given_name', autocomplete: 'off' })),
      el('label', {}, t('walkin.family_name'), el('input', { name: 'family_name', autocomplete: 'off' })),
      el('label', {}, t('walkin.phone'), el('input', { name: 'phone', type: 'tel', autocomplete: 'off' })),
    ),
    el('label', {}, t('walkin.code'),
      el('input', { name: 'check_in_code', inputmode: 'numeric', autocomplete: 'off', maxlength: 4 })),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, t('walkin.submit'))),
  );
  app.append(
    el(
      'section',
      { 'aria-labelledby': 'day-heading' },
      el('h2', { id: 'day-heading' }, t('day.heading')),
      dayForm,
      el('div', { id: 'day-failure' }),
      el('div', { id: 'day-summary', class: 'summary' }),
      el('div', { id: 'day-list', class: 'table-scroll' }),
    ),
    el('section', { 'aria-labelledby': 'vaccination-heading' },
      el('h2', { id: 'vaccination-heading' }, t('vacc.heading')), vaccinationForm),
    el('section', { 'aria-labelledby': 'walkin-heading' },
      el('h2', { id: 'walkin-heading' }, t('walkin.heading')), walkInForm,
      el('div', { id: 'walkin-result', class: 'result' })),
  ); // prettier-ignore
  if (manages()) {
    app.append(
      el('section', { 'aria-labelledby': 'cancelday-heading' },
        el('h2', { id: 'cancelday-heading' }, t('cancelday.heading')),
        el('form', { id: 'cancelday-form', novalidate: true, onsubmit: cancelDay },
          el('p', { class: 'hint' }, t('cancelday.intro')),
          el('div', { class: 'row' },
            el('label', {}, t('cancelday.reason'), el('input', { name: 'reason', required: true, minlength: 3, maxlength: 500 })),
            el('label', {}, t('cancelday.move_to'), el('input', { type: 'date', name: 'move_to' }))),
          el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'danger' }, t('cancelday.submit'))))),
    ); // prettier-ignore
  }
  fillVaccinationChoice();
  fillLots();
  loadDay();
  clearInterval(refresher);
  refresher = setInterval(() => {
    if (!document.querySelector('#day-list')) clearInterval(refresher);
    else if (document.visibilityState === 'visible' && !document.querySelector('dialog[open]')) loadDay();
  }, REFRESH_EVERY_MS);
  fillWalkInVaccines();
}

function fillWalkInVaccines() {
  ensureVaccines()
    .then(() => document.querySelector('#walkin-form')?.vaccine.replaceChildren(...vaccineOptions()))
    .catch(() => {}); // the day list's own load shows the failure and its retry
}
