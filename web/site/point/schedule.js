// The schedule (published times per day, shown as blocks; publishing and editing a day's blocks)
// and the stock against the published places (recording deliveries).
import { api } from '/common/api.js';
import { formatNumber, refusalMessage, t } from '/common/i18n.js';
import { confirmAction, el, say, showFieldError, whileBusy } from '/common/ui.js';
import {
  addDays, formatDay, loadFailure, localDay, rememberLot, sayDone, state, updatedAt, vaccineName,
} from './shared.js';

const DEFAULT_BLOCK = { from: '08:00', to: '16:00', slot_minutes: 15, places: 2 };
let shownFrom = null;
let shownDays = 7;
let slotsByDay = new Map();

// --- stock ---------------------------------------------------------------------------------------

function stockTable(levels) {
  const columns = ['delivered', 'administered', 'on_hand', 'expected', 'published'];
  return el(
    'table',
    { class: 'stock stacked' },
    el('caption', {}, t('stock.caption')),
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, t('stock.col.vaccine')),
      columns.map((c) => el('th', { scope: 'col', class: 'number' }, t(`stock.col.${c}`))),
      el('th', { scope: 'col' }, t('day.col.status')))),
    el('tbody', {}, levels.map((level) => {
      const short = level.published_places - (level.on_hand + level.expected);
      return el('tr', { dataset: { vaccine: level.vaccine } },
        el('th', { scope: 'row', 'data-label': t('stock.col.vaccine') }, vaccineName(level.vaccine)),
        [level.delivered, level.administered, level.on_hand, level.expected, level.published_places].map((value, i) =>
          el('td', { class: 'number', 'data-label': t(`stock.col.${columns[i]}`) }, formatNumber(value))),
        el('td', { 'data-label': t('day.col.status'), class: short > 0 ? 'short' : '' },
          short > 0 ? t('stock.short', { n: formatNumber(short) }) : t('stock.ok')));
    })),
  ); // prettier-ignore
}

async function loadStock() {
  const box = document.querySelector('#stock-table');
  const failure = document.querySelector('#stock-failure');
  if (!box) return;
  try {
    const answer = await api('GET', `/points/${encodeURIComponent(state.pointId)}/stock`);
    state.vaccines = answer.stock.map((level) => level.vaccine);
    if (answer.point) state.points[state.pointId] = answer.point;
    failure.replaceChildren();
    box.replaceChildren(stockTable(answer.stock), updatedAt());
    fillVaccineSelects();
  } catch (error) {
    failure.replaceChildren(loadFailure(error, () => loadStock()));
  }
}

async function recordDelivery(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const vaccine = form.vaccine.value;
  const doses = Number.parseInt(form.doses.value, 10);
  const lot = form.lot.value.trim();
  const missing = !vaccine ? 'vaccine' : !(doses > 0) ? 'doses' : !lot ? 'lot' : null;
  if (missing) {
    say(refusalMessage({ code: 'invalid_field' }), 'error');
    showFieldError(form, { field: missing });
    return;
  }
  const facts = { doses: formatNumber(doses), vaccine: vaccineName(vaccine), lot };
  if (!(await confirmAction(t('delivery.confirm', facts), t('delivery.submit')))) {
    form.querySelector('button[type="submit"]').focus();
    return;
  }
  try {
    const answer = await whileBusy(form, () =>
      api('POST', `/points/${encodeURIComponent(state.pointId)}/deliveries`, { body: { vaccine, doses, lot } }),
    );
    showFieldError(form, {});
    rememberLot(state.pointId, lot);
    form.reset();
    sayDone(t('delivery.done', { ...facts, on_hand: formatNumber(answer.stock.on_hand) }));
    await loadStock();
  } catch (error) {
    say(refusalMessage(error), 'error');
    showFieldError(form, error);
  }
}

// --- schedule ------------------------------------------------------------------------------------

function minutesOf(iso) {
  return Number(iso.slice(11, 13)) * 60 + Number(iso.slice(14, 16));
}

