// Who works at a point: the list, a grant by PESEL (in the body, never in a URL) and revocation.
// Shared by the admin app and the point console (for the point's managers).
import { api } from './api.js';
import { extend, formatDateTime, t } from './i18n.js';
import { confirmAction, el, say, sayRefusal, showFieldError, whileBusy } from './ui.js';

extend({
  pl: {
    'staff.heading': 'Personel punktu: {point}',
    'staff.none': 'Nikt jeszcze nie pracuje w tym punkcie.',
    'staff.caption': 'Osoby pracujące w punkcie',
    'staff.col.name': 'Imię i nazwisko',
    'staff.col.role': 'Rola',
    'staff.col.granted': 'Od',
    'staff.col.actions': 'Działania',
    'staff.unknown_name': 'osoba spoza rejestru ({ref})',
    'staff.role.point_staff': 'personel',
    'staff.role.point_manager': 'kierownik',
    'staff.grant.heading': 'Dodaj osobę',
    'staff.grant.pesel': 'PESEL osoby',
    'staff.grant.role': 'Rola',
    'staff.grant.submit': 'Nadaj uprawnienia',
    'staff.granted': 'Nadano uprawnienia: {role}.',
    'staff.revoke': 'Odbierz uprawnienia',
    'staff.revoke.confirm': 'Odebrać uprawnienia w tym punkcie osobie: {name}? Od następnego kroku nie będzie mogła w nim pracować.',
    'staff.revoked': 'Odebrano uprawnienia: {name}.',
  },
  en: {
    'staff.heading': 'Staff of the point: {point}',
    'staff.none': 'Nobody works at this point yet.',
    'staff.caption': 'People working at the point',
    'staff.col.name': 'Name',
    'staff.col.role': 'Role',
    'staff.col.granted': 'Since',
    'staff.col.actions': 'Actions',
    'staff.unknown_name': 'person not in the registry ({ref})',
    'staff.role.point_staff': 'staff',
    'staff.role.point_manager': 'manager',
    'staff.grant.heading': 'Add a person',
    'staff.grant.pesel': "Person's PESEL",
    'staff.grant.role': 'Role',
    'staff.grant.submit': 'Grant',
    'staff.granted': 'Granted: {role}.',
    'staff.revoke': 'Revoke',
    'staff.revoke.confirm': 'Revoke the rights at this point of {name}? From their next step they can no longer work here.',
    'staff.revoked': 'Revoked: {name}.',
  },
});

function nameOf(member) {
  return member.given_name ? `${member.given_name} ${member.family_name}` : t('staff.unknown_name', { ref: member.staff_ref.slice(6, 14) });
}

function staffTable(pointId, staff, refresh) {
  if (!staff.length) return el('p', { class: 'muted' }, t('staff.none'));
  const rows = staff.map((member) =>
    el(
      'tr',
      { dataset: { staffRef: member.staff_ref } },
      el('td', {}, nameOf(member)),
      el('td', {}, t(`staff.role.${member.role}`)),
      el('td', {}, member.granted_at ? formatDateTime(member.granted_at) : ''),
      el(
        'td',
        {},
        el(
          'button',
          {
            type: 'button',
            class: 'danger',
            'aria-label': `${t('staff.revoke')}: ${nameOf(member)}`,
            onclick: async () => {
              if (!(await confirmAction(t('staff.revoke.confirm', { name: nameOf(member) }), t('staff.revoke')))) return;
              try {
                await api('DELETE', `/points/${encodeURIComponent(pointId)}/staff/${encodeURIComponent(member.staff_ref)}`);
                say(t('staff.revoked', { name: nameOf(member) }), 'success');
                await refresh();
              } catch (error) {
                sayRefusal(error);
              }
            },
          },
          t('staff.revoke'),
        ),
      ),
    ),
  );
  const columns = ['name', 'role', 'granted', 'actions'];
  return el(
    'table',
    { class: 'staff-table' },
    el('caption', { class: 'visually-hidden' }, t('staff.caption')),
    el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { scope: 'col' }, t(`staff.col.${c}`))))),
    el('tbody', {}, ...rows),
  );
}

function grantForm(pointId, refresh) {
  const form = el(
    'form',
    { class: 'row', novalidate: true },
    el('label', {}, el('span', {}, t('staff.grant.pesel')),
      el('input', { name: 'pesel', inputmode: 'numeric', maxlength: '11', autocomplete: 'off', required: true })),
    el('label', {}, el('span', {}, t('staff.grant.role')),
      el('select', { name: 'role' },
        el('option', { value: 'point_staff' }, t('staff.role.point_staff')),
        el('option', { value: 'point_manager' }, t('staff.role.point_manager')))),
    el('div', { class: 'actions' }, el('button', { class: 'primary' }, t('staff.grant.submit'))),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    try {
      const granted = await whileBusy(form, () =>
        api('POST', `/points/${encodeURIComponent(pointId)}/staff`, { body: { pesel: data.pesel.trim(), role: data.role } }),
      );
      form.reset();
      say(t('staff.granted', { role: t(`staff.role.${granted.role}`) }), 'success');
      await refresh();
    } catch (error) {
      sayRefusal(error);
      showFieldError(form, error);
    }
  });
  return form;
}

// Fills `section` with the staff of `pointId` (a heading naming `pointName`), the grant form and revoke buttons.
export async function renderStaff(section, pointId, pointName) {
  const list = el('div', { class: 'staff-list' });
  const refresh = async () => {
    const answer = await api('GET', `/points/${encodeURIComponent(pointId)}/staff`);
    list.replaceChildren(staffTable(pointId, answer.staff, refresh));
  };
  section.replaceChildren(
    el('h2', { id: 'staff-heading', tabindex: '-1' }, t('staff.heading', { point: pointName })),
    list,
    el('h3', {}, t('staff.grant.heading')),
    grantForm(pointId, refresh),
  );
  section.hidden = false;
  await refresh();
}
