// The patient app: sign in, eligibility, find a slot and book (dose 2 comes with it), my visits
// with the check-in code, move and cancel, and "tell me when my group opens".
import './texts.js';
import { api } from '/common/api.js';
import { bookingFlow } from '/common/booking.js';
import { formatDate, formatDateTime, t } from '/common/i18n.js';
import { session } from '/common/session.js';
import { startShell } from '/common/shell.js';
import { $, el, say, showFieldError, whileBusy } from '/common/ui.js';
import { certificateList } from './certificates.js';
import { visitList } from './visits.js';

const state = { visits: null };

// --- eligibility and the interest form ---------------------------------------------------------

function eligibilityText(patient) {
  const eligibility = patient?.eligibility || {};
  if (eligibility.status === 'cohort_not_open') {
    return eligibility.opens_at
      ? t('patient.eligibility.cohort_not_open', { opens_at: formatDateTime(eligibility.opens_at) })
      : t('patient.eligibility.cohort_not_open.soon');
  }
  if (['no_cohort', 'no_programme'].includes(eligibility.status)) return t(`patient.eligibility.${eligibility.status}`);
  return t('patient.eligibility.open');
}

function renderEligibility() {
  const patient = session.get()?.patient;
  const referral = patient?.referral;
  $('#eligibility-text').textContent = eligibilityText(patient);
  const referralText = $('#referral-text');
  referralText.hidden = !referral?.valid_until;
  if (referral?.valid_until) referralText.textContent = t('patient.referral', { date: formatDate(referral.valid_until) });
  const eligibility = patient?.eligibility;
  const opened = eligibility?.status === 'cohort_not_open' && eligibility.opens_at && new Date(eligibility.opens_at) <= new Date();
  $('#interest').hidden = eligibility?.status !== 'cohort_not_open' || opened;
  // Booking is offered to whoever may book (or whose group opened since signing in).
  $('#book').hidden = Boolean(eligibility) && eligibility.status !== 'open' && !opened;
}

async function registerInterest(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const phone = form.elements.phone.value.trim();
  try {
    const answer = await whileBusy(form, () => api('POST', '/interest', { body: { phone } }));
    showFieldError(form, {});
    const done = t('patient.interest.done', {
      cohort: answer.cohort_name || answer.cohort,
      opens_at: formatDateTime(answer.opens_at),
    });
    say(''); // the answer is shown (and read out) beside the form
    $('#interest-done').textContent = done;
    $('#interest-done').hidden = false;
  } catch (error) {
    refused(error, form);
  }
}

// --- my visits ---------------------------------------------------------------------------------

function renderVisits() {
  const holder = $('#visits-list');
  if (!holder) return; // signed out meanwhile
  if (state.visits === null) holder.replaceChildren(el('p', { class: 'muted' }, t('patient.visits.loading')));
  else holder.replaceChildren(visitList(state.visits, flow, startMoving));
}

async function loadVisits() {
  try {
    state.visits = (await api('GET', '/visits')).visits;
  } catch (error) {
    refused(error);
  }
  renderVisits();
  if (session.get()) loadCertificates(); // a session that just expired has said so: nothing more to ask
}

async function loadCertificates() {
  try {
    const list = await certificateList();
    $('#certificates-list')?.replaceChildren(list);
  } catch (error) {
    refused(error);
  }
}

// --- booking and moving ------------------------------------------------------------------------

function renderBookingHeading() {
  const moving = flow.moving();
  $('#book-heading').textContent = moving ? t('patient.move.heading', { dose: moving.dose }) : t('patient.book.heading');
  $('#book-intro').textContent = moving
    ? t('patient.move.intro', { when: formatDateTime(moving.starts_at), point: moving.point_name || '' })
    : t('patient.book.intro');
  $('#move-stop').hidden = !moving;
  $('#contact').hidden = Boolean(moving);
}

function startMoving(visit) {
  flow.startMoving(visit);
  $('#book-heading').focus();
}

// After a booking, a move or a cancellation: what happened, and the visits as they are now.
async function done(text) {
  say(text, 'success');
  await loadVisits();
  $('#visits-heading').focus();
}

