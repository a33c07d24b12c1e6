// "My visits": each visit with its check-in code, and the booking flow's buttons to move or cancel a booked one.
import { formatDateTime, t, vaccineName } from '/common/i18n.js';
import { el } from '/common/ui.js';

function byTime(a, b) {
  return a.starts_at.localeCompare(b.starts_at) || a.dose - b.dose;
}

function detail(term, ...value) {
  return [el('dt', {}, t(term)), el('dd', {}, ...value)];
}

function visitCard(visit, flow, move) {
  const title = t('patient.visit.title', { dose: visit.dose, vaccine: vaccineName(visit.vaccine) });
  const actions = flow.visitActions(visit, title, move);
  return el(
    'li',
    { class: `visit visit-${visit.status.toLowerCase()}`, dataset: { visitId: visit.visit_id } },
    el('h3', {}, title),
    el(
      'dl',
      { class: 'facts' },
      detail('patient.visit.when', formatDateTime(visit.starts_at)),
      detail('patient.visit.where', visit.point_name || '', visit.address ? el('br') : null, visit.address || ''),
      detail('patient.visit.status', t(`patient.status.${visit.status}`)),
      visit.status === 'BOOKED' && visit.check_in_code
        ? detail('patient.visit.code', el('span', { class: 'code' }, visit.check_in_code))
        : [],
    ),
    actions,
  );
}

// Booked visits first (earliest first), then the rest.
export function visitList(visits, flow, move) {
  if (!visits.length) return el('p', { class: 'muted' }, t('patient.visits.none'));
  const booked = visits.filter((v) => v.status === 'BOOKED').sort(byTime);
  const others = visits.filter((v) => v.status !== 'BOOKED').sort(byTime);
  return el('ul', { class: 'cards visits' }, [...booked, ...others].map((visit) => visitCard(visit, flow, move)));
}
