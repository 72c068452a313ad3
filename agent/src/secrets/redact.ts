/**
 * Redaction: turning strings that may hold credentials into strings that do not.
 *
 * Contract: every function here returns a string (or array) in which each detected secret is
 * replaced by REDACTED, everything else kept as written (no re-serialization of URLs, so a
 * stripped URL compares equal to what the user wrote minus the secret). Variable references are
 * kept: they name where a secret comes from, they are not one. Functions never throw.
 */
import { REDACTED } from '@mcpwatch/shared';
import { classifySecret, detectSecret, isPlaceholder, isReference, isSecretName, type SecretHit } from './detect-secret.js';
import { SECRET_PATTERNS } from './secret-patterns.js';

/** Where a secret sat inside an args array or a URL, for findings. Never the value. */
export interface RedactionHit extends SecretHit {
  /** e.g. `args[3]`, `args[5] (--api-key)`, `url.userinfo`, `url.query.token`, `url.path`. */
  field: string;
}

export interface RedactedUrl {
  url: string;
  hits: RedactionHit[];
}

const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/s;

/**
 * Strip credentials from a URL: userinfo removed entirely (or replaced by REDACTED when
 * `keepUserinfoMarker`), secret-looking query values and path segments replaced by REDACTED,
 * a fragment holding a secret dropped. Not-a-URL input is returned through redactText.
 */
export function redactUrlDetailed(input: string, opts: { keepUserinfoMarker?: boolean } = {}): RedactedUrl {
  const m = URL_SHAPE.exec(input);
  if (!m) {
    const text = redactTextDetailed(input);
    return { url: text.text, hits: text.kinds.map((kind) => ({ kind, field: 'url' })) };
  }
  const scheme = m[1] ?? '';
  let authority = m[2] ?? '';
  let path = m[3] ?? '';
  let query = m[4] ?? '';
  let fragment = m[5] ?? '';
  const hits: RedactionHit[] = [];

  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const host = authority.slice(at + 1);
    const hasPassword = userinfo.includes(':');
    const password = hasPassword ? safeDecode(userinfo.slice(userinfo.indexOf(':') + 1)) : safeDecode(userinfo);
    const userHit = hasPassword ? null : detectSecret(password);
    if (userHit) hits.push({ kind: userHit.kind, field: 'url.userinfo' });
    else if (hasPassword && password.length > 0 && !isReference(password) && !isPlaceholder(password)) {
      hits.push({ kind: detectSecret(password)?.kind ?? 'url-credentials', field: 'url.userinfo' });
    }
    authority = opts.keepUserinfoMarker && userinfo.length > 0 ? `${REDACTED}@${host}` : host;
  }

  path = path
    .split('/')
    .map((segment) => {
      const hit = detectSecret(safeDecode(segment));
      if (!hit) return segment;
      hits.push({ kind: hit.kind, field: 'url.path' });
      return REDACTED;
    })
    .join('/');

  if (query.length > 1) {
    const parts = query.slice(1).split('&').map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const key = safeDecode(pair.slice(0, eq));
      const value = safeDecode(pair.slice(eq + 1));
      const hit = classifySecret(key, value);
      if (!hit) return pair;
      hits.push({ kind: hit.kind, field: `url.query.${key}` });
      return `${pair.slice(0, eq)}=${REDACTED}`;
    });
    query = `?${parts.join('&')}`;
  }

  if (fragment.length > 1) {
    const text = redactTextDetailed(safeDecode(fragment.slice(1)));
    if (text.kinds.length > 0 || /(?:access_token|id_token|token)=/i.test(fragment)) {
      hits.push({ kind: text.kinds[0] ?? 'credential', field: 'url.fragment' });
      fragment = '';
    }
  }
  return { url: `${scheme}${authority}${path}${query}${fragment}`, hits };
}

