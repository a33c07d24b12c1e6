// Signing in: the national login node in the cloud, the dev identity provider on this machine.
// Either way the result is a signed assertion, which POST /api/v1/login turns into a session.
import { api } from './api.js';
import { session } from './session.js';

let config = null;
export async function siteConfig() {
  if (config === null) {
    try {
      const response = await fetch('/config.json', { cache: 'no-store' });
      config = response.ok ? await response.json() : { identity: 'national' };
    } catch {
      config = { identity: 'national' };
    }
  }
  return config;
}

async function login(assertion) {
  const result = await api('POST', '/login', { body: { assertion }, anonymous: true });
  session.save(result);
  return result;
}

// Local only: ask the dev identity provider for an assertion about `person`, then log in with it.
export async function signInLocally(person) {
  const { assertion } = await api('POST', '/dev/idp/assertions', {
    body: {
      pesel: person.pesel,
      given_name: person.given_name,
      family_name: person.family_name,
      roles: person.roles || [],
      point_ids: person.point_ids || [],
    },
    anonymous: true,
    outside: true,
  });
  return login(assertion);
}

// The state this tab sent to the login node: only an answer carrying it back signs the tab in, so a
// link with someone else's #assertion=... (sign-in forced on a victim) is ignored.
const STATE_KEY = 'ereg.signin.state';

function newState() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// Cloud: the national login node sends the person back to this page with #assertion=...&state=... .
export async function finishNationalSignIn() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const assertion = fragment.get('assertion');
  if (!assertion) return null;
  history.replaceState(null, '', window.location.pathname + window.location.search);
  const expected = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(STATE_KEY); // one answer per sign-in started here
  if (!expected || fragment.get('state') !== expected) return null;
  return login(assertion);
}

export async function startNationalSignIn() {
  const { login_url: loginUrl } = await siteConfig();
  const state = newState();
  sessionStorage.setItem(STATE_KEY, state);
  const back = encodeURIComponent(window.location.origin + window.location.pathname);
  window.location.assign(`${loginUrl}?return_to=${back}&state=${encodeURIComponent(state)}`);
}

export async function signOut() {
  try {
    await api('POST', '/logout');
  } finally {
    session.clear();
  }
}
