/**
 * Redaction: turning strings that may hold credentials into strings that do not.
 *
 * Contract: every function here returns a string (or array) in which each detected secret is
 * replaced by REDACTED, everything else kept as written (no re-serialization of URLs or JSON, so a
 * stripped value compares equal to what the user wrote minus the secret). Variable references are
 * kept: they name where a secret comes from, they are not one. Functions never throw.
 *
 * Shapes covered: known credential formats and prefix-less tokens anywhere (detect-secret.ts);
 * URLs (userinfo, query parameters split on `&` and `;`, `;name=value` matrix parameters in the
 * path, fragments such as `#access_token=`); arguments (`--flag value`, `--flag=value`,
 * `--flag:value`, `/flag:value`, `-Dname=value`, `KEY=VALUE`, `-H "Name: value"`); JSON or
 * JS-object text, also escaped one or more times inside a string (`{\"apiKey\":\"…\"}`) and
 * also when it does not parse (scanned as `"key": "value"` pairs); names that carry a value
 * (`API_KEY=…` or `Authorization: Bearer …` written as an env or header key); and the reasons of
 * config errors, which may quote a line of the file.
 */
import { REDACTED, redactUrlDetailed as sharedRedactUrlDetailed, type UrlSecretPolicy } from '@mcpwatch/shared/protocol';
import type { ConfigError } from '@mcpwatch/shared';
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

/** The agent's answer to "which parts of a URL are secrets": its secret detector. */
const AGENT_URL_POLICY: UrlSecretPolicy = {
  password: (p) => (p.length > 0 && !isReference(p) && !isPlaceholder(p) ? detectSecret(p)?.kind ?? 'url-credentials' : null),
  // A user name alone is a credential when it looks like one (`https://<token>@github.com`).
  user: (u) => detectSecret(u)?.kind ?? (looksLikeTokenUser(u) ? 'url-credentials' : null),
  value: (v) => detectSecret(v)?.kind ?? null,
  param: (name, value) => classifySecret(name, value)?.kind ?? null,
  paramField: (name) => redactKeyName(name),
  text: (input) => redactTextDetailed(input),
  fragmentHasToken: (fragment) => /(?:access_token|id_token|token)=/i.test(fragment),
};

/**
 * Strip credentials from a URL (the shared redactor, shared/protocol/redact-url.ts, with the
 * agent's secret detector): userinfo removed entirely (or replaced by REDACTED when
 * `keepUserinfoMarker`), secret-looking query values and path segments replaced by REDACTED,
 * a fragment holding a secret dropped. Not-a-URL input is returned through redactText.
 */
export function redactUrlDetailed(input: string, opts: { keepUserinfoMarker?: boolean } = {}): RedactedUrl {
  return sharedRedactUrlDetailed(input, AGENT_URL_POLICY, opts);
}

/** `redactUrlDetailed(url).url`: the URL without userinfo or secret query values. */
export function redactUrl(url: string): string {
  return redactUrlDetailed(url).url;
}

