// The vaccination point console: staff sign in, choose their point, and work in two views:
// the day list (#day: vaccinate, no-shows, walk-ins) and the schedule with the stock (#schedule).
import './texts.js';
import { api } from '/common/api.js';
import { t } from '/common/i18n.js';
import { session } from '/common/session.js';
import { finishNationalSignIn, signInLocally, signOut, siteConfig, startNationalSignIn } from '/common/signin.js';
import { renderStaff } from '/common/staff.js';
import { $, el, say, sayRefusal, showFieldError, startPage, whileBusy } from '/common/ui.js';
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

function show() {
  const login = session.get();
  const signedIn = isStaff(login);
  $('#signin').hidden = signedIn;
  $('#app').hidden = !signedIn;
  $('#views').hidden = !signedIn;
  $('#signout').hidden = !signedIn;
  if (!signedIn) return;
  state.pointIds = login.staff?.point_ids || [];
  const remembered = rememberedPoint();
  choosePoint(state.pointIds.includes(remembered) ? remembered : state.pointIds[0] || '');
  fillPointChoice();
  render();
  learnPointNames();
}

async function signedIn(login, name = '') {
  if (!isStaff(login)) {
    await signOut().catch(() => {});
    say(t('point.signin.not_staff'), 'error');
    return;
  }
  show();
  $('#main').focus({ preventScroll: true }); // the sign-in form is gone: start keyboard users at the top of the work
  say(t('point.signedin', { name: name || '—' }), 'success');
}

async function prepareSignIn() {
  const config = await siteConfig();
  if (config.identity === 'dev') return;
  const form = $('#signin-form');
  form.hidden = true;
  form.after(
    el('button', { type: 'button', class: 'primary', onclick: () => startNationalSignIn() }, t('point.signin.national')),
  );
  try {
    const login = await finishNationalSignIn();
    if (login) await signedIn(login);
  } catch (error) {
    sayRefusal(error);
  }
}

$('#signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const data = Object.fromEntries(new FormData(form));
  const person = {
    pesel: data.pesel.trim(),
    given_name: data.given_name.trim(),
    family_name: data.family_name.trim(),
    roles: data.manager ? ['point_staff', 'point_manager'] : ['point_staff'],
    point_ids: data.point_ids.split(/[\s,;]+/).filter(Boolean),
  };
  try {
    const login = await whileBusy(form, () => signInLocally(person));
    await signedIn(login, `${person.given_name} ${person.family_name}`);
  } catch (error) {
    sayRefusal(error);
    showFieldError(form, error);
  }
});

$('#signout').addEventListener('click', async () => {
  await signOut().catch(() => {});
  say('');
  show();
  $('#signin-form').pesel.focus();
});

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
document.addEventListener('language:changed', () => {
  if (!$('#app').hidden) {
    fillPointChoice();
    render();
  }
});
document.addEventListener('session:expired', () => {
  show();
  say(t('status.expired'), 'error');
});

startPage();
show();
prepareSignIn();
