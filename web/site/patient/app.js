// The patient app. (Skeleton: sign in and out; the booking journey is built on top of this.)
import { extend, t } from '/common/i18n.js';
import { session } from '/common/session.js';
import { signInLocally, signOut } from '/common/signin.js';
import { $, say, sayRefusal, showFieldError, startPage, whileBusy } from '/common/ui.js';

extend({
  pl: {
    'patient.title': 'e-Rejestracja na szczepienia',
    'patient.signin.heading': 'Zaloguj się',
    'patient.signin.given_name': 'Imię',
    'patient.signin.family_name': 'Nazwisko',
    'patient.signin.submit': 'Zaloguj się',
    'patient.signedin': 'Zalogowano: {name}',
  },
  en: {
    'patient.title': 'Vaccination e-Registration',
    'patient.signin.heading': 'Sign in',
    'patient.signin.given_name': 'Given name',
    'patient.signin.family_name': 'Family name',
    'patient.signin.submit': 'Sign in',
    'patient.signedin': 'Signed in: {name}',
  },
});

function show() {
  const signedIn = session.get();
  $('#signin').hidden = Boolean(signedIn);
  $('#app').hidden = !signedIn;
  $('#signout').hidden = !signedIn;
  if (signedIn?.patient) say(t('patient.signedin', { name: signedIn.patient.given_name }));
}

$('#signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const data = Object.fromEntries(new FormData(form));
  try {
    await whileBusy(form, () => signInLocally(data));
    show();
  } catch (error) {
    sayRefusal(error);
    showFieldError(form, error);
  }
});

$('#signout').addEventListener('click', async () => {
  await signOut().catch(() => {});
  show();
});

startPage();
show();
