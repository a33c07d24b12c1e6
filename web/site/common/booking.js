// The booking flow the patient app and the call-centre console share: find a free slot, book it (one
// Idempotency-Key per intent, so a retry after a lost answer is the same booking), move a visit to
// another slot or cancel it, and say what the answers and refusals mean. The app says where it books
// (`path`: /visits or /agent/visits), whose texts it speaks (`texts`: patient.book.done, agent.move.confirm…)
// and what happens around it:
//
//   const flow = bookingFlow({
//     texts: 'agent', path: '/agent/visits', searchId: 'agent-find',
//     keyboard: true,                  // Enter goes ahead in the questions (a console run by keyboard)
//     contact: () => element,          // the phone fields a refusal may name
//     details: () => ({ pesel, phone }),  // what the booking sends besides the slot
//     words: () => ({ name }),         // more words for the questions (the caller's name)
//     booked: (answer, text) => …,     // the visits are booked: `text` says when (and the next doses)
//     changed: (text, kind) => …,      // a visit was 'moved' or 'cancelled': `text` says so
//     movingChanged: () => …,          // a move began or ended: the heading and the buttons again
//   });
import { api, withIntentKey } from './api.js';
import { formatDate, formatDateTime, t, vaccineName } from './i18n.js';
import { slotSearch } from './slot-search.js';
import { $, confirmAction, el, sayRefusal, showFieldError } from './ui.js';

// Refusals that say the list of slots is out of date: it is asked for again.
const SLOT_GONE = new Set(['slot_full', 'slot_not_found', 'slot_in_past']);

// A booked visit still to come can be moved or cancelled.
export function changeable(visit) {
  return visit.status === 'BOOKED' && new Date(visit.starts_at) > new Date();
}

export function slotWords(slot) {
  return { when: formatDateTime(slot.starts_at), point: slot.point_name, vaccine: vaccineName(slot.vaccine) };
}

// "Booked for …", then the later doses booked with it, then a dose nobody could book yet.
function bookedText(texts, answer) {
  const [first, ...next] = answer.visits;
  const lines = [t(`${texts}.book.done`, { when: formatDateTime(first.starts_at), code: first.check_in_code })];
  for (const visit of next) lines.push(t(`${texts}.book.done.next`, { dose: visit.dose, when: formatDateTime(visit.starts_at) }));
  const pending = answer.next_dose;
  if (pending) {
    const window = { dose: pending.dose, earliest: formatDate(pending.earliest), latest: formatDate(pending.latest) };
    lines.push(t(`${texts}.book.pending`, window));
  }
  return lines.join(' ');
}

export function bookingFlow({
  texts,
  path,
  searchId,
  keyboard = false,
  contact,
  details = () => ({}),
  words = () => ({}),
  booked,
  changed,
  movingChanged = () => {},
}) {
  let moving = null; // the visit being moved, or null when booking

  const search = slotSearch({
    id: searchId,
    choose: (slot) => (moving ? move(slot) : book(slot)),
    chooseLabel: () => t(moving ? `${texts}.move.choose` : `${texts}.book.choose`),
  });

  function refused(error, form = null) {
    if (SLOT_GONE.has(error.code)) search.rerun();
    sayRefusal(error);
    if (form) showFieldError(form, error);
    $('#status')?.scrollIntoView({ block: 'nearest' });
  }

  function ask(action, slotOrVisit) {
    return confirmAction(t(`${texts}.${action}.confirm`, slotOrVisit), t(`${texts}.${action}.confirm.button`), {
      focusConfirm: keyboard,
    });
  }

  async function book(slot) {
    if (!(await ask('book', { ...slotWords(slot), ...words() }))) return;
    const form = contact();
    const body = { ...details(), point_id: slot.point_id, starts_at: slot.starts_at, vaccine: slot.vaccine };
    try {
      const answer = await withIntentKey(`${path}:${JSON.stringify(body)}`, (idempotencyKey) =>
        api('POST', path, { body, idempotencyKey }),
      );
      showFieldError(form, {});
      await booked(answer, bookedText(texts, answer));
    } catch (error) {
      refused(error, form);
    }
  }

  function stopMoving() {
    moving = null;
    search.lockVaccine(null);
    search.refresh();
    movingChanged();
  }

  async function move(slot) {
    const visit = moving;
    const said = { ...slotWords(slot), ...words(), dose: visit.dose, from: formatDateTime(visit.starts_at) };
    if (!(await ask('move', said))) return;
    try {
      await api('PATCH', `${path}/${encodeURIComponent(visit.visit_id)}`, {
        body: { point_id: slot.point_id, starts_at: slot.starts_at },
      });
      stopMoving();
      await changed(t(`${texts}.move.done`, { when: said.when }), 'moved');
    } catch (error) {
      refused(error);
    }
  }

  async function cancel(visit) {
    const question = t(`${texts}.cancel.confirm`, { dose: visit.dose, when: formatDateTime(visit.starts_at) });
    const ok = await confirmAction(question, t(`${texts}.cancel.confirm.button`), { cancelLabel: t(`${texts}.cancel.keep`) });
    if (!ok) return;
    try {
      await api('DELETE', `${path}/${encodeURIComponent(visit.visit_id)}`);
      if (moving?.visit_id === visit.visit_id) stopMoving();
      await changed(t(`${texts}.cancel.done`), 'cancelled');
    } catch (error) {
      refused(error);
    }
  }

  // A changeable visit's buttons, each named with `name` (the visit in words): move (`move(visit)`
  // begins it: the app says where focus goes), cancel, and what else the app adds.
  function visitActions(visit, name, move, ...more) {
    if (!changeable(visit)) return null;
    const button = (key, onclick, cls = null) =>
      el('button', { type: 'button', class: cls, 'aria-label': `${t(key)}: ${name}`, onclick }, t(key));
    return el(
      'div',
      { class: 'actions' },
      button(`${texts}.visit.move`, () => move(visit)),
      button(`${texts}.visit.cancel`, () => cancel(visit), 'danger'),
      ...more.map(([key, onclick]) => button(key, () => onclick(visit))),
    );
  }

  return {
    search,
    refused,
    visitActions,
    moving: () => moving,
    startMoving(visit) {
      moving = visit;
      search.lockVaccine(visit.vaccine);
      search.clear();
      movingChanged();
    },
    stopMoving,
    // Nothing of the last person's booking stays for the next one.
    reset() {
      moving = null;
      search.lockVaccine(null);
      search.clear();
    },
  };
}