function clockOf(minutes) {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

// A day's slots back as blocks: runs of one vaccine's slots at a steady step with the same places.
export function blocksOf(slots) {
  const blocks = [];
  const byVaccine = new Map();
  for (const slot of slots) byVaccine.set(slot.vaccine, [...(byVaccine.get(slot.vaccine) || []), slot]);
  for (const [vaccine, own] of byVaccine) {
    own.sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    let block = null;
    for (const slot of own) {
      const start = minutesOf(slot.starts_at);
      const step = block ? start - block.last : 0;
      const joins = block && slot.places === block.places && (block.count === 1 ? step > 0 : step === block.step);
      if (joins) {
        if (block.count === 1) block.step = step;
        block.last = start;
        block.count += 1;
        block.booked += slot.booked;
      } else {
        block = { vaccine, first: start, last: start, step: 0, count: 1, places: slot.places, booked: slot.booked };
        blocks.push(block);
      }
    }
  }
  return blocks
    .map((b) => {
      const minutes = b.step || DEFAULT_BLOCK.slot_minutes;
      return {
        from: clockOf(b.first), to: clockOf(Math.min(b.last + minutes, 24 * 60)), slot_minutes: minutes,
        places: b.places, vaccine: b.vaccine, booked: b.booked, count: b.count,
      };
    })
    .sort((a, b) => a.from.localeCompare(b.from) || a.vaccine.localeCompare(b.vaccine));
}

function scheduleList() {
  if (slotsByDay.size === 0) return el('p', { class: 'empty' }, t('sched.empty'));
  return el('ul', { class: 'cards schedule-days' }, [...slotsByDay].map(([day, slots]) => {
    const blocks = blocksOf(slots);
    const places = slots.reduce((sum, s) => sum + s.places, 0);
    const booked = slots.reduce((sum, s) => sum + s.booked, 0);
    return el('li', { dataset: { day } },
      el('h3', {}, formatDay(day)),
      el('p', { class: 'muted' }, t('sched.day_summary', { slots: slots.length, booked, places })),
      el('ul', { class: 'blocks' }, blocks.map((b) => el('li', {}, t('sched.block', {
        from: b.from, to: b.to, minutes: b.slot_minutes, places: b.places, vaccine: vaccineName(b.vaccine),
      })))),
      day >= localDay()
        ? el('div', { class: 'actions' }, el('button', {
          type: 'button', 'aria-label': t('sched.edit.label', { day: formatDay(day) }), onclick: () => editDay(day),
        }, t('sched.edit')))
        : null);
  })); // prettier-ignore
}

async function loadSchedule() {
  const box = document.querySelector('#schedule-list');
  const failure = document.querySelector('#schedule-failure');
  if (!box) return;
  box.setAttribute('aria-busy', 'true');
  const to = addDays(shownFrom, shownDays - 1);
  try {
    const answer = await api('GET', `/points/${encodeURIComponent(state.pointId)}/schedule?from=${shownFrom}&to=${to}`);
    slotsByDay = new Map();
    for (const slot of answer.slots) {
      const day = slot.starts_at.slice(0, 10);
      slotsByDay.set(day, [...(slotsByDay.get(day) || []), slot]);
    }
    failure.replaceChildren();
    box.replaceChildren(scheduleList(), updatedAt());
  } catch (error) {
    failure.replaceChildren(loadFailure(error, () => loadSchedule()));
  } finally {
    box.removeAttribute('aria-busy');
  }
}

function vaccineSelect(name, chosen) {
  return el('select', { name, required: true },
    state.vaccines.map((code) => el('option', { value: code, selected: code === chosen }, vaccineName(code)))); // prettier-ignore
}

function fillVaccineSelects() {
  for (const select of document.querySelectorAll('select[data-vaccines]')) {
    const chosen = select.value || select.dataset.chosen;
    select.replaceChildren(
      ...state.vaccines.map((code) => el('option', { value: code, selected: code === chosen }, vaccineName(code))),
    );
  }
}

function blockFieldset(block, index) {
  const n = index + 1;
  const prefix = `blocks.${index}`;
  const vaccine = vaccineSelect(`${prefix}.vaccine`, block.vaccine);
  vaccine.dataset.vaccines = '';
  vaccine.dataset.chosen = block.vaccine || '';
  return el('fieldset', { class: 'block', name: prefix },
    el('legend', {}, t('sched.block.legend', { n })),
    el('div', { class: 'row' },
      el('label', {}, t('sched.block.from'),
        el('input', { type: 'time', name: `${prefix}.from`, value: block.from, required: true, step: 300 })),
      el('label', {}, t('sched.block.to'),
        el('input', { type: 'time', name: `${prefix}.to`, value: block.to === '24:00' ? '00:00' : block.to,
                      required: true, step: 300 })),
      el('label', {}, t('sched.block.minutes'),
        el('input', { type: 'number', name: `${prefix}.slot_minutes`, value: block.slot_minutes, min: 5, max: 240,
                      step: 5, required: true, inputmode: 'numeric' })),
      el('label', {}, t('sched.block.places'),
        el('input', { type: 'number', name: `${prefix}.places`, value: block.places, min: 1, max: 500,
                      required: true, inputmode: 'numeric' })),
      el('label', {}, t('sched.block.vaccine'), vaccine)),
    el('div', { class: 'actions' }, el('button', {
      type: 'button', class: 'danger', onclick: () => removeBlock(index),
    }, t('sched.block.remove', { n })))); // prettier-ignore
}

function readBlocks(form) {
  const count = form.querySelectorAll('fieldset.block').length;
  const blocks = [];
  for (let i = 0; i < count; i += 1) {
    const value = (field) => form.elements[`blocks.${i}.${field}`].value;
    const from = value('from');
    let to = value('to');
    if (to === '00:00') to = '24:00'; // a block up to midnight
    blocks.push({
      day: form.day.value, from, to, slot_minutes: Number.parseInt(value('slot_minutes'), 10),
      places: Number.parseInt(value('places'), 10), vaccine: value('vaccine'),
    });
  }
  return blocks;
}

function renderBlocks(blocks) {
  const holder = document.querySelector('#editor-blocks');
  holder.replaceChildren(...blocks.map((block, index) => blockFieldset(block, index)));
}

function removeBlock(index) {
  const form = document.querySelector('#schedule-form');
  const blocks = readBlocks(form);
  blocks.splice(index, 1);
  renderBlocks(blocks);
  const buttons = form.querySelectorAll('fieldset.block button');
  (buttons[Math.min(index, buttons.length - 1)] || form.querySelector('#add-block')).focus();
}

function addBlock() {
  const form = document.querySelector('#schedule-form');
  const blocks = readBlocks(form);
  blocks.push({ ...DEFAULT_BLOCK, vaccine: state.vaccines[0] });
  renderBlocks(blocks);
  form.elements[`blocks.${blocks.length - 1}.from`].focus();
}

function editDay(day) {
  const form = document.querySelector('#schedule-form');
  form.day.value = day;
  const blocks = blocksOf(slotsByDay.get(day) || []);
  renderBlocks(blocks.length ? blocks : [{ ...DEFAULT_BLOCK, vaccine: state.vaccines[0] }]);
  form.day.focus();
  form.scrollIntoView({ block: 'start' });
}

function fieldOf(error) {
  const day = /^blocks\.\d+\.day$/.test(error.field || '');
  return { ...error, field: day ? 'day' : error.field };
}

function slotsWithVisits(error) {
  const slots = error.problem?.slots || [];
  return slots
    .map((s) => `${s.starts_at.slice(11, 16)} ${vaccineName(s.vaccine)} (${s.booked})`)
    .join(', ');
}

async function publish(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const blocks = readBlocks(form);
  const day = form.day.value;
  if (!day) {
    say(refusalMessage({ code: 'invalid_field' }), 'error');
    showFieldError(form, { field: 'day' });
    return;
  }
  if (blocks.length === 0) {
    say(refusalMessage({ code: 'no_blocks' }), 'error');
    form.querySelector('#add-block').focus();
    return;
  }
  if (!(await confirmAction(t('sched.publish.confirm', { day: formatDay(day) }), t('sched.publish')))) {
    form.querySelector('button[type="submit"]').focus();
    return;
  }
  try {
    const answer = await whileBusy(form, () =>
      api('PUT', `/points/${encodeURIComponent(state.pointId)}/schedule`, { body: { blocks } }),
    );
    showFieldError(form, {});
    sayDone(t('sched.published', {
      day: formatDay(day), created: answer.created.length, changed: answer.changed.length,
      removed: answer.removed.length,
    })); // prettier-ignore
    if (day < shownFrom || day > addDays(shownFrom, shownDays - 1)) {
      shownFrom = day;
      document.querySelector('#schedule-range').from.value = day;
    }
    await Promise.all([loadSchedule(), loadStock()]);
  } catch (error) {
    const more = error.code === 'slot_has_visits' ? ` ${t('sched.has_visits', { slots: slotsWithVisits(error) })}` : '';
    say(refusalMessage(error) + more, 'error');
    showFieldError(form, fieldOf(error));
  }
}

export function renderSchedule(app) {
  const today = localDay();
  shownFrom = shownFrom || today;
  slotsByDay = new Map();
  const range = el('form', {
    id: 'schedule-range', class: 'row toolbar', 'aria-label': t('sched.heading'),
    onsubmit: (event) => {
      event.preventDefault();
      shownFrom = event.currentTarget.from.value || today;
      shownDays = Number.parseInt(event.currentTarget.days.value, 10) || 7;
      loadSchedule();
    },
  },
  el('label', {}, t('sched.from'), el('input', { type: 'date', name: 'from', value: shownFrom, required: true })),
  el('label', {}, t('sched.days'), el('select', { name: 'days' },
    [7, 14, 31].map((n) => el('option', { value: n, selected: n === shownDays }, String(n))))),
  el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, t('sched.show')))); // prettier-ignore

  const editor = el('form', { id: 'schedule-form', novalidate: true, onsubmit: publish },
    el('p', { class: 'hint' }, t('sched.editor.hint')),
    el('label', {}, t('sched.day'), el('input', { type: 'date', name: 'day', value: addDays(today, 1), min: today,
                                                  required: true })),
    el('div', { id: 'editor-blocks', class: 'blocks-editor' }),
    el('div', { class: 'actions' },
      el('button', { type: 'button', id: 'add-block', onclick: addBlock }, t('sched.block.add')),
      el('button', { type: 'submit', class: 'primary' }, t('sched.publish')))); // prettier-ignore

  const delivery = el('form', { id: 'delivery-form', novalidate: true, onsubmit: recordDelivery },
    el('div', { class: 'row' },
      el('label', {}, t('delivery.vaccine'), vaccineSelect('vaccine')),
      el('label', {}, t('delivery.doses'),
        el('input', { type: 'number', name: 'doses', min: 1, required: true, inputmode: 'numeric' })),
      el('label', {}, t('delivery.lot'), el('input', { name: 'lot', autocomplete: 'off', maxlength: 40, required: true }))),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, t('delivery.submit')))); // prettier-ignore
  delivery.vaccine.dataset.vaccines = '';

  app.append(
    el('section', { 'aria-labelledby': 'stock-heading' },
      el('h2', { id: 'stock-heading' }, t('stock.heading')),
      el('div', { id: 'stock-failure' }),
      el('div', { id: 'stock-table', class: 'table-scroll' }),
      el('h3', {}, t('delivery.heading')),
      delivery),
    el('section', { 'aria-labelledby': 'schedule-heading' },
      el('h2', { id: 'schedule-heading' }, t('sched.heading')),
      range,
      el('div', { id: 'schedule-failure' }),
      el('div', { id: 'schedule-list' })),
    el('section', { 'aria-labelledby': 'editor-heading' },
      el('h2', { id: 'editor-heading' }, t('sched.editor')),
      editor),
  ); // prettier-ignore
  renderBlocks([{ ...DEFAULT_BLOCK, vaccine: state.vaccines[0] }]);
  loadStock().then(() => {
    for (const select of document.querySelectorAll('#editor-blocks select[data-vaccines]')) {
      if (!select.dataset.chosen) select.dataset.chosen = state.vaccines[0] || '';
    }
    fillVaccineSelects();
  });
  loadSchedule();
}