/** `redactUrlDetailed(url).url`: the URL without userinfo or secret query values. */
export function redactUrl(url: string): string {
  return redactUrlDetailed(url).url;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface RedactedText {
  text: string;
  kinds: string[];
}

/** Longest free text redactText scans; the rest is dropped. */
export const MAX_TEXT_CHARS = 65_536;

const GLOBAL_PATTERNS = SECRET_PATTERNS.map(({ kind, pattern }) => ({ kind, re: new RegExp(pattern.source, 'g') }));
/** One pass that tells whether any known format occurs at all (the common case is: none). */
const ANY_KNOWN_PATTERN = new RegExp(SECRET_PATTERNS.map(({ pattern }) => `(?:${pattern.source})`).join('|'));
/** `name=value`, `name: value`, `"name": "value"` inside free text, for credential-ish names. */
// The look-behind makes only word starts candidates, so long runs of name characters stay linear.
const NAMED_VALUE = /(?<![A-Za-z0-9_.-])([A-Za-z_][A-Za-z0-9_.-]{1,64})(["']?\s*[:=]\s*["']?)([^\s"'&,;]{6,})/g;
const AUTH_HEADER = /\b(Authorization|Proxy-Authorization)(\s*:\s*)(?:(Bearer|Basic|Token)\s+)?([^\s"',;]+)/gi;
/** URLs with userinfo or a query inside free text. */
const URL_IN_TEXT = /\b[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s"'<>]+/g;

/**
 * Mask every detected secret inside a free string (a process command line, a header line, a
 * shell snippet): known credential formats, `Authorization:` values, credential-ish `NAME=value`
 * pairs, URL userinfo and secret query values, and whitespace-separated high-entropy tokens.
 */
export function redactTextDetailed(input: string): RedactedText {
  if (typeof input !== 'string') return { text: '', kinds: [] };
  if (input.length < 6) return { text: input, kinds: [] }; // nothing this short is a credential
  const kinds: string[] = [];
  // Bounded work: text beyond MAX_TEXT_CHARS is cut off (and so cannot leak), not scanned.
  let text = input.length > MAX_TEXT_CHARS ? input.slice(0, MAX_TEXT_CHARS) : input;
  if (ANY_KNOWN_PATTERN.test(text)) {
    for (const { kind, re } of GLOBAL_PATTERNS) {
      text = text.replace(re, (m) => {
        if (isPlaceholder(m)) return m;
        kinds.push(kind);
        return REDACTED;
      });
    }
  }
  // Each pass runs only when its cheap precondition holds (most command lines hold no secret).
  if (text.includes('://')) text = text.replace(URL_IN_TEXT, (m) => {
    if (!/@|\?|#/.test(m)) return m;
    const r = redactUrlDetailed(m, { keepUserinfoMarker: true });
    for (const h of r.hits) kinds.push(h.kind);
    return r.url;
  });
  if (/authorization/i.test(text)) text = text.replace(AUTH_HEADER, (m, name: string, sep: string, scheme: string | undefined, value: string) => {
    if (value === REDACTED || isReference(value) || isPlaceholder(value)) return m;
    kinds.push('authorization-header');
    return `${name}${sep}${scheme ? `${scheme} ` : ''}${REDACTED}`;
  });
  if (/[:=]/.test(text)) text = text.replace(NAMED_VALUE, (m, name: string, sep: string, value: string) => {
    if (value.startsWith(REDACTED) || value.includes('://') || /^(?:proxy-)?authorization$/i.test(name)) return m;
    const hit = classifySecret(name, value);
    if (!hit) return m;
    kinds.push(hit.kind);
    return `${name}${sep}${REDACTED}`;
  });
  let prev = '';
  text = text
    .split(/(\s+)/)
    .map((tok) => {
      if (/^\s*$/.test(tok)) return tok;
      const core = tok.replace(/^["'(]+|["'),;]+$/g, '');
      const after = prev;
      prev = core;
      if (core.length === 0 || tok.includes(REDACTED)) return tok;
      // `--token value`: the word after a credential flag is a credential unless it is a
      // reference, a placeholder or another flag.
      if (isSecretFlag(after) && !core.startsWith('-') && core.length >= 4 && !isReference(core) && !isPlaceholder(core)) {
        kinds.push(detectSecret(core)?.kind ?? 'credential');
        return tok.replace(core, REDACTED);
      }
      if (core.length < 20) return tok;
      const hit = detectSecret(core);
      if (!hit) return tok;
      kinds.push(hit.kind);
      return tok.replace(core, REDACTED);
    })
    .join('');
  return { text, kinds };
}

/** `redactTextDetailed(text).text`: the string with every detected secret masked. */
export function redactText(text: string): string {
  return redactTextDetailed(text).text;
}

/** CLI flags whose NEXT argument is a credential even when it does not look like one. */
function isSecretFlag(arg: string): boolean {
  if (!/^--?[A-Za-z]/.test(arg) || arg.includes('=')) return false;
  if (/^-[A-Za-z]$/.test(arg)) return false; // single-letter flags are ambiguous (-p is a package)
  return isSecretName(arg);
}

const HEADER_FLAGS = new Set(['-H', '--header', '--headers', '--http-header']);

export interface RedactedArgs {
  args: string[];
  hits: RedactionHit[];
}

/**
 * Redact an argument vector: the value after a credential flag (`--token x`, `--api-key x`,
 * `--key x`), `--flag=value` for credential flags, header arguments (`-H "Authorization: Bearer
 * x"`), `KEY=VALUE` for credential-ish keys (`-e API_KEY=x`), URLs with credentials, and any
 * argument holding a detected secret. References are kept.
 */
export function redactArgsDetailed(args: readonly string[]): RedactedArgs {
  const out: string[] = [];
  const hits: RedactionHit[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = String(args[i] ?? '');
    const prev = i > 0 ? String(args[i - 1] ?? '') : '';
    const field = `args[${i}]`;
    if (isSecretFlag(prev) && (!arg.startsWith('-') || arg.startsWith('-----BEGIN'))) {
      const hit = classifySecret(prev, arg) ?? (isReference(arg) || isPlaceholder(arg) || arg.length < 4 ? null : { kind: 'credential' });
      if (hit) {
        hits.push({ kind: hit.kind, field: `${field} (${prev})` });
        out.push(REDACTED);
        continue;
      }
    }
    if (HEADER_FLAGS.has(prev)) {
      const r = redactHeaderLine(arg);
      if (r.kind) {
        hits.push({ kind: r.kind, field: `${field} (${prev})` });
        out.push(r.text);
        continue;
      }
    }
    const flagValue = /^(--?[A-Za-z][A-Za-z0-9_.-]*)=(.*)$/s.exec(arg);
    if (flagValue && isSecretName(flagValue[1] ?? '')) {
      const value = flagValue[2] ?? '';
      const hit = classifySecret(flagValue[1] ?? null, value) ?? (isReference(value) || isPlaceholder(value) || value.length < 4 ? null : { kind: 'credential' });
      if (hit) {
        hits.push({ kind: hit.kind, field: `${field} (${flagValue[1]})` });
        out.push(`${flagValue[1]}=${REDACTED}`);
        continue;
      }
    }
    const kv = /^([A-Za-z_][A-Za-z0-9_.-]{0,255})=(.*)$/s.exec(arg);
    if (kv) {
      const hit = classifySecret(kv[1] ?? null, kv[2] ?? '');
      if (hit) {
        hits.push({ kind: hit.kind, field: `${field} (${kv[1]})` });
        out.push(`${kv[1]}=${REDACTED}`);
        continue;
      }
    }
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/.test(arg)) {
      const r = redactUrlDetailed(arg, { keepUserinfoMarker: true });
      for (const h of r.hits) hits.push({ kind: h.kind, field: `${field} (${h.field})` });
      out.push(r.url);
      continue;
    }
    const text = redactTextDetailed(arg);
    for (const kind of text.kinds) hits.push({ kind, field });
    out.push(text.text);
  }
  return { args: out, hits };
}

/** `redactArgsDetailed(args).args`. */
export function redactArgs(args: readonly string[]): string[] {
  return redactArgsDetailed(args).args;
}

/** Redact the value of one `Name: value` header line when the header carries a credential. */
export function redactHeaderLine(line: string): { text: string; kind: string | null } {
  const m = /^\s*([A-Za-z0-9_-]{1,128})\s*:\s*(.*)$/s.exec(line);
  if (!m) {
    const t = redactTextDetailed(line);
    return { text: t.text, kind: t.kinds[0] ?? null };
  }
  const name = m[1] ?? '';
  const value = m[2] ?? '';
  const hit = classifyHeader(name, value);
  if (!hit) return { text: line, kind: null };
  return { text: `${name}: ${REDACTED}`, kind: hit.kind };
}

/** Classify a header value: a credential under Authorization/Cookie/*-Key/*-Token, or a detected secret. */
export function classifyHeader(name: string, value: string): SecretHit | null {
  if (typeof value !== 'string') return null;
  const lower = name.toLowerCase();
  if (lower === 'authorization' || lower === 'proxy-authorization' || lower === 'cookie' || lower === 'x-api-key') {
    const bare = value.replace(/^\s*(?:Bearer|Basic|Token)\s+/i, '').trim();
    if (bare.length === 0 || isReference(value) || isReference(bare) || isPlaceholder(bare)) return null;
    return detectSecret(bare) ?? { kind: lower === 'cookie' ? 'cookie' : 'authorization-header' };
  }
  return classifySecret(name, value);
}
