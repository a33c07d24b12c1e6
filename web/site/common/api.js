// One client for the API: the session token, time limits, and problem responses as ApiError.
import { session } from './session.js';

const BASE = '/api/v1';
export const SLOW_AFTER_MS = 3000; // then the page says it is still working
export const GIVE_UP_AFTER_MS = 15000;

export class ApiError extends Error {
  constructor({ status = 0, code = 'network', title = '', detail = '', field = null, retryAfter = null, problem = {} } = {}) {
    super(detail || title || code);
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.field = field;
    this.retryAfter = retryAfter;
    this.problem = problem; // the whole problem body, for extra members (e.g. `slots` of slot_has_visits)
  }
}

let pending = 0;
function announce(change) {
  pending += change;
  document.dispatchEvent(new CustomEvent('api:pending', { detail: { pending } }));
}

export function newIdempotencyKey() {
  return crypto.randomUUID();
}

// One Idempotency-Key per intent (this booking, as `intent` names it), kept until the server has
// answered it: a retry after a timeout or a lost answer is the same request and gets the original
// answer, not `already_booked`. Kept in sessionStorage, so a reload of the tab keeps it too.
const INTENT_KEYS = 'ereg.intent-keys';

function intentKeys() {
  try {
    return JSON.parse(sessionStorage.getItem(INTENT_KEYS) || '{}');
  } catch {
    return {};
  }
}

// The intent by its SHA-256 only: what it names (a PESEL, a phone) is not kept in the tab's storage.
async function intentId(intent) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(intent));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function withIntentKey(what, send) {
  const intent = await intentId(what);
  const keys = intentKeys();
  const key = keys[intent] || newIdempotencyKey();
  sessionStorage.setItem(INTENT_KEYS, JSON.stringify({ ...keys, [intent]: key }));
  const forget = () => {
    const { [intent]: _, ...rest } = intentKeys();
    sessionStorage.setItem(INTENT_KEYS, JSON.stringify(rest));
  };
  try {
    const answer = await send(key);
    forget();
    return answer;
  } catch (error) {
    // No answer (network, timeout) or the server could not finish (5xx): the same key next time.
    if (error instanceof ApiError && error.status >= 400 && error.status < 500) forget();
    throw error;
  }
}

async function problemOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  return new ApiError({
    status: response.status,
    code: body.code || (response.status >= 500 ? 'unavailable' : 'error'),
    title: body.title || '',
    detail: body.detail || '',
    field: body.field || null,
    retryAfter: response.headers.get('Retry-After'),
    problem: body,
  });
}

// api('POST', '/visits', { body, idempotencyKey }) -> parsed JSON, or null for 204. Paths are under
// /api/v1 unless `outside` is set (the dev identity provider lives at /dev/idp).
export async function api(method, path, { body, idempotencyKey, headers = {}, anonymous = false, outside = false } = {}) {
  const controller = new AbortController();
  const giveUp = setTimeout(() => controller.abort(), GIVE_UP_AFTER_MS);
  const slow = setTimeout(() => document.dispatchEvent(new CustomEvent('api:slow')), SLOW_AFTER_MS);
  const sent = { ...headers, Accept: 'application/json' };
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  if (idempotencyKey) sent['Idempotency-Key'] = idempotencyKey;
  const token = session.token();
  if (token && !anonymous) sent.Authorization = `Bearer ${token}`;
  announce(+1);
  let response;
  try {
    response = await fetch(outside ? path : BASE + path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError({ code: error.name === 'AbortError' ? 'timeout' : 'network' });
  } finally {
    clearTimeout(giveUp);
    clearTimeout(slow);
    announce(-1);
  }
  if (response.status === 401 && token && !anonymous) {
    session.clear();
    document.dispatchEvent(new CustomEvent('session:expired'));
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  return response.json();
}
