// What the point console's views share: the chosen point, its vaccines and lots, local days, load errors.
import { formatTime, refusalMessage, t, vaccineName as nameOfVaccine } from '/common/i18n.js';
import { el, say } from '/common/ui.js';

const POINT_KEY = 'ereg.point';
const LOTS_KEY = 'ereg.point.lots';

export const state = {
  pointIds: [],
  pointId: null,
  vaccines: [], // the chosen point's vaccines (from its stock)
  points: {}, // point id -> {name, address}, learnt from the stock answers
};

export function choosePoint(pointId) {
  state.pointId = pointId;
  sessionStorage.setItem(POINT_KEY, pointId);
}

export function rememberedPoint() {
  return sessionStorage.getItem(POINT_KEY);
}

export function pointLabel(pointId) {
  const point = state.points[pointId];
  return point ? `${point.name}, ${point.address}` : t('point.name', { short: pointId.slice(0, 8) });
}

// The point's staff see each vaccine with its maker.
export function vaccineName(code) {
  return nameOfVaccine(code, { maker: true });
}

// Lots this browser recorded or used at a point, newest first: offered as suggestions when vaccinating.
export function knownLots(pointId) {
  try {
    return JSON.parse(localStorage.getItem(LOTS_KEY) || '{}')[pointId] || [];
  } catch {
    return [];
  }
}

export function rememberLot(pointId, lot) {
  let all = {};
  try {
    all = JSON.parse(localStorage.getItem(LOTS_KEY) || '{}');
  } catch {
    all = {};
  }
  all[pointId] = [lot, ...(all[pointId] || []).filter((known) => known !== lot)].slice(0, 10);
  localStorage.setItem(LOTS_KEY, JSON.stringify(all));
}

const DAY = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Warsaw', year: 'numeric', month: '2-digit', day: '2-digit' });

// A local day (Europe/Warsaw) as YYYY-MM-DD.
export function localDay(moment = new Date()) {
  return DAY.format(moment);
}

export function addDays(day, days) {
  const moment = new Date(`${day}T12:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() + days);
  return moment.toISOString().slice(0, 10);
}

export function formatDay(day) {
  return new Intl.DateTimeFormat(document.documentElement.lang || 'pl', {
    weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC',
  }).format(new Date(`${day}T12:00:00Z`));
}

export function clock(iso) {
  return formatTime(iso);
}

// A box that says a load failed, why, and offers to try again; the last data stays on screen.
export function loadFailure(error, retry) {
  return el(
    'div',
    { class: 'status status-error load-failure', role: 'alert' },
    el('p', {}, t('point.load_failed', { reason: refusalMessage(error) })),
    el('button', { type: 'button', onclick: retry }, t('action.retry')),
  );
}

export function updatedAt() {
  return el('p', { class: 'muted updated' }, t('point.updated', { time: formatTime(new Date().toISOString()) }));
}

const DONE_SHOWN_MS = 30_000;

// Success in the status line, cleared after a while so it does not cover the page (it is announced at once).
export function sayDone(text) {
  say(text, 'success');
  setTimeout(() => {
    const status = document.querySelector('#status');
    if (status && status.textContent === text && status.classList.contains('status-success')) say('');
  }, DONE_SHOWN_MS);
}