const flow = bookingFlow({
  texts: 'patient',
  path: '/visits',
  searchId: 'find',
  contact: () => $('#contact'),
  details: () => {
    const phone = $('#contact [name="phone"]').value.trim();
    return phone ? { phone } : {};
  },
  booked: (answer, text) => done(text),
  changed: done,
  movingChanged: renderBookingHeading,
});
const { refused } = flow;

// --- the page ----------------------------------------------------------------------------------

function heading(level, id, key) {
  return el(`h${level}`, { id, tabindex: '-1', 'data-i18n': key }, t(key));
}

function buildApp() {
  const interestForm = el(
    'form',
    { id: 'interest-form', novalidate: true, onsubmit: registerInterest },
    el(
      'label',
      { for: 'interest-phone' },
      el('span', { 'data-i18n': 'patient.interest.phone' }, t('patient.interest.phone')),
      el('input', { id: 'interest-phone', name: 'phone', type: 'tel', inputmode: 'tel', autocomplete: 'tel', required: true }),
    ),
    el('div', { class: 'actions' }, el('button', { class: 'primary', 'data-i18n': 'patient.interest.submit' }, t('patient.interest.submit'))),
  );
  const contact = el(
    'div',
    { id: 'contact', class: 'field' },
    el('label', { for: 'book-phone', 'data-i18n': 'patient.book.phone' }, t('patient.book.phone')),
    el('span', { class: 'hint', id: 'book-phone-hint', 'data-i18n': 'patient.book.phone.hint' }, t('patient.book.phone.hint')),
    el('input', {
      id: 'book-phone',
      name: 'phone',
      type: 'tel',
      inputmode: 'tel',
      autocomplete: 'tel',
      'aria-describedby': 'book-phone-hint',
    }),
  );
  $('#app').replaceChildren(
    el(
      'section',
      { id: 'eligibility', 'aria-labelledby': 'eligibility-heading' },
      heading(2, 'eligibility-heading', 'patient.eligibility.heading'),
      el('p', { id: 'eligibility-text' }),
      el('p', { id: 'referral-text', class: 'muted' }),
    ),
    el(
      'section',
      { id: 'interest', 'aria-labelledby': 'interest-heading', hidden: true },
      heading(2, 'interest-heading', 'patient.interest.heading'),
      el('p', { 'data-i18n': 'patient.interest.intro' }, t('patient.interest.intro')),
      interestForm,
      el('p', { id: 'interest-done', class: 'status status-success', role: 'status', hidden: true }),
    ),
    el(
      'section',
      { id: 'visits', 'aria-labelledby': 'visits-heading' },
      heading(2, 'visits-heading', 'patient.visits.heading'),
      el('div', { id: 'visits-list' }),
    ),
    el(
      'section',
      { id: 'certificates', 'aria-labelledby': 'certificates-heading' },
      heading(2, 'certificates-heading', 'patient.certificates.heading'),
      el('div', { id: 'certificates-list' }),
    ),
    el(
      'section',
      { id: 'book', 'aria-labelledby': 'book-heading' },
      el('h2', { id: 'book-heading', tabindex: '-1' }),
      el('p', { id: 'book-intro' }),
      el(
        'div',
        { class: 'actions' },
        el('button', { id: 'move-stop', type: 'button', hidden: true, onclick: () => { flow.stopMoving(); $('#visits-heading').focus(); } }),
      ),
      contact,
      flow.search.element,
    ),
  );
  flow.search.start().catch(refused);
}

function renderApp() {
  renderEligibility();
  renderVisits();
  renderBookingHeading();
  $('#move-stop').textContent = t('patient.move.stop');
}

startShell({
  texts: 'patient',
  workspace: ['#app'],
  enter: ({ focus }) => {
    if (!$('#eligibility')) buildApp();
    renderApp();
    loadVisits();
    if (focus) $('#eligibility-heading').focus();
  },
  leave: () => {
    state.visits = null;
    flow.reset(); // nothing of the last person's search stays for the next one
    $('#app').replaceChildren();
  },
  languageChanged: () => {
    renderApp();
    flow.search.retranslate();
  },
});
