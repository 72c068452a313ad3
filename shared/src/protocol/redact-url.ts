/**
 * The one URL redactor both sides use. It knows the shape of a URL (scheme, userinfo, host, path
 * with `;name=value` matrix parameters, query split on `&` and `;`, fragment) and what to do with
 * each part; WHICH parts hold a secret is asked of a `UrlSecretPolicy`, so the agent plugs in its
 * secret detector and the collector (which redacts its own database URL, where every credential is
 * one) uses `STRICT_URL_POLICY`.
 *
 * Contract: returns the URL as written minus its secrets (no re-serialization, so an untouched URL
 * compares equal to the input); userinfo holding a secret is removed (or replaced by REDACTED when
 * `keepUserinfoMarker`); a secret path segment or parameter value becomes REDACTED; a fragment that
 * holds a secret is dropped. Input that is not a URL goes through `policy.text`. Pure, never throws.
 */
import { REDACTED } from './constants.js';

/** Where a secret sat inside a URL, for findings. Never the value. */
export interface UrlRedactionHit {
  kind: string;
  /** `url.userinfo`, `url.path`, `url.query.<name>`, `url.fragment`, or `url` (not a URL). */
  field: string;
}

export interface RedactedUrl {
  url: string;
  hits: UrlRedactionHit[];
}

/** Which parts of a URL are secrets. Each answer is the secret's kind, or null for "not a secret". */
export interface UrlSecretPolicy {
  /** A password in `user:password@` (decoded). */
  password(password: string): string | null;
  /** A user name alone in `user@` (decoded): a token used as a user (`https://<token>@host`). */
  user(user: string): string | null;
  /** A bare value: a path segment, a parameter without `=`, a parameter's name. */
  value(value: string): string | null;
  /** A `name=value` parameter (both decoded). */
  param(name: string, value: string): string | null;
  /** The name written into a hit's field for a parameter (it may itself carry a value). */
  paramField(name: string): string;
  /** Free text: input that is not a URL, and a fragment's body. */
  text(input: string): { text: string; kinds: string[] };
  /** Whether the fragment says it carries a token even when nothing else flagged it. */
  fragmentHasToken?(fragment: string): boolean;
}

/**
 * Every credential is a secret: any password, every parameter value; user names, paths and
 * fragments are kept; text that is not a URL is replaced whole. For the collector's own URLs.
 */
export const STRICT_URL_POLICY: UrlSecretPolicy = {
  password: (p) => (p.length > 0 ? 'url-credentials' : null),
  user: () => null,
  value: () => null,
  param: (_name, value) => (value.length > 0 ? 'url-credentials' : null),
  paramField: (name) => name,
  text: (input) => (input === '' ? { text: '', kinds: [] } : { text: REDACTED, kinds: ['credential'] }),
};

const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/s;

/** `input` without its secrets, and where they were. */
export function redactUrlDetailed(input: string, policy: UrlSecretPolicy = STRICT_URL_POLICY, opts: { keepUserinfoMarker?: boolean } = {}): RedactedUrl {
  const m = URL_SHAPE.exec(input);
  if (!m) {
    const text = policy.text(input);
    return { url: text.text, hits: text.kinds.map((kind) => ({ kind, field: 'url' })) };
  }
  const scheme = m[1] ?? '';
  let authority = m[2] ?? '';
  let path = m[3] ?? '';
  let query = m[4] ?? '';
  let fragment = m[5] ?? '';
  const hits: UrlRedactionHit[] = [];

  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const host = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const kind = colon >= 0 ? policy.password(safeDecode(userinfo.slice(colon + 1))) : policy.user(safeDecode(userinfo));
    if (kind) hits.push({ kind, field: 'url.userinfo' });
    // Userinfo is dropped whether or not it held a detected secret (a login is personal data).
    authority = opts.keepUserinfoMarker && userinfo.length > 0 ? `${REDACTED}@${host}` : host;
  }

  path = path
    .split('/')
    .map((segment) => {
      const [head, ...params] = segment.split(';');
      const kind = policy.value(safeDecode(head as string));
      if (kind) hits.push({ kind, field: 'url.path' });
      const kept = params.map((p) => redactParam(p, 'url.path', hits, policy));
      return [kind ? REDACTED : head, ...kept].join(';');
    })
    .join('/');

  if (query.length > 1) {
    // `&` and the older `;` both separate parameters.
    query = `?${query.slice(1).split(/([&;])/).map((part, i) => (i % 2 === 1 ? part : redactParam(part, 'url.query', hits, policy))).join('')}`;
  }

  if (fragment.length > 1) {
    // Implicit-flow and SPA fragments carry parameters too: `#access_token=x&…`, `#/cb?id_token=x`.
    const body = safeDecode(fragment.slice(1));
    const fragmentHits: UrlRedactionHit[] = [];
    for (const part of body.split(/[&;?#/]/)) redactParam(part, 'url.fragment', fragmentHits, policy);
    const text = policy.text(body);
    if (fragmentHits.length > 0 || text.kinds.length > 0 || policy.fragmentHasToken?.(fragment) === true) {
      hits.push({ kind: fragmentHits[0]?.kind ?? text.kinds[0] ?? 'credential', field: 'url.fragment' });
      fragment = '';
    }
  }
  return { url: `${scheme}${authority}${path}${query}${fragment}`, hits };
}

/** `redactUrlDetailed(url, policy).url`. */
export function redactUrl(url: string, policy: UrlSecretPolicy = STRICT_URL_POLICY): string {
  return redactUrlDetailed(url, policy).url;
}

/** One `name=value` parameter, its value replaced when the policy calls the name or value a secret. */
function redactParam(pair: string, field: string, hits: UrlRedactionHit[], policy: UrlSecretPolicy): string {
  const eq = pair.indexOf('=');
  // A bare token as the whole parameter (`?<token>`) or as its name.
  const bare = policy.value(safeDecode(eq < 0 ? pair : pair.slice(0, eq)));
  if (bare) {
    hits.push({ kind: bare, field });
    return REDACTED;
  }
  if (eq < 0) return pair;
  const key = safeDecode(pair.slice(0, eq));
  const kind = policy.param(key, safeDecode(pair.slice(eq + 1)));
  if (!kind) return pair;
  hits.push({ kind, field: `${field}.${policy.paramField(key)}` });
  return `${pair.slice(0, eq)}=${REDACTED}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
