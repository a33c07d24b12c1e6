// The vaccination point console: staff sign in, choose their point, and work in two views:
// the day list (#day: vaccinate, no-shows, walk-ins) and the schedule with the stock (#schedule).
import './texts.js';
import { api } from '/common/api.js';
import { session } from '/common/session.js';
import { devPerson, startShell } from '/common/shell.js';
import { renderStaff } from '/common/staff.js';
import { $, el, sayRefusal } from '/common/ui.js';
import { renderDay } from './day.js';
import { renderSchedule } from './schedule.js';
import { choosePoint, pointLabel, rememberedPoint, state } from './shared.js';

// The staff view: for the managers of the chosen point (the registry says who manages what).
function managesChosenPoint() {
  const login = session.get();
  return Boolean(login?.roles?.includes('admin') || login?.staff?.managed_point_ids?.includes(state.pointId));
}

function renderStaffView(app) {
  const section = el('section', { 'aria-labelledby': 'staff-heading' });
  app.append(section);
  renderStaff(section, state.pointId, pointLabel(state.pointId)).catch(sayRefusal);
}

const VIEWS = { day: renderDay, schedule: renderSchedule, staff: renderStaffView };

function isStaff(login) {
  return Boolean(['point_staff', 'point_manager', 'admin'].some((role) => login?.roles?.includes(role)));
}

function currentView() {
  const name = window.location.hash.slice(1);
  if (name === 'staff' && !managesChosenPoint()) return 'day';
  return name in VIEWS ? name : 'day';
}

function render() {
  $('#staff-link').hidden = !managesChosenPoint();
  const view = currentView();
  for (const link of $('#views').querySelectorAll('a')) {
    if (link.getAttribute('href') === `#${view}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const app = $('#app');
  app.replaceChildren();
  VIEWS[view](app);
}

function fillPointChoice() {
  const select = $('#point-select');
  select.replaceChildren(
    ...state.pointIds.map((id) => el('option', { value: id, selected: id === state.pointId }, pointLabel(id))),
  );
  $('#point-choice').hidden = state.pointIds.length < 2;
  const current = $('#point-current');
  current.textContent = state.pointId ? pointLabel(state.pointId) : '';
  current.hidden = state.pointIds.length !== 1;
}

// The names of the person's points (for the choice), from each point's stock; ids stand in until then.
async function learnPointNames() {
  const unknown = state.pointIds.filter((id) => !(id in state.points));
  const answers = await Promise.allSettled(
    unknown.map((id) => api('GET', `/points/${encodeURIComponent(id)}/stock`)),
  );
  for (const answer of answers) {
    if (answer.status === 'fulfilled' && answer.value.point) state.points[answer.value.point_id] = answer.value.point;
  }
  if (!$('#app').hidden) fillPointChoice();
}

$('#point-select').addEventListener('change', (event) => {
  choosePoint(event.currentTarget.value);
  state.vaccines = [];
  render();
});

window.addEventListener('hashchange', () => {
  if (!$('#app').hidden) {
    render();
    $('#main').focus({ preventScroll: true });
  }
});

// Test sign-in only: the points the person works at, and whether they manage them.
function devFields() {
  return [
    el(
      'label',
      {},
      el('span', { 'data-i18n': 'point.signin.point_ids' }),
      el('span', { class: 'hint', id: 'point-ids-hint', 'data-i18n': 'point.signin.point_ids.hint' }),
      el('input', { name: 'point_ids', autocomplete: 'off', 'aria-describedby': 'point-ids-hint', required: true }),
    ),
    el(
      'label',
      { class: 'check' },
      el('input', { type: 'checkbox', name: 'manager' }),
      ' ',
      el('span', { 'data-i18n': 'point.signin.manager' }),
    ),
  ];
}

startShell({
  texts: 'point',
  devFields,
  person: (data) => ({
    ...devPerson(data, data.manager ? ['point_staff', 'point_manager'] : ['point_staff']),
    point_ids: data.point_ids.split(/[\s,;]+/).filter(Boolean),
  }),
  may: isStaff,
  notAllowed: 'point.signin.not_staff',
  workspace: ['#views', '#app'],
  enter: ({ login, focus }) => {
    state.pointIds = login.staff?.point_ids || [];
    const remembered = rememberedPoint();
    choosePoint(state.pointIds.includes(remembered) ? remembered : state.pointIds[0] || '');
    fillPointChoice();
    render();
    learnPointNames();
    if (focus) $('#main').focus({ preventScroll: true }); // start keyboard users at the top of the work
  },
  languageChanged: () => {
    fillPointChoice();
    render();
  },
});
