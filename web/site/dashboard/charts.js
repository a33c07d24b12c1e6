// Charts with chart.js (window.Chart, from /vendor/chart.umd.js). A chart is made once per canvas and
// then updated in place, so a refresh does not flicker. Colour never carries the meaning alone: each
// series has its own line style and point shape, a legend, and every value is in a table beside it.
import { currentLanguage } from '/common/i18n.js';

// Each at least 3:1 against white (WCAG 1.4.11), and told apart by more than hue.
export const PALETTE = [
  { borderColor: '#0b4f8a', backgroundColor: '#0b4f8a', pointStyle: 'circle', borderDash: [] },
  { borderColor: '#b35600', backgroundColor: '#b35600', pointStyle: 'triangle', borderDash: [6, 4] },
  { borderColor: '#1e6b33', backgroundColor: '#1e6b33', pointStyle: 'rect', borderDash: [2, 3] },
  { borderColor: '#a4161a', backgroundColor: '#a4161a', pointStyle: 'rectRot', borderDash: [] },
];

const charts = new Map();

function configured() {
  const { Chart } = window;
  Chart.defaults.color = '#1b1f24';
  Chart.defaults.borderColor = '#c9d0d8';
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif";
  Chart.defaults.animation = false;
  return Chart;
}

function options({ horizontal = false, percent = false }) {
  const valueAxis = {
    beginAtZero: true,
    ticks: { precision: 0, ...(percent ? { callback: (value) => `${value}%` } : {}) },
    ...(percent ? { suggestedMax: 100 } : {}),
  };
  return {
    locale: currentLanguage(),
    responsive: true,
    maintainAspectRatio: false,
    indexAxis: horizontal ? 'y' : 'x',
    interaction: { mode: 'index', intersect: false },
    plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } } },
    scales: horizontal ? { x: valueAxis, y: { ticks: { autoSkip: false } } } : { y: valueAxis },
  };
}

// drawChart('sms', canvas, {type, labels, label (the canvas's text alternative), datasets, horizontal?, percent?})
export function drawChart(key, canvas, { type, labels, label, datasets, ...shape }) {
  canvas.setAttribute('role', 'img'); // named by its text alternative from the first drawing on
  canvas.setAttribute('aria-label', label);
  const data = { labels, datasets: datasets.map((set) => ({ borderWidth: 2, pointRadius: 3, ...set })) };
  const chart = charts.get(key);
  if (chart) {
    chart.data = data;
    chart.options = options(shape);
    chart.update('none');
    return chart;
  }
  const Chart = configured();
  const made = new Chart(canvas, { type, data, options: options(shape) });
  charts.set(key, made);
  return made;
}
