// Page chrome every app shares: the status line (a live region), the language switch, the busy and
// slow-server notices, confirmation dialogs and field errors.
import { currentLanguage, refusalMessage, setLanguage, t, translate } from './i18n.js';
import { siteConfig } from './signin.js';

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// el('button', { type: 'button', class: 'primary', onclick }, 'Zapisz') -> an element, never innerHTML.
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

// One status line per page, read out by screen readers: kind is 'info', 'success' or 'error'.
export function say(text, kind = 'info') {
  const status = $('#status');
  if (!status) return;
  status.className = `status status-${kind}`;
  status.textContent = text;
  status.hidden = !text;
}

export function sayRefusal(error) {
  say(refusalMessage(error), 'error');
}

// Marks the field the server named (problem.field) as invalid and moves focus there.
export function showFieldError(form, error) {
  for (const old of form.querySelectorAll('[aria-invalid="true"]')) old.removeAttribute('aria-invalid');
  if (!error.field) return;
  const field = form.querySelector(`[name="${CSS.escape(error.field)}"]`);
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  }
}

// A modal confirmation (native <dialog>: focus is kept inside and Escape cancels). Resolves to true/false.
// Focus starts on the cancelling button unless `focusConfirm` (where Enter should go ahead).
export function confirmAction(question, confirmLabel = t('action.confirm'), { cancelLabel, focusConfirm = false } = {}) {
  return new Promise((resolve) => {
    const dialog = el(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-question' },
      el('p', { id: 'confirm-question' }, question),
      el(
        'form',
        { method: 'dialog', class: 'actions' },
        el('button', { value: 'no', class: 'secondary' }, cancelLabel || t('action.cancel')),
        el('button', { value: 'yes', class: 'primary', autofocus: focusConfirm }, confirmLabel),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// Disables a form's controls while `work` runs, so one click sends one request.
export async function whileBusy(form, work) {
  const controls = [...form.querySelectorAll('button, input, select, textarea')].filter((c) => !c.disabled);
  for (const control of controls) control.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    for (const control of controls) control.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

function wireLanguageSwitch() {
  const button = $('#language');
  if (!button) return;
  button.addEventListener('click', () => setLanguage(currentLanguage() === 'pl' ? 'en' : 'pl'));
}

function wireServerNotices() {
  const notice = $('#server-notice');
  if (!notice) return;
  document.addEventListener('api:slow', () => {
    notice.textContent = t('status.slow');
    notice.hidden = false;
  });
  document.addEventListener('api:pending', (event) => {
    document.body.toggleAttribute('aria-busy', event.detail.pending > 0);
    if (event.detail.pending === 0) notice.hidden = true;
  });
  window.addEventListener('offline', () => {
    notice.textContent = t('status.offline');
    notice.hidden = false;
  });
  window.addEventListener('online', () => {
    notice.hidden = true;
  });
}

// The operator's maintenance notice (config.json "maintenance", docs/runbook.md), on every page.
async function showMaintenanceNotice() {
  const { maintenance } = await siteConfig();
  if (typeof maintenance !== 'string' || !maintenance.trim()) return;
  const banner = document.createElement('div');
  banner.id = 'maintenance-notice';
  banner.className = 'notice';
  banner.setAttribute('role', 'alert');
  banner.textContent = maintenance;
  document.body.prepend(banner);
}

// Once per page, after the app has added its texts: common/shell.js calls it.
export function startPage() {
  translate();
  wireLanguageSwitch();
  wireServerNotices();
  showMaintenanceNotice();
}
