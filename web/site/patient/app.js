// The patient app: sign in, eligibility, find a slot and book (dose 2 comes with it), my visits
// with the check-in code, move and cancel, and "tell me when my group opens".
import './texts.js';
import { api, withIntentKey } from '/common/api.js';
import { formatDate, formatDateTime, t } from '/common/i18n.js';
import { session } from '/common/session.js';
import { finishNationalSignIn, signInLocally, signOut, siteConfig, startNationalSignIn } from '/common/signin.js';
import { slotSearch, vaccineName } from '/common/slot-search.js';
import { $, confirmAction, el, say, sayRefusal, showFieldError, startPage, whileBusy } from '/common/ui.js';
import { certificateList } from './certificates.js';
import { visitList } from './visits.js';

const state = { visits: null, moving: null };

const SLOT_GONE = new Set(['slot_full', 'slot_not_found', 'slot_in_past']); // the list is out of date

function refused(error, form = null) {
  if (SLOT_GONE.has(error.code)) search.rerun();
  sayRefusal(error);
  if (form) showFieldError(form, error);
  $('#status').scrollIntoView({ block: 'nearest' });
}

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
  else holder.replaceChildren(visitList(state.visits, { move: startMoving, cancel: cancelVisit }));
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

async function cancelVisit(visit) {
  const question = t('patient.cancel.confirm', { dose: visit.dose, when: formatDateTime(visit.starts_at) });
  const ok = await confirmAction(question, t('patient.cancel.confirm.button'), { cancelLabel: t('patient.cancel.keep') });
  if (!ok) return;
  try {
    await api('DELETE', `/visits/${encodeURIComponent(visit.visit_id)}`);
    if (state.moving?.visit_id === visit.visit_id) stopMoving();
    say(t('patient.cancel.done'), 'success');
    await loadVisits();
    $('#visits-heading').focus();
  } catch (error) {
    refused(error);
  }
}

// --- booking and moving ------------------------------------------------------------------------

function renderBookingHeading() {
  const moving = state.moving;
  $('#book-heading').textContent = moving ? t('patient.move.heading', { dose: moving.dose }) : t('patient.book.heading');
  $('#book-intro').textContent = moving
    ? t('patient.move.intro', { when: formatDateTime(moving.starts_at), point: moving.point_name || '' })
    : t('patient.book.intro');
  $('#move-stop').hidden = !moving;
  $('#contact').hidden = Boolean(moving);
}

function startMoving(visit) {
  state.moving = visit;
  search.lockVaccine(visit.vaccine);
  search.clear();
  renderBookingHeading();
  $('#book-heading').focus();
}

function stopMoving() {
  state.moving = null;
  search.lockVaccine(null);
  search.refresh();
  renderBookingHeading();
}

function slotWords(slot) {
  return { when: formatDateTime(slot.starts_at), point: slot.point_name, vaccine: vaccineName(slot.vaccine) };
}

async function book(slot) {
  const words = slotWords(slot);
  if (!(await confirmAction(t('patient.book.confirm', words), t('patient.book.confirm.button')))) return;
  const contact = $('#contact');
  const phone = contact.querySelector('[name="phone"]').value.trim();
  const body = { point_id: slot.point_id, starts_at: slot.starts_at, vaccine: slot.vaccine };
  if (phone) body.phone = phone;
  try {
    const answer = await withIntentKey(`book:${JSON.stringify(body)}`, (idempotencyKey) =>
      api('POST', '/visits', { body, idempotencyKey }),
    );
    showFieldError(contact, {});
    const [first, ...next] = answer.visits;
    const lines = [t('patient.book.done', { when: formatDateTime(first.starts_at), code: first.check_in_code })];
    for (const visit of next) lines.push(t('patient.book.done.next', { dose: visit.dose, when: formatDateTime(visit.starts_at) }));
    if (answer.next_dose) {
      lines.push(
        t('patient.book.pending', {
          dose: answer.next_dose.dose,
          earliest: formatDate(answer.next_dose.earliest),
          latest: formatDate(answer.next_dose.latest),
        }),
      );
    }
    say(lines.join(' '), 'success');
    await loadVisits();
    $('#visits-heading').focus();
  } catch (error) {
    refused(error, contact);
  }
}

async function move(slot) {
  const visit = state.moving;
  const words = { ...slotWords(slot), dose: visit.dose, from: formatDateTime(visit.starts_at) };
  if (!(await confirmAction(t('patient.move.confirm', words), t('patient.move.confirm.button')))) return;
  try {
    await api('PATCH', `/visits/${encodeURIComponent(visit.visit_id)}`, {
      body: { point_id: slot.point_id, starts_at: slot.starts_at },
    });
    stopMoving();
    say(t('patient.move.done', { when: words.when }), 'success');
    await loadVisits();
    $('#visits-heading').focus();
  } catch (error) {
    refused(error);
  }
}

const search = slotSearch({
  id: 'find',
  choose: (slot) => (state.moving ? move(slot) : book(slot)),
  chooseLabel: () => (state.moving ? t('patient.move.choose') : t('patient.book.choose')),
});

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
        el('button', { id: 'move-stop', type: 'button', hidden: true, onclick: () => { stopMoving(); $('#visits-heading').focus(); } }),
      ),
      contact,
      search.element,
    ),
  );
  search.start().catch(refused);
}

function renderApp() {
  renderEligibility();
  renderVisits();
  renderBookingHeading();
  $('#move-stop').textContent = t('patient.move.stop');
}

function show({ focus = false } = {}) {
  const signedIn = session.get();
  $('#signin').hidden = Boolean(signedIn);
  $('#app').hidden = !signedIn;
  $('#signout').hidden = !signedIn;
  if (!signedIn) {
    state.visits = null;
    state.moving = null;
    search.lockVaccine(null);
    search.clear(); // nothing of the last person's search stays for the next one
    $('#app').replaceChildren();
    if (focus) $('#signin-form [name="pesel"]')?.focus();
    return;
  }
  if (!$('#eligibility')) buildApp();
  renderApp();
  if (signedIn.patient) say(t('patient.signedin', { name: signedIn.patient.given_name }));
  loadVisits();
  if (focus) $('#eligibility-heading').focus();
}

async function setUpSignIn() {
  const { identity } = await siteConfig();
  const local = identity === 'dev';
  for (const field of $('#signin-form').querySelectorAll('.dev-only')) field.hidden = !local;
  $('#signin-national').hidden = local;
  $('#signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    if (!local) {
      await startNationalSignIn();
      return;
    }
    const data = Object.fromEntries(new FormData(form));
    try {
      await whileBusy(form, () => signInLocally(data));
      show({ focus: true });
    } catch (error) {
      refused(error, form);
    }
  });
}

$('#signout').addEventListener('click', async () => {
  await signOut().catch(() => {});
  show({ focus: true });
  say(t('patient.signedout'));
});

document.addEventListener('session:expired', () => {
  show({ focus: true });
  say(t('status.expired'), 'error');
});

document.addEventListener('language:changed', () => {
  if (!session.get()) return;
  renderApp();
  search.retranslate();
});

startPage();
await setUpSignIn();
let cameBack = null;
try {
  cameBack = await finishNationalSignIn();
} catch (error) {
  refused(error);
}
show({ focus: Boolean(cameBack) });