/** A URL user name that is a token rather than a login (`git`, `deploy`, `oauth2`, `alice`). */
function looksLikeTokenUser(user: string): boolean {
  return user.length >= 12 && /[0-9]/.test(user) && /[A-Za-z]/.test(user) && !isReference(user) && !isPlaceholder(user);
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
 * `user:password@host` without a scheme (proxy settings, database and Redis shorthands, scp-style
 * specs): the host has a dot or is localhost. `mailto:`/`sip:`-style prefixes are not a user.
 */
const SCHEMELESS_USERINFO = /(?<![\w.%+\-/:@[])([A-Za-z0-9._%+-]{1,64}):([^@\s/:"'[\]]{1,256})@((?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+|localhost)(?=[:/\s"',;]|$)/g;

/**
 * Mask every detected secret inside a free string (a process command line, a header line, a
 * shell snippet): known credential formats, `Authorization:` values, credential-ish `NAME=value`
 * pairs, URL userinfo and secret query values, and whitespace-separated high-entropy tokens.
 */
export function redactTextDetailed(input: string): RedactedText {
  return redactTextAt(input, 0);
}

/** Nesting depth up to which JSON found inside text is looked into (values that hold JSON). */
const MAX_TEXT_DEPTH = 2;

function redactTextAt(input: string, depth: number): RedactedText {
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
    if (!/@|\?|#|;/.test(m)) return m;
    const r = redactUrlDetailed(m, { keepUserinfoMarker: true });
    for (const h of r.hits) kinds.push(h.kind);
    return r.url;
  });
  if (text.includes('@') && text.includes(':')) text = text.replace(SCHEMELESS_USERINFO, (m, user: string, password: string, host: string) => {
    if (/^(?:mailto|sip|sips|tel|xmpp|im|news)$/i.test(user) || password === REDACTED || isReference(password) || isPlaceholder(password)) return m;
    kinds.push(detectSecret(password)?.kind ?? 'url-credentials');
    return `${user}:${REDACTED}@${host}`;
  });
  if (depth < MAX_TEXT_DEPTH && /["']/.test(text) && /[:=]/.test(text)) {
    try {
      text = redactQuotedPairs(text, kinds, depth);
    } catch {
      // Bounded by construction; should it still fail, the passes below run on the text as is.
    }
  }
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
      const form = redactArgForm(core);
      if (form) {
        kinds.push(form.kind);
        return tok.replace(core, form.text);
      }
      if (core.length < 16) return tok;
      const hit = detectSecret(core);
      if (!hit) return tok;
      kinds.push(hit.kind);
      return tok.replace(core, REDACTED);
    })
    .join('');
  return { text, kinds };
}

// ---- JSON and JS-object text, also escaped inside a string ----

/** How many levels of `\"` escaping are looked through (`"{\"a\":\"{\\\"b\\\":…}\"}"`). */
const MAX_ESCAPE_LEVELS = 3;
/** `"key": "value"` / `'key': 'value'` / `key: "value"` with `:` or `=`; an unterminated value runs to the end. */
const QUOTED_PAIR =
  /(?:(["'])([^"'\\\s:={},]{1,128})\1|(?<![\w$.[\]-])([A-Za-z_$][\w$.[\]-]{0,127}))\s*[:=]\s*(?:"((?:[^"\\]|\\.){0,8192})(?:"|$)|'((?:[^'\\]|\\.){0,8192})(?:'|$))/g;

/** `value` escaped `levels` times as the inside of a JSON string. */
function escapeLevels(value: string, levels: number): string {
  let out = value;
  for (let i = 0; i < levels; i++) out = out.replace(/[\\"]/g, (c) => `\\${c}`);
  return out;
}

function decodeJsonString(inner: string): string {
  if (!inner.includes('\\')) return inner;
  try {
    const v: unknown = JSON.parse(`"${inner}"`);
    return typeof v === 'string' ? v : inner;
  } catch {
    return inner;
  }
}

/** A named value: header rules for header names, credential rules for the rest. */
function classifyNamed(name: string, value: string): SecretHit | null {
  if (/^(?:proxy-)?authorization$|^cookie$|^x-api-key$/i.test(name)) return classifyHeader(name, value);
  return classifySecret(name, value);
}

/**
 * Values in `"key": "value"` pairs (JSON, JS objects, YAML flow maps), at every escape level the
 * text holds, whether or not it parses: a value under a credential-ish key is replaced whole; any
 * other value is redacted as text. Arrays of strings that parse as JSON are redacted item by item
 * under a credential-ish key, and as an argv otherwise.
 * Replacement is done in the original text, quotes included, so the rest stays as written.
 */
function redactQuotedPairs(input: string, kinds: string[], depth: number): string {
  let text = input;
  let variant = input;
  for (let level = 0; level <= MAX_ESCAPE_LEVELS; level++) {
    if (level > 0) {
      if (!variant.includes('\\"') && !variant.includes("\\'")) break;
      variant = variant.replace(/\\(["'\\])/g, '$1');
    }
    const q = escapeLevels('"', level);
    const replacements: Array<[string, string]> = [];
    for (const m of variant.matchAll(QUOTED_PAIR)) {
      const name = m[2] ?? m[3] ?? '';
      const dq = m[4];
      const rawValue = dq ?? m[5] ?? '';
      if (rawValue.length === 0 || rawValue.startsWith(REDACTED)) continue;
      const value = dq !== undefined ? decodeJsonString(rawValue) : rawValue;
      const quote = dq !== undefined ? q : "'";
      const close = m[0].endsWith(dq !== undefined ? '"' : "'") ? quote : '';
      const hit = classifyNamed(name, value);
      let redacted: string;
      if (hit) {
        kinds.push(hit.kind);
        redacted = REDACTED;
      } else {
        const inner = redactTextAt(value, depth + 1);
        if (inner.kinds.length === 0) continue;
        kinds.push(...inner.kinds);
        redacted = dq !== undefined ? JSON.stringify(inner.text).slice(1, -1) : inner.text;
      }
      replacements.push([`${quote}${escapeLevels(rawValue, level)}${close}`, `${quote}${escapeLevels(redacted, level)}${close}`]);
    }
    const enc = (v: string) => `${q}${escapeLevels(JSON.stringify(v).slice(1, -1), level)}${q}`;
    for (const { key, items } of stringArrays(variant)) {
      if (key !== null && isSecretName(key)) {
        // A list under a credential name (`"tokens": ["…"]`): each item is a value of that name.
        for (const item of items) {
          const hit = classifyNamed(key, item);
          if (!hit) continue;
          kinds.push(hit.kind);
          replacements.push([enc(item), enc(REDACTED)]);
        }
        continue;
      }
      const r = redactArgsDetailed(items);
      r.args.forEach((out, i) => {
        const before = items[i] as string;
        if (out !== before) replacements.push([enc(before), enc(out)]);
      });
      for (const h of r.hits) kinds.push(h.kind);
    }
    for (const [from, to] of replacements) if (from.length > 0) text = text.split(from).join(to);
  }
  return text;
}

/** Arrays of strings in a text that parses as JSON (an argv passed as one argument). */
function stringArrays(variant: string): Array<{ key: string | null; items: string[] }> {
  const t = variant.trim();
  if (!/^[[{]/.test(t) || !t.includes('[')) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(t);
  } catch {
    return [];
  }
  // Iterative and bounded (nodes and depth): a deeply nested argument must not overflow the stack.
  const out: Array<{ key: string | null; items: string[] }> = [];
  const stack: Array<[unknown, number, string | null]> = [[doc, 0, null]];
  let budget = 10_000;
  while (stack.length > 0 && budget-- > 0) {
    const [node, depth, key] = stack.pop() as [unknown, number, string | null];
    if (node === null || typeof node !== 'object' || depth > 64) continue;
    if (Array.isArray(node)) {
      if (node.length > 0 && node.every((x) => typeof x === 'string')) out.push({ key, items: node as string[] });
      else for (const v of node) stack.push([v, depth + 1, key]);
      continue;
    }
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) stack.push([v, depth + 1, k]);
  }
  return out;
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

/** A value under a credential name: its kind, or null for references, placeholders and empties. */
function namedValueHit(name: string, value: string): SecretHit | null {
  return classifySecret(name, value) ?? (isReference(value) || isPlaceholder(value) || value.trim().length < 4 ? null : { kind: 'credential' });
}

/**
 * One argument in a `name<sep>value` form, redacted when the name marks a credential:
 * `--api-key=x`, `--api-key:x`, `/password:x` (Windows style), `-Dapi.key=x` (Java properties),
 * `--env=API_KEY=x`, `KEY=VALUE`, `auth[token]=x`. Null when the argument is none of these or
 * holds no secret. `name` is the name the finding reports.
 */
function redactArgForm(arg: string): { text: string; kind: string; name: string } | null {
  // -Dname=value: the property name decides (`-Dspring.datasource.password=x`).
  const prop = /^(-D)([A-Za-z_][\w.[\]-]{0,255})=(.*)$/s.exec(arg);
  if (prop) {
    const hit = classifySecret(prop[2] as string, prop[3] as string);
    return hit ? { text: `${prop[1]}${prop[2]}=${REDACTED}`, kind: hit.kind, name: prop[2] as string } : null;
  }
  // --env=NAME=value (docker, podman): the variable's name decides.
  const env = /^(--env=|--environment=)([A-Za-z_][\w.-]{0,255})=(.*)$/s.exec(arg);
  if (env) {
    const hit = classifySecret(env[2] as string, env[3] as string);
    return hit ? { text: `${env[1]}${env[2]}=${REDACTED}`, kind: hit.kind, name: env[2] as string } : null;
  }
  // --flag=value, --flag:value, /flag:value for credential flags.
  const flag = /^(--?[A-Za-z][\w.-]{0,127}|\/[A-Za-z][\w-]{0,127})([=:])(?!\/\/)(.+)$/s.exec(arg);
  if (flag && isSecretName((flag[1] as string).replace(/^\//, ''))) {
    const hit = namedValueHit(flag[1] as string, flag[3] as string);
    return hit ? { text: `${flag[1]}${flag[2]}${REDACTED}`, kind: hit.kind, name: flag[1] as string } : null;
  }
  // KEY=VALUE (env assignments, config overrides, `db.password=x`, `auth[token]=x`).
  const kv = /^([A-Za-z_][\w.[\]-]{0,255})=(.*)$/s.exec(arg);
  if (kv) {
    const hit = classifySecret(kv[1] as string, kv[2] as string);
    return hit ? { text: `${kv[1]}=${REDACTED}`, kind: hit.kind, name: kv[1] as string } : null;
  }
  return null;
}

/**
 * Redact an argument vector: the value after a credential flag (`--token x`, `--api-key x`,
 * `--key x`), `--flag=value` / `--flag:value` / `-Dname=value` for credential names, header
 * arguments (`-H "Authorization: Bearer x"`), `KEY=VALUE` for credential-ish keys (`-e API_KEY=x`),
 * URLs with credentials (also inside install specs: `git+https://user:token@host/...`), JSON
 * passed as one argument (also escaped), and any argument holding a detected secret.
 * References are kept.
 */
export function redactArgsDetailed(args: readonly string[]): RedactedArgs {
  const out: string[] = [];
  const hits: RedactionHit[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = String(args[i] ?? '');
    const prev = i > 0 ? String(args[i - 1] ?? '') : '';
    const field = `args[${i}]`;
    if (isSecretFlag(prev) && (!arg.startsWith('-') || arg.startsWith('-----BEGIN'))) {
      const hit = namedValueHit(prev, arg);
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
    const form = redactArgForm(arg);
    if (form) {
      hits.push({ kind: form.kind, field: `${field} (${redactKeyName(form.name)})` });
      out.push(form.text);
      continue;
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

/**
 * A key as written may carry its value (`"API_KEY=sk-…"` as an env key, `"Authorization: Bearer
 * …"` as a header key). Splits it into the name and the carried value (null when there is none).
 */
export function splitKeyName(key: string): { name: string; value: string | null } {
  const m = /^\s*([^=:]{1,256}?)(\s*[=:]\s*)(.*)$/s.exec(String(key));
  if (!m || (m[3] ?? '').length === 0) return { name: String(key), value: null };
  const name = (m[1] as string).trim();
  const value = m[3] as string;
  // `a:b` without a space is also how some keys are written (`github.copilot:enabled`, a URL):
  // split at `:` only when what follows reads as a value.
  if (!m[2]?.includes('=') && !/\s/.test(m[2] ?? '') && !classifyNamed(name, value) && !detectSecret(value)) return { name: String(key), value: null };
  return { name, value };
}

/**
 * The name to report for a key: without a carried value (`API_KEY=sk-…` → `API_KEY`,
 * `Authorization: Bearer …` → `Authorization`), and REDACTED when the name itself is a secret.
 */
export function redactKeyName(key: string): string {
  const { name } = splitKeyName(key);
  if (detectSecret(name)) return REDACTED;
  const text = redactTextDetailed(name);
  return text.kinds.length > 0 ? text.text : name;
}

/** A config error with its reason (and entry name) redacted: parsers quote lines of the file. */
export function redactConfigError<E extends Pick<ConfigError, 'reason'> & { entry?: string | null }>(error: E): E {
  const reason = redactText(String(error.reason ?? ''));
  const entry = typeof error.entry === 'string' ? redactText(error.entry) : error.entry;
  if (reason === error.reason && entry === error.entry) return error;
  return { ...error, reason, ...(entry !== undefined ? { entry } : {}) };
}
