// The dashboard's only way to the collector: same-origin fetches to /ui/api with the session
// cookie (HttpOnly: script never sees it) and the CSRF token kept in memory only (never in
// localStorage or a URL). A 401 sends the user to the sign-in page.

import { ApiError } from '../../src/api-error';

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => undefined;

// The collector's coded error, as the admin CLI sees it too.
export { ApiError };

export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}
export function setCsrf(token: string | null): void {
  csrfToken = token;
}

export async function api<T = any>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(`/ui/api${path}`, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) {
    if (res.status === 401 && path !== '/session') onUnauthorized();
    throw ApiError.fromReply(res.status, data);
  }
  return data as T;
}

/** Query string from defined, non-empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
