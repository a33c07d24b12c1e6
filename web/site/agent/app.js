// The call-centre console: find a caller by PESEL, see their visits, book / move / cancel for them.
// Keyboard first (a call a minute): Enter submits, focus moves to the next step, Alt+F/W/T/N jump.
import './texts.js';
import { api } from '/common/api.js';
import { bookingFlow, changeable } from '/common/booking.js';
import { formatDate, formatDateTime, t, vaccineName } from '/common/i18n.js';
import { startShell } from '/common/shell.js';
import { arrowNavigation } from '/common/slot-search.js';
import { $, el, say, showFieldError, whileBusy } from '/common/ui.js';

// The caller's PESEL stays in this page's memory only (the agent booking route needs it).
const state = { pesel: null, caller: null };

function callerName() {
  return state.caller ? `${state.caller.given_name} ${state.caller.family_name}` : '';
}

// --- the caller --------------------------------------------------------------------------------

async function lookup(pesel) {
  state.caller = await api('POST', '/agent/patients:lookup', { body: { pesel } });
  state.pesel = pesel;
}

function visitRow(visit) {
  const name = t('agent.visit.name', { dose: visit.dose, when: formatDateTime(visit.starts_at) });
  const resend = state.caller?.has_phone ? [['agent.visit.resend', resendSms]] : []; // an SMS needs a mobile
  return el(
    'tr',
    { dataset: { visitId: visit.visit_id } },
    el('td', { class: 'number' }, String(visit.dose)),
    el('td', {}, vaccineName(visit.vaccine)),
    el('td', {}, formatDateTime(visit.starts_at)),
    el('td', {}, visit.point_name || '', visit.address ? el('br') : null, el('span', { class: 'muted' }, visit.address || '')),
    el('td', {}, t(`agent.status.${visit.status}`)),
    el('td', {}, flow.visitActions(visit, name, startMoving, ...resend)),
  );
}

function visitsTable(visits) {
  if (!visits.length) return el('p', { class: 'muted' }, t('agent.visits.none'));
  const sorted = [...visits].sort((a, b) => Number(changeable(b)) - Number(changeable(a)) || a.starts_at.localeCompare(b.starts_at));
  const columns = ['dose', 'vaccine', 'when', 'where', 'status', 'actions'];
  const table = el(
    'table',
    { id: 'caller-visits' },
    el('caption', { class: 'visually-hidden' }, t('agent.visits.heading')),
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col', class: c === 'dose' ? 'number' : null }, t(`agent.visits.${c}`))))),
    el('tbody', {}, sorted.map(visitRow)),
  );
  arrowNavigation(table, 'button');
  return el('div', { class: 'table-scroll' }, table);
}

function fact(term, value) {
  return [el('dt', {}, t(term)), el('dd', {}, value)];
}

