// The ministry dashboard: the day's figures and the last days' series from the report routes, as
// charts (chart.js, loaded before this module as window.Chart) with tables carrying every value.
// It refreshes on its own, pauses while the tab is hidden, and keeps the last figures when a
// refresh fails.
import { api } from '/common/api.js';
import { currentLanguage, extend, formatDate, formatNumber, refusalMessage, t, vaccineName } from '/common/i18n.js';
import { session } from '/common/session.js';
import { startShell } from '/common/shell.js';
import { voivodeshipName, voivodeships } from '/common/voivodeships.js';
import { $, el, say } from '/common/ui.js';
import { drawChart, PALETTE } from './charts.js';
import { refreshSeconds, SETTINGS } from './settings.js';
import { TEXTS } from './texts.js';

extend(TEXTS);

const SERIES = ['bookings', 'vaccinations', 'no_shows', 'sms_sent', 'sms_segments'];
const WARSAW = 'Europe/Warsaw';
const everySeconds = refreshSeconds();

let latest = null; // {day, from, summary, series: {metric: [{day, value}]}, at: Date}
let timer = null;
let running = null;
let again = false;
let refreshes = 0;

function todayInWarsaw() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: WARSAW }).format(new Date());
}

function addDays(isoDay, days) {
  const moment = new Date(`${isoDay}T12:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() + days);
  return moment.toISOString().slice(0, 10);
}

function clockTime(moment) {
  return new Intl.DateTimeFormat(currentLanguage(), { timeStyle: 'medium', timeZone: WARSAW }).format(moment);
}

function shortDate(isoDay) {
  return new Intl.DateTimeFormat(currentLanguage(), { day: 'numeric', month: 'short', timeZone: WARSAW }).format(
    new Date(`${isoDay}T12:00:00Z`),
  );
}

function money(value) {
  return new Intl.NumberFormat(currentLanguage(), { style: 'currency', currency: 'PLN' }).format(value);
}

function percent(share) {
  return new Intl.NumberFormat(currentLanguage(), { style: 'percent', maximumFractionDigits: 1 }).format(share);
}

function regionName(code) {
  const region = regions.find((r) => r.code === code);
  return region ? voivodeshipName(region) : code;
}

function smsCost(segments) {
  return segments * SETTINGS.smsPricePerSegmentPln;
}

// --- loading ----------------------------------------------------------------------------------

// Until someone picks another day, the dashboard follows today, past midnight too.
let followToday = true;

function chosenDay() {
  const input = $('#day');
  const today = todayInWarsaw();
  input.max = today;
  if (followToday || !input.value) input.value = today;
  return input.value;
}

let regions = []; // common/voivodeships.json: the 16 by TERYT code, with their Polish and English names

async function load() {
  const day = chosenDay();
  const from = addDays(day, -(SETTINGS.seriesDays - 1));
  const range = `from=${from}&to=${day}`;
  const [list, summary, ...series] = await Promise.all([
    voivodeships(), // fetched once, then kept
    api('GET', `/reports/summary?day=${day}`),
    ...SERIES.map((metric) => api('GET', `/reports/timeseries?metric=${metric}&${range}`)),
  ]);
  regions = list;
  return {
    day,
    from,
    summary,
    series: Object.fromEntries(SERIES.map((metric, n) => [metric, series[n].points])),
    at: new Date(),
  };
}

function schedule() {
  clearTimeout(timer);
  timer = null;
  if (document.hidden || !session.get()) return;
  timer = setTimeout(refresh, everySeconds * 1000);
}

async function refresh() {
  if (running) {
    again = true; // the day may have changed since this refresh began
    return running;
  }
  again = false;
  clearTimeout(timer);
  refreshes += 1;
  $('#board').dataset.refreshes = String(refreshes); // for tests and the curious
  running = (async () => {
    try {
      latest = await load();
      $('#refresh-notice').hidden = true;
      render();
    } catch (error) {
      if (error.status === 401) return; // the session:expired handler asks to sign in again
      if (error.status === 403) {
        session.clear();
        latest = null;
        shell.show();
        say(t('dashboard.not_analyst'), 'error');
        return;
      }
      refreshFailed(error);
    } finally {
      running = null;
      if (again && session.get()) refresh();
      else schedule();
    }
  })();
  return running;
}

function refreshFailed(error) {
  const notice = $('#refresh-notice');
  const time = clockTime(new Date());
  const reason = refusalMessage(error);
  notice.textContent = latest
    ? t('dashboard.refresh_failed', { time, reason, shown: clockTime(latest.at) })
    : t('dashboard.refresh_failed.none', { time, reason, seconds: everySeconds });
  notice.hidden = false;
}

// --- rendering --------------------------------------------------------------------------------

function figure(key, value, shown, note) {
  return el(
    'li',
    { dataset: { figure: key } },
    el('span', { class: 'figure-label' }, t(`dashboard.figure.${key}`)),
    el('span', { class: 'figure-value', dataset: { value: String(value) } }, shown),
    note ? el('span', { class: 'figure-note' }, note) : null,
  );
}

function lastValue(points) {
  return points.length ? points[points.length - 1].value : 0;
}

function renderFigures() {
  const { summary, series, day } = latest;
  $('#figures-heading').textContent = t('dashboard.figures.heading', { day: formatDate(day) });
  const segments = lastValue(series.sms_segments);
  const cost = smsCost(segments);
  const items = ['bookings', 'vaccinations', 'cancellations', 'no_shows', 'sms_sent'].map((key) =>
    figure(key, summary[key], formatNumber(summary[key])),
  );
  items.push(
    figure(
      'sms_cost',
      cost.toFixed(2),
      money(cost),
      t('dashboard.figure.sms_cost.note', {
        segments: formatNumber(segments),
        price: money(SETTINGS.smsPricePerSegmentPln),
      }),
    ),
  );
  const capacity = summary.capacity;
  if (capacity && capacity.places > 0) {
    items.push(
      figure(
        'capacity',
        (capacity.booked / capacity.places).toFixed(4),
        percent(capacity.booked / capacity.places),
        t('dashboard.figure.capacity.note', { booked: formatNumber(capacity.booked), places: formatNumber(capacity.places) }),
      ),
    );
  } else if (capacity) {
    items.push(figure('capacity', '', '–', t('dashboard.figure.capacity.none')));
  }
  $('#figures').replaceChildren(...items);
}

// A table's title: read out as its caption, shown above the scrolling area so a phone shows it whole.
function caption(table, text) {
  $(`#${table.id}-title`).textContent = text;
  return el('caption', { class: 'visually-hidden' }, text);
}

function numberCell(value, column) {
  return el('td', { class: 'number', dataset: { value: String(value), column } }, formatNumber(value));
}

function headerRow(keys, first) {
  return el(
    'tr',
    {},
    el('th', { scope: 'col' }, t(first)),
    keys.map((key) => el('th', { scope: 'col', class: 'number' }, t(`dashboard.col.${key}`))),
  );
}

// Every voivodeship, 0 where nothing happened; the capacity columns when the summary has them.
function regionRows() {
  const given = new Map(latest.summary.by_voivodeship.map((row) => [row.voivodeship, row]));
  return regions.map(({ code }) => {
    const row = given.get(code) ?? {};
    return {
      code,
      bookings: row.bookings ?? 0,
      vaccinations: row.vaccinations ?? 0,
      no_shows: row.no_shows ?? 0,
      places: row.places ?? 0,
      booked: row.booked ?? 0,
    };
  });
}

function hasCapacity() {
  return Boolean(latest.summary.capacity);
}

function renderRegions() {
  const rows = regionRows();
  const counts = hasCapacity() ? ['bookings', 'vaccinations', 'no_shows', 'places', 'booked'] : ['bookings', 'vaccinations'];
  const columns = hasCapacity() ? [...counts, 'capacity'] : counts;
  const share = (row) => (row.places > 0 ? percent(row.booked / row.places) : '–');
  const total = Object.fromEntries(counts.map((key) => [key, rows.reduce((sum, row) => sum + row[key], 0)]));
  $('#regions').replaceChildren(
    caption($('#regions'), t(hasCapacity() ? 'dashboard.regions.caption.capacity' : 'dashboard.regions.caption', { day: formatDate(latest.day) })),
    el('thead', {}, headerRow(columns, 'dashboard.col.voivodeship')),
    el(
      'tbody',
      {},
      rows.map((row) =>
        el(
          'tr',
          { dataset: { voivodeship: row.code } },
          el('th', { scope: 'row' }, regionName(row.code)),
          counts.map((key) => numberCell(row[key], key)),
          hasCapacity() ? el('td', { class: 'number', dataset: { column: 'capacity' } }, share(row)) : null,
        ),
      ),
    ),
    el(
      'tfoot',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, t('dashboard.total')),
        counts.map((key) => numberCell(total[key], key)),
        hasCapacity() ? el('td', { class: 'number' }, share(total)) : null,
      ),
    ),
  );
  const day = formatDate(latest.day);
  drawChart('regions', $('#chart-regions'), {
    type: 'bar',
    labels: rows.map((row) => regionName(row.code)),
    horizontal: true,
    label: t('dashboard.chart.regions', { day }),
    datasets: [
      { label: t('dashboard.col.bookings'), data: rows.map((row) => row.bookings), ...PALETTE[0] },
      { label: t('dashboard.col.vaccinations'), data: rows.map((row) => row.vaccinations), ...PALETTE[1] },
    ],
  });
  $('#chart-regions-caption').textContent = t('dashboard.chart.regions.caption');
  $('#capacity-figure').hidden = !hasCapacity();
  if (hasCapacity()) {
    drawChart('capacity', $('#chart-capacity'), {
      type: 'bar',
      labels: rows.map((row) => regionName(row.code)),
      horizontal: true,
      percent: true,
      label: t('dashboard.chart.capacity', { day }),
      datasets: [
        {
          label: t('dashboard.chart.percent'),
          data: rows.map((row) => (row.places > 0 ? Math.round((1000 * row.booked) / row.places) / 10 : 0)),
          ...PALETTE[2],
        },
      ],
    });
    $('#chart-capacity-caption').textContent = t('dashboard.chart.capacity.caption');
  }
}

