// "My COVID certificates": each dose's EU Digital COVID Certificate as its QR code, with the PDF.
// The image and the PDF need the session's Authorization header, so they are fetched: the image is shown
// as a data: URL (the site's Content-Security-Policy allows img-src 'self' data:), the PDF as a blob link.
import { api } from '/common/api.js';
import { formatDate, t } from '/common/i18n.js';
import { session } from '/common/session.js';
import { el } from '/common/ui.js';

let shown = []; // blob URLs of the last rendering, released on the next

async function fetchBlob(path) {
  const response = await fetch(`/api/v1/certificates/${path}`, {
    headers: { Authorization: `Bearer ${session.token()}` },
    cache: 'no-store',
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.blob();
}

async function blobUrl(path) {
  const url = URL.createObjectURL(await fetchBlob(path));
  shown.push(url);
  return url;
}

async function dataUrl(path) {
  const blob = await fetchBlob(path);
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

function certificateCard(certificate) {
  const title = t('patient.certificate.title', { dose: certificate.dose });
  const image = el('img', {
    class: 'certificate-qr',
    alt: t('patient.certificate.qr', { dose: certificate.dose }),
    width: '260',
    height: '260',
  });
  const pdf = el(
    'a',
    { class: 'certificate-pdf', download: `certyfikat-covid-dawka-${certificate.dose}.pdf`, 'aria-disabled': 'true' },
    t('patient.certificate.pdf'),
  );
  const id = encodeURIComponent(certificate.uvci);
  dataUrl(`${id}/qr.png`).then((url) => { image.src = url; }).catch(() => { image.alt = t('patient.certificate.failed'); });
  blobUrl(`${id}/pdf`).then((url) => { pdf.href = url; pdf.removeAttribute('aria-disabled'); }).catch(() => {});
  return el(
    'li',
    { class: 'certificate', dataset: { uvci: certificate.uvci } },
    el('h3', {}, title),
    el('p', { class: 'muted' }, t('patient.certificate.issued', { date: formatDate(certificate.issued_at) })),
    image,
    el('div', { class: 'actions' }, pdf),
  );
}

export async function certificateList() {
  for (const url of shown) URL.revokeObjectURL(url);
  shown = [];
  const { certificates } = await api('GET', '/certificates');
  if (!certificates.length) return el('p', { class: 'muted' }, t('patient.certificates.none'));
  return el('ul', { class: 'cards certificates' }, certificates.map(certificateCard));
}
