// The registry of points: admins (everywhere) and coordinators (their voivodeship) list, add, change,
// suspend and reactivate points, and manage who works at each.
import './texts.js';
import { api } from '/common/api.js';
import { t } from '/common/i18n.js';
import { startShell } from '/common/shell.js';
import { renderStaff } from '/common/staff.js';
import { $, confirmAction, el, say, sayRefusal, showFieldError, whileBusy } from '/common/ui.js';

const state = { points: [], nextToken: null, filter: {}, editing: null };

function mayRun(login) {
  return Boolean(['admin', 'coordinator'].some((role) => login?.roles?.includes(role)));
}

function addressOf(point) {
  return `${point.address.street}, ${point.address.postal_code} ${point.address.city}`;
}

// --- the list ----------------------------------------------------------------------------------

function pointRow(point) {
  const suspended = point.status === 'suspended';
  const button = (label, onclick, cls = '') =>
    el('button', { type: 'button', class: cls, 'aria-label': `${label}: ${point.name}`, onclick }, label);
  return el(
    'tr',
    { dataset: { pointId: point.point_id } },
    el('td', {}, point.name),
    el('td', {}, addressOf(point)),
    el('td', {}, point.municipality),
    el('td', {}, point.vaccines.join(', ')),
    el('td', {}, t(`admin.status.${point.status}`)),
    el(
      'td',
      {},
      el(
        'div',
        { class: 'actions' },
        button(t('admin.action.edit'), () => startEditing(point)),
        suspended
          ? button(t('admin.action.activate'), () => setStatus(point, 'active'))
          : button(t('admin.action.suspend'), () => setStatus(point, 'suspended'), 'danger'),
        button(t('admin.action.staff'), () => showStaff(point)),
      ),
    ),
  );
}

function renderList() {
  const list = $('#points-list');
  if (!state.points.length) {
    list.replaceChildren(el('p', { class: 'muted' }, t('admin.points.none')));
  } else {
    const columns = ['name', 'address', 'municipality', 'vaccines', 'status', 'actions'];
    list.replaceChildren(
      el(
        'table',
        {},
        el('caption', { class: 'visually-hidden' }, t('admin.points.caption')),
        el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { scope: 'col' }, t(`admin.col.${c}`))))),
        el('tbody', {}, ...state.points.map(pointRow)),
      ),
    );
  }
  $('#more').hidden = !state.nextToken;
}

async function loadPoints({ more = false } = {}) {
  const query = new URLSearchParams({ limit: '50' });
  for (const [name, value] of Object.entries(state.filter)) if (value) query.set(name, value);
  if (more && state.nextToken) query.set('page_token', state.nextToken);
  const page = await api('GET', `/admin/points?${query}`);
  state.points = more ? [...state.points, ...page.points] : page.points;
  state.nextToken = page.next_page_token;
  renderList();
}

function replacePoint(point) {
  state.points = state.points.map((p) => (p.point_id === point.point_id ? point : p));
  if (!state.points.some((p) => p.point_id === point.point_id)) state.points = [point, ...state.points];
  renderList();
}

async function setStatus(point, status) {
  if (status === 'suspended' && !(await confirmAction(t('admin.suspend.confirm', { name: point.name }), t('admin.action.suspend')))) {
    return;
  }
  try {
    const changed = await api('PATCH', `/admin/points/${encodeURIComponent(point.point_id)}`, {
      body: { status },
      headers: { 'If-Match': `"${point.version}"` },
    });
    replacePoint(changed);
    say(t(status === 'active' ? 'admin.activated' : 'admin.suspended', { name: point.name }), 'success');
  } catch (error) {
    if (error.code === 'point_has_visits') {
      say(t('admin.has_visits', { name: point.name, count: error.problem.future_visits }), 'error');
    } else {
      sayRefusal(error);
    }
    if (error.code === 'version_mismatch') await loadPoints();
  }
}

// --- the editor --------------------------------------------------------------------------------

function formBody(form) {
  const data = Object.fromEntries(new FormData(form));
  return {
    name: data.name.trim(),
    address: { street: data['address.street'].trim(), postal_code: data['address.postal_code'].trim(), city: data['address.city'].trim() },
    municipality: (data.municipality || '').trim(), // disabled (absent) while editing
    vaccines: data.vaccines.split(/[\s,;]+/).filter(Boolean),
  };
}

function startEditing(point) {
  state.editing = point;
  const form = $('#point-form');
  form.name.value = point.name;
  form['address.street'].value = point.address.street;
  form['address.postal_code'].value = point.address.postal_code;
  form['address.city'].value = point.address.city;
  form.municipality.value = point.municipality;
  form.municipality.disabled = true; // a point does not move: a new municipality is a new point
  form.vaccines.value = point.vaccines.join(', ');
  $('#editor-heading').textContent = t('admin.editor.edit', { name: point.name });
  $('#save').textContent = t('admin.editor.save');
  $('#cancel-edit').hidden = false;
  form.name.focus();
}

function stopEditing() {
  state.editing = null;
  const form = $('#point-form');
  form.reset();
  form.municipality.disabled = false;
  $('#editor-heading').textContent = t('admin.editor.new');
  $('#save').textContent = t('admin.editor.create');
  $('#cancel-edit').hidden = true;
}

function fieldOf(error) {
  // "vaccines.1" names one code of the single vaccines field
  return error.field?.startsWith('vaccines') ? { ...error, field: 'vaccines' } : error;
}

$('#point-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const body = formBody(form);
  const editing = state.editing;
  showFieldError(form, {}); // clears what the last refusal marked
  try {
    if (editing) {
      const { municipality: _fixed, ...changes } = body;
      const changed = await whileBusy(form, () =>
        api('PATCH', `/admin/points/${encodeURIComponent(editing.point_id)}`, {
          body: changes,
          headers: { 'If-Match': `"${editing.version}"` },
        }),
      );
      replacePoint(changed);
      stopEditing();
      say(t('admin.saved', { name: changed.name }), 'success');
    } else {
      const created = await whileBusy(form, () => api('POST', '/admin/points', { body }));
      replacePoint(created);
      form.reset();
      say(t('admin.created', { name: created.name }), 'success');
    }
  } catch (error) {
    sayRefusal(error);
    showFieldError(form, fieldOf(error));
  }
});

$('#cancel-edit').addEventListener('click', stopEditing);

async function showStaff(point) {
  try {
    await renderStaff($('#staff'), point.point_id, point.name);
    $('#staff-heading').focus();
  } catch (error) {
    sayRefusal(error);
  }
}

$('#filter-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(event.currentTarget));
  state.filter = { voivodeship: data.voivodeship.trim(), status: data.status };
  try {
    await loadPoints();
  } catch (error) {
    sayRefusal(error);
    showFieldError(event.currentTarget, error);
  }
});

$('#more').addEventListener('click', () => loadPoints({ more: true }).catch(sayRefusal));

// --- the page ----------------------------------------------------------------------------------

startShell({
  texts: 'admin',
  roles: ['admin'],
  may: mayRun,
  notAllowed: 'admin.not_admin',
  workspace: ['#registry'],
  enter: async ({ focus }) => {
    if (focus) $('#main').focus({ preventScroll: true });
    try {
      await loadPoints();
    } catch (error) {
      sayRefusal(error);
    }
  },
  leave: () => {
    state.points = [];
    $('#staff').hidden = true;
    stopEditing();
  },
  languageChanged: renderList,
});