function renderCaller() {
  const caller = state.caller;
  const section = $('#caller');
  section.hidden = !caller;
  if (!caller) {
    section.replaceChildren();
    return;
  }
  const phone = el('input', {
    id: 'agent-phone',
    name: 'phone',
    type: 'tel',
    inputmode: 'tel',
    autocomplete: 'off',
    'aria-describedby': 'agent-phone-hint',
    onkeydown: (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      flow.search.focus(); // the number is noted: on to the region
    },
  });
  section.replaceChildren(
    el('h2', { id: 'caller-heading', tabindex: '-1' }, t('agent.caller.heading', { name: callerName() })),
    el(
      'dl',
      { class: 'facts' },
      fact('agent.caller.birth_date', formatDate(caller.birth_date)),
      fact('agent.caller.phone', t(caller.has_phone ? 'agent.caller.phone.yes' : 'agent.caller.phone.no')),
      fact('agent.caller.referral', t(caller.referral_valid ? 'agent.caller.referral.yes' : 'agent.caller.referral.no')),
      fact('agent.caller.eligible', t(caller.eligible ? 'agent.caller.eligible.yes' : 'agent.caller.eligible.no')),
      fact('agent.caller.opens_at', caller.opens_at ? formatDateTime(caller.opens_at) : t('agent.caller.no_group')),
    ),
    el('h3', { id: 'visits-heading', tabindex: '-1' }, t('agent.visits.heading')),
    visitsTable(caller.visits),
    el('h3', { id: 'book-heading', tabindex: '-1' }),
    el('div', { class: 'actions' }, el('button', { id: 'move-stop', type: 'button', hidden: true, onclick: stopMoving })),
    el(
      'div',
      { id: 'agent-contact', class: 'field' },
      el('label', { for: 'agent-phone' }, t('agent.book.phone')),
      el('span', { class: 'hint', id: 'agent-phone-hint' }, t('agent.book.phone.hint')),
      phone,
      el('label', { for: 'agent-landline' }, t('agent.book.landline')),
      el('span', { class: 'hint', id: 'agent-landline-hint' }, t('agent.book.landline.hint')),
      el('input', { id: 'agent-landline', name: 'landline', type: 'tel', inputmode: 'tel', autocomplete: 'off',
                    'aria-describedby': 'agent-landline-hint' }),
      caller.eligible
        ? null
        : el('div', { class: 'actions' }, el('button', { id: 'agent-interest', type: 'button', onclick: signUpForOpening },
                                            t('agent.interest.submit'))),
    ),
    el('div', { id: 'read-back', class: 'notice', role: 'status', hidden: true }),
    flow.search.element,
  );
  renderBookingHeading();
}

function renderBookingHeading() {
  const moving = flow.moving();
  const heading = $('#book-heading');
  if (!heading) return;
  heading.textContent = moving
    ? t('agent.move.heading', { dose: moving.dose, when: formatDateTime(moving.starts_at) })
    : t('agent.book.heading');
  $('#move-stop').hidden = !moving;
  $('#move-stop').textContent = t('agent.move.stop');
  $('#agent-contact').hidden = Boolean(moving);
}

// After a lookup or a change: the caller again, and focus on what comes next.
async function refreshCaller(focus) {
  await lookup(state.pesel);
  renderCaller();
  if (focus === 'visits') ($('#caller-visits button') || $('#visits-heading')).focus();
  else if (focus === 'search') flow.search.focus();
}

function nextCaller() {
  state.pesel = null;
  state.caller = null;
  flow.reset();
  renderCaller();
  const field = $('#caller-pesel');
  field.value = '';
  field.focus();
  say(t('agent.next'));
}

$('#lookup-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const pesel = form.elements.pesel.value.trim();
  flow.reset();
  try {
    await whileBusy(form, () => lookup(pesel));
    showFieldError(form, {});
    renderCaller();
    const booked = state.caller.visits.filter(changeable);
    say(t('agent.lookup.found', { name: callerName(), count: booked.length }), 'success');
    // Someone with a visit calls about it; anyone else wants one.
    if (booked.length) $('#caller-visits button').focus();
    else if (!state.caller.has_phone) $('#agent-phone').focus();
    else flow.search.focus();
  } catch (error) {
    state.caller = null;
    state.pesel = null;
    renderCaller();
    refused(error, form);
    // Nobody on file: the registration form comes up below; the PESEL stays ready for a retyped number.
    if (error.code === 'patient_not_found') renderRegistration(pesel);
    form.elements.pesel.focus();
    form.elements.pesel.select();
  }
});

// --- book, move, cancel ------------------------------------------------------------------------

function startMoving(visit) {
  flow.startMoving(visit);
  flow.search.focus({ submit: true });
}

function stopMoving() {
  flow.stopMoving();
  $('#book-heading').focus();
}

async function booked(answer, text) {
  flow.search.clear();
  await refreshCaller('visits');
  if (answer.sms === false) {
    // No SMS goes: the agent reads the visit back, and it stays on screen until the next caller.
    const readBack = $('#read-back');
    readBack.textContent = t('agent.book.read_back', { lines: answer.read_back.join(' ') });
    readBack.hidden = false;
    say(readBack.textContent, 'success');
    return;
  }
  say(text, 'success');
}

