// The app shell every app starts with: the page chrome (skip link, header with the language switch and
// sign-out, the slow-server notice, the status line), the sign-in section, signing in (the dev identity
// provider here, the national login node in the cloud), signing out, session expiry and language.
// An app's index.html holds only its <main> with its own workspace; its app.js says what is its own:
//
//   const shell = startShell({
//     texts: 'agent',                 // its text keys: agent.title, agent.signin.heading, agent.signedin…
//     roles: ['agent'],               // what the dev identity provider is asked for
//     devFields: () => [elements],    // more dev sign-in fields (the point console: its points)
//     person: (data, roles) => …,     // the form's data -> the person for the dev provider (devPerson)
//     may: (login) => …,              // who may use the app (default: whoever signed in)
//     notAllowed: 'agent.not_agent',  // said to someone signed in who may not
//     workspace: ['#console'],        // shown to whoever may use the app, hidden from anyone else
//     enter: async ({ login, focus }) => …,  // the app shows itself for `login` (focus: move focus in)
//     leave: () => …,                 // the app forgets the last person (signed out, expired, not allowed)
//     languageChanged: () => …,       // the app's own texts again (data-i18n ones are done already)
//   });
//   await shell.ready;
import { has, t } from './i18n.js';
import { session } from './session.js';
import { finishNationalSignIn, signInLocally, signOut, siteConfig, startNationalSignIn } from './signin.js';
import { $, el, say, sayRefusal, showFieldError, startPage, whileBusy } from './ui.js';

function text(tag, key, attributes = {}) {
  return el(tag, { ...attributes, 'data-i18n': key }, t(key));
}

function chrome(texts) {
  return [
    text('a', 'app.skip', { class: 'skip-link', href: '#main' }),
    el(
      'header',
      { class: 'app-header' },
      text('h1', `${texts}.title`),
      text('button', 'lang.switch', { id: 'language', type: 'button', 'data-i18n-attr': 'aria-label:lang.switch.label' }),
      text('button', 'app.signout', { id: 'signout', type: 'button', hidden: true }),
    ),
    el('div', { id: 'server-notice', class: 'notice', role: 'status', hidden: true }),
  ];
}

function nameField(name, autocomplete) {
  return el('label', {}, text('span', `signin.${name}`), el('input', { name, autocomplete, required: true }));
}

// The dev identity provider's fields (a PESEL and names, and what the app adds) and one button; in
// the cloud only the note and the button, which goes to the national login node.
function signInSection(texts, devFields) {
  const national = has(`${texts}.signin.national`) ? `${texts}.signin.national` : 'signin.national';
  const pesel = el('input', { name: 'pesel', inputmode: 'numeric', autocomplete: 'off', maxlength: '11', required: true });
  return el(
    'section',
    { id: 'signin', 'aria-labelledby': 'signin-heading' },
    text('h2', `${texts}.signin.heading`, { id: 'signin-heading' }),
    text('p', national, { id: 'signin-national', hidden: true }),
    el(
      'form',
      { id: 'signin-form', novalidate: true },
      el('div', { class: 'dev-only' }, el('label', {}, 'PESEL', pesel)),
      el('div', { class: 'row dev-only' }, nameField('given_name', 'given-name'), nameField('family_name', 'family-name')),
      ...devFields.map((field) => el('div', { class: 'dev-only' }, field)),
      el('div', { class: 'actions' }, text('button', 'signin.submit', { class: 'primary' })),
    ),
  );
}

export function devPerson(data, roles) {
  return {
    pesel: (data.pesel || '').trim(),
    given_name: (data.given_name || '').trim(),
    family_name: (data.family_name || '').trim(),
    roles,
  };
}

export function startShell({
  texts,
  roles = [],
  devFields = () => [],
  person = devPerson,
  may = (login) => Boolean(login),
  notAllowed = null,
  workspace,
  enter = async () => {},
  leave = () => {},
  languageChanged = () => {},
}) {
  document.body.prepend(...chrome(texts));
  const form = signInSection(texts, devFields());
  $('#main').prepend(el('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite', hidden: true }), form);
  startPage();

  const signInForm = $('#signin-form');
  const allowed = () => {
    const login = session.get();
    return Boolean(login) && may(login);
  };

  // Signed in and allowed: the app's workspace; anyone else: the sign-in (and why, if signed in).
  async function show({ focus = false } = {}) {
    const login = session.get();
    const ok = allowed();
    $('#signin').hidden = ok;
    for (const selector of workspace) $(selector).hidden = !ok;
    $('#signout').hidden = !login;
    if (!ok) {
      leave();
      if (login && notAllowed) say(t(notAllowed), 'error');
      if (focus) [...signInForm.querySelectorAll('input, button')].find((control) => control.offsetParent !== null)?.focus();
      return;
    }
    await enter({ login, focus });
  }

  // A fresh sign-in: the app shows itself, then greets by the name given.
  async function signedIn(name) {
    await show({ focus: true });
    const greeting = has(`${texts}.signedin`) ? `${texts}.signedin` : 'app.signedin';
    if (allowed()) say(t(greeting, { name: name || '—' }), 'success');
  }

  async function wireSignIn() {
    const { identity } = await siteConfig();
    const local = identity === 'dev';
    for (const field of signInForm.querySelectorAll('.dev-only')) field.hidden = !local;
    $('#signin-national').hidden = local;
    signInForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!local) {
        await startNationalSignIn();
        return;
      }
      const chosen = person(Object.fromEntries(new FormData(signInForm)), roles);
      try {
        await whileBusy(signInForm, () => signInLocally(chosen));
        signInForm.reset();
        await signedIn(`${chosen.given_name} ${chosen.family_name}`);
      } catch (error) {
        sayRefusal(error);
        showFieldError(signInForm, error);
      }
    });
  }

  $('#signout').addEventListener('click', async () => {
    await signOut().catch(() => {});
    await show({ focus: true });
    say(t('app.signedout'));
  });

  document.addEventListener('session:expired', async () => {
    await show({ focus: true });
    say(t('status.expired'), 'error');
  });

  document.addEventListener('language:changed', () => {
    if (allowed()) languageChanged();
  });

  const ready = (async () => {
    await wireSignIn();
    let cameBack = null;
    try {
      cameBack = await finishNationalSignIn(); // the national login node sent the person back here
    } catch (error) {
      sayRefusal(error);
    }
    if (cameBack) await signedIn(cameBack.patient?.given_name);
    else await show({ focus: !session.get() });
  })();

  return { ready, show };
}
