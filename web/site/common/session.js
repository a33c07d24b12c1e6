// The signed-in person, kept for this browser tab only (sessionStorage: gone when the tab closes).
const KEY = 'ereg.session';

export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) || 'null');
    } catch {
      return null;
    }
  },
  token() {
    return this.get()?.session_token ?? null;
  },
  save(login) {
    sessionStorage.setItem(KEY, JSON.stringify(login));
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};