async function signUpForOpening() {
  const contact = $('#agent-contact');
  const phone = contact.querySelector('[name="phone"]').value.trim();
  try {
    const answer = await api('POST', '/agent/interest', { body: { pesel: state.pesel, phone } });
    say(t('agent.interest.done', { when: formatDateTime(answer.opens_at) }), 'success');
  } catch (error) {
    refused(error, contact);
  }
}

async function resendSms(visit) {
  try {
    await api('POST', `/agent/visits/${encodeURIComponent(visit.visit_id)}/sms:resend`);
    say(t('agent.resend.done'), 'success');
  } catch (error) {
    refused(error);
  }
}

// A caller not in the registry: the agent registers them (names from the caller, birth date from the PESEL).
function renderRegistration(pesel) {
  const section = $('#caller');
  section.hidden = false;
  const form = el(
    'form',
    { id: 'register-form', novalidate: true },
    el('div', { class: 'row' },
      el('label', {}, el('span', {}, t('agent.register.given_name')), el('input', { name: 'given_name', autocomplete: 'off', required: true })),
      el('label', {}, el('span', {}, t('agent.register.family_name')), el('input', { name: 'family_name', autocomplete: 'off', required: true })),
    ),
    el('div', { class: 'actions' }, el('button', { class: 'primary' }, t('agent.register.submit'))),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const names = Object.fromEntries(new FormData(form));
    try {
      state.caller = await whileBusy(form, () => api('POST', '/agent/patients', { body: { pesel, ...names } }));
      state.pesel = pesel;
      renderCaller();
      say(t('agent.register.done', { name: callerName() }), 'success');
      if (state.caller.eligible) $('#agent-phone').focus();
    } catch (error) {
      refused(error, form);
    }
  });
  section.replaceChildren(el('h2', { id: 'caller-heading', tabindex: '-1' }, t('agent.register.heading')), form);
}

const flow = bookingFlow({
  texts: 'agent',
  path: '/agent/visits',
  searchId: 'agent-find',
  keyboard: true,
  contact: () => $('#agent-contact'),
  details: () => {
    const phone = $('#agent-phone').value.trim();
    const landline = $('#agent-landline').value.trim();
    return { pesel: state.pesel, ...(phone ? { phone } : landline ? { landline } : {}) };
  },
  words: () => ({ name: callerName() }),
  booked,
  changed: async (text, kind) => {
    if (kind === 'moved') flow.search.clear();
    await refreshCaller('visits');
    say(text, 'success');
  },
  movingChanged: renderBookingHeading,
});
const { refused } = flow;
flow.search.start().catch(refused);

// --- shortcuts ---------------------------------------------------------------------------------

const SHORTCUTS = {
  KeyF: () => {
    $('#caller-pesel').focus();
    $('#caller-pesel').select();
  },
  KeyW: () => state.caller && ($('#caller-visits button') || $('#visits-heading')).focus(),
  KeyT: () => state.caller && flow.search.focus(),
  KeyN: nextCaller,
};

document.addEventListener('keydown', (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || $('#console').hidden) return;
  if (document.querySelector('dialog[open]')) return;
  const action = SHORTCUTS[event.code];
  if (!action) return;
  event.preventDefault();
  action();
});

// --- the page ----------------------------------------------------------------------------------

startShell({
  texts: 'agent',
  roles: ['agent'],
  may: (login) => Boolean(login.roles?.includes('agent')),
  notAllowed: 'agent.not_agent',
  workspace: ['#console'],
  enter: () => $('#caller-pesel').focus(),
  leave: () => {
    state.pesel = null;
    state.caller = null;
    flow.reset();
    $('#caller-pesel').value = '';
    renderCaller();
  },
  languageChanged: () => {
    renderCaller();
    flow.search.retranslate();
  },
});