function renderVaccines() {
  const rows = latest.summary.by_vaccine;
  $('#vaccines').hidden = !rows;
  if (!rows) return;
  $('#vaccines-none').hidden = rows.length > 0;
  $('#by-vaccine-scroll').hidden = rows.length === 0;
  $('#by-vaccine-title').hidden = rows.length === 0;
  $('#vaccines-figure').hidden = rows.length === 0;
  const name = (row) => vaccineName(row.vaccine, { maker: true });
  drawChart('vaccines', $('#chart-vaccines'), {
    type: 'bar',
    labels: rows.map((row) => name(row).split(' (')[0]),
    label: t('dashboard.chart.vaccines', { day: formatDate(latest.day) }),
    datasets: [
      { label: t('dashboard.col.bookings'), data: rows.map((row) => row.bookings), ...PALETTE[0] },
      { label: t('dashboard.col.vaccinations'), data: rows.map((row) => row.vaccinations), ...PALETTE[1] },
    ],
  });
  $('#chart-vaccines-caption').textContent = t('dashboard.chart.vaccines.caption');
  $('#by-vaccine').replaceChildren(
    caption($('#by-vaccine'), t('dashboard.vaccines.caption', { day: formatDate(latest.day) })),
    el('thead', {}, headerRow(['bookings', 'vaccinations'], 'dashboard.col.vaccine')),
    el(
      'tbody',
      {},
      rows.map((row) =>
        el(
          'tr',
          { dataset: { vaccine: row.vaccine } },
          el('th', { scope: 'row' }, name(row)),
          numberCell(row.bookings, 'bookings'),
          numberCell(row.vaccinations, 'vaccinations'),
        ),
      ),
    ),
  );
}

function renderSeries() {
  const { series, from, day } = latest;
  const range = { from: formatDate(from), to: formatDate(day) };
  $('#series-heading').textContent = t('dashboard.series.heading', { days: SETTINGS.seriesDays, ...range });
  const days = series.bookings.map((point) => point.day);
  const values = (metric) => series[metric].map((point) => point.value);
  const labels = days.map((iso) => shortDate(iso));

  drawChart('activity', $('#chart-activity'), {
    type: 'line',
    labels,
    label: t('dashboard.chart.activity', {
      ...range,
      bookings: formatNumber(lastValue(series.bookings)),
      vaccinations: formatNumber(lastValue(series.vaccinations)),
    }),
    datasets: [
      { label: t('dashboard.col.bookings'), data: values('bookings'), ...PALETTE[0] },
      { label: t('dashboard.col.vaccinations'), data: values('vaccinations'), ...PALETTE[1] },
    ],
  });
  $('#chart-activity-caption').textContent = t('dashboard.chart.activity.caption');
  drawChart('no_shows', $('#chart-no-shows'), {
    type: 'bar',
    labels,
    label: t('dashboard.chart.no_shows', { ...range, value: formatNumber(lastValue(series.no_shows)) }),
    datasets: [{ label: t('dashboard.col.no_shows'), data: values('no_shows'), ...PALETTE[3] }],
  });
  $('#chart-no-shows-caption').textContent = t('dashboard.chart.no_shows.caption');
  drawChart('sms', $('#chart-sms'), {
    type: 'bar',
    labels,
    label: t('dashboard.chart.sms', { ...range, value: formatNumber(lastValue(series.sms_segments)) }),
    datasets: [{ label: t('dashboard.col.sms_segments'), data: values('sms_segments'), ...PALETTE[2] }],
  });
  $('#chart-sms-caption').textContent = t('dashboard.chart.sms.caption');

  const metrics = ['bookings', 'vaccinations', 'no_shows', 'sms_sent', 'sms_segments'];
  $('#series').replaceChildren(
    caption($('#series'), t('dashboard.series.caption', range)),
    el('thead', {}, headerRow([...metrics, 'sms_cost'], 'dashboard.col.day')),
    el(
      'tbody',
      {},
      days.map((iso, n) =>
        el(
          'tr',
          { dataset: { day: iso } },
          el('th', { scope: 'row' }, formatDate(iso)),
          metrics.map((metric) => numberCell(series[metric][n].value, metric)),
          el('td', { class: 'number' }, money(smsCost(series.sms_segments[n].value))),
        ),
      ),
    ),
  );
  $('#sms-price-note').textContent = t('dashboard.sms_price_note', { price: money(SETTINGS.smsPricePerSegmentPln) });
}

function renderUpdated() {
  if (!latest) return;
  const time = clockTime(latest.at);
  $('#updated').textContent = document.hidden
    ? t('dashboard.updated.paused', { time })
    : t('dashboard.updated', { time, seconds: everySeconds });
}

function render() {
  if (!latest) return;
  renderFigures();
  renderRegions();
  renderVaccines();
  renderSeries();
  renderUpdated();
  $('#board').setAttribute('data-day', latest.day);
  $('#board').setAttribute('data-updated', latest.at.toISOString());
}

// --- the page ---------------------------------------------------------------------------------

$('#controls').addEventListener('submit', (event) => {
  event.preventDefault();
  refresh();
});

$('#day').addEventListener('change', () => {
  followToday = $('#day').value === todayInWarsaw();
  if ($('#day').checkValidity()) refresh();
});

document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    clearTimeout(timer);
    renderUpdated();
  } else if (session.get()) {
    refresh();
  }
});

chosenDay();
const shell = startShell({
  texts: 'dashboard',
  roles: ['analyst'],
  workspace: ['#board'],
  enter: async ({ focus }) => {
    if (!latest) say(t('dashboard.loading'));
    await refresh();
    if (latest) say('');
    if (focus) $('#figures-heading').focus(); // the form is gone: focus goes to what came instead
  },
  leave: () => {
    clearTimeout(timer);
    latest = null;
  },
  languageChanged: render,
});
