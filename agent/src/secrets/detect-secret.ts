/**
 * Secret detection over single values.
 *
 * Contract: pure functions, never throw, never log or return the value they inspect — only a
 * `kind`. Detection errs toward flagging credentials in known formats; the generic checks
 * deliberately leave alone paths, URLs, package specs (`@scope/name`, `name@1.2.3`, `org/image`),
 * version strings, hostnames, words (also run together or with a year: `mcpserverpostgres2024`),
 * snake_case identifiers, placeholders ("your-api-key-here", "<TOKEN>", "xxx") and references to
 * variables (`${input:x}`, `${env:X}`, `${VAR}`, `$VAR`, `%VAR%`, `{{x}}`, OpenCode `{env:X}` /
 * `{file:p}`), which are not secrets.
 *
 * Generic (prefix-less) tokens, judged on one whitespace-free value:
 * - mixed-case alphanumeric / base64 / base64url of 20+ characters with an entropy random
 *   credentials reach (as before);
 * - hexadecimal of 32+ characters (API keys of Datadog, Todoist, Trello, 40-hex classic tokens;
 *   a commit or content hash redacted by mistake costs nothing);
 * - single-case alphanumeric runs (vendor personal access tokens): 32+ characters whose letters
 *   and digits alternate the way random strings do (counted as letter/digit switches) or that
 *   have few vowels (random: about 1 in 7; words run together: about 1 in 3), or 20+ characters
 *   that switch often — words with a number (`python311`, `ubuntu2204lts`) switch once or twice;
 * - base32 (A-Z2-7, either case, optional `=` padding) of 16+ characters with several digits
 *   (TOTP seeds and similar).
 * UUID-shaped values are NOT flagged on their own: as positional arguments they are almost always
 * identifiers (workspace, project, tenant ids). Under a credential-ish name (`--api-key <uuid>`,
 * `API_KEY=<uuid>`, an env value) they are still redacted by `classifySecret`.
 */
import { NON_SECRET_NAME_PATTERN, PASSWORD_NAME_PATTERN, SECRET_NAME_PATTERN, SECRET_PATTERNS, SESSION_NAME_PATTERN } from './secret-patterns.js';

/** What a detector found: the kind of credential, never the value. */
export interface SecretHit {
  kind: string;
}

/** Longest value inspected; longer input is inspected in its first MAX_VALUE_CHARS only. */
const MAX_VALUE_CHARS = 16_384;

/** One variable reference in any of the syntaxes MCP clients and shells expand. */
const REFERENCE_SOURCE =
  String.raw`\$\{[^}\s]{1,256}\}|\$[A-Za-z_][A-Za-z0-9_]{0,255}|%[A-Za-z_][A-Za-z0-9_()]{0,255}%|\{\{[^}]{1,256}\}\}|\{(?:env|file):[^}\s]{1,256}\}`;
const REFERENCE_ONLY = new RegExp(
  String.raw`^\s*(?:(?:Bearer|Basic|Token)\s+)?(?:${REFERENCE_SOURCE})(?:\s*(?:${REFERENCE_SOURCE}))*\s*$`,
  'i',
);
const REFERENCE_ANY = new RegExp(REFERENCE_SOURCE, 'g');

/**
 * true when the value is only a reference to a variable (optionally after an auth scheme such
 * as `Bearer `): `${input:token}`, `${env:API_KEY}`, `${API_KEY}`, `$API_KEY`, `%API_KEY%`.
 */
export function isReference(value: string): boolean {
  return REFERENCE_ONLY.test(value);
}

const PLACEHOLDER_PATTERNS: readonly RegExp[] = [
  /^\s*$/,
  /^<[^<>]{1,200}>$/, // <TOKEN>, <your key>
  /^\[[^[\]]{1,200}\]$/, // [YOUR_KEY]
  /^(?:x{3,}|\*{3,}|\.{3,}|-+|_+|0+|1234(?:5678?)?9?|null|none|undefined|true|false|redacted|\[redacted\])$/i,
  /x{4,}|\*{4,}|\.\.\./i, // sk-xxxx, ghp_****, sk-...
  // Words are separated by exactly one [-_ ]: no ambiguous splits, so no catastrophic backtracking.
  /\b(?:your|my|insert|enter|put|add|replace|paste|fill)[-_ ]?(?:[a-z0-9]{1,40}[-_ ]){0,6}(?:here|key|token|secret|password|id|url)\b/i,
  /^your[-_]/i,
  /(?:^|[-_ ])(?:placeholder|changeme|change[-_]me|replace[-_]?me|dummy|example|sample|fake|todo|tbd|redacted)(?:$|[-_ ])/i,
  /EXAMPLE/, // AWS documentation keys (AKIAIOSFODNN7EXAMPLE)
];

/** true for values that are obviously not real credentials: empty, `<TOKEN>`, `your-key-here`, `xxx`. */
export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_PATTERNS.some((re) => re.test(value));
}

/** Shannon entropy of a string in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** One pass that tells whether any known format occurs at all (the common case is: none). */
const ANY_KNOWN_PATTERN = new RegExp(SECRET_PATTERNS.map(({ pattern }) => `(?:${pattern.source})`).join('|'));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKENISH = /^[A-Za-z0-9+/=_\-.~]{16,512}$/;
const HEX = /^[0-9a-fA-F]+$/;
/** `name.example.com`: labels of letters, digits and dashes, ending in an alphabetic TLD. */
const HOSTNAME = /^(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}$/;

/** How often a string switches between letters and digits (random tokens switch often). */
function letterDigitSwitches(run: string): number {
  let switches = 0;
  let prevDigit: boolean | null = null;
  for (const ch of run) {
    const digit = ch >= '0' && ch <= '9';
    if (prevDigit !== null && digit !== prevDigit) switches++;
    prevDigit = digit;
  }
  return switches;
}

/** Share of vowels among the characters of a run. */
function vowelShare(run: string): number {
  return run.replace(/[^aeiouAEIOU]/g, '').length / run.length;
}

/** A single-case run of letters and digits that looks random rather than made of words. */
function isRandomSingleCaseRun(run: string): boolean {
  if (run.length < 16 || !/[0-9]/.test(run) || !/[A-Za-z]/.test(run)) return false;
  if (/[a-z]/.test(run) && /[A-Z]/.test(run)) return false; // mixed case: judged elsewhere
  const switches = letterDigitSwitches(run);
  const digits = run.replace(/[^0-9]/g, '').length;
  if (HEX.test(run) && run.length >= 32) return shannonEntropy(run) >= 3.0;
  if (/^[A-Za-z2-7]+$/.test(run)) {
    // base32 alphabet: 16+ characters with several digits spread through it.
    if (run.length >= 16 && digits >= 2 && switches >= 4) return true;
  }
  // Long runs: random alphanumerics switch often or have few vowels (about 1 in 7 characters;
  // words run together have about 1 in 3).
  if (run.length >= 32) return (switches >= 4 || vowelShare(run) < 0.25) && shannonEntropy(run) >= 3.3;
  if (run.length >= 20) return digits >= 3 && switches >= 6 && shannonEntropy(run) >= 3.5;
  return false;
}

/**
 * Generic high-entropy check for one whitespace-free token. See the module header for what is
 * flagged and what is deliberately left alone.
 */
function isHighEntropyToken(token: string): boolean {
  if (!TOKENISH.test(token)) return false;
  if (UUID.test(token)) return false;
  if (/^[./~]|^[A-Za-z]:[\\/]|\\/.test(token)) return false; // a path
  if (/^@?[a-z0-9][a-z0-9._-]*\/[a-z0-9._-]+(?:@[\w.^~<>=*-]+)?$/.test(token)) return false; // scope/pkg, org/image (lower case)
  if (/^[\w.-]+@\d+\.\d+/.test(token)) return false; // name@1.2.3
  if (HOSTNAME.test(token)) return false;
  if (!/[0-9]/.test(token) || !/[A-Za-z]/.test(token)) return false;
  // base32 with padding, or one single-case run (after a vendor prefix such as `napi_`).
  const unpadded = token.replace(/=+$/, '');
  if (/^[A-Z2-7]{16,}$/.test(unpadded) || /^[a-z2-7]{16,}$/.test(unpadded)) {
    if (isRandomSingleCaseRun(unpadded)) return true;
  }
  for (const run of token.split(/[^A-Za-z0-9]+/)) if (isRandomSingleCaseRun(run)) return true;
  if (token.length < 20) return false;
  if (HEX.test(token)) return false; // short hex: ids and abbreviated hashes
  if (!/[a-z]/.test(token) || !/[A-Z]/.test(token)) return false;
  const threshold = token.length >= 32 ? 4.0 : 3.7;
  return shannonEntropy(token) >= threshold;
}

/**
 * Detect a credential in one value. Returns its kind or null. Known formats are looked for
 * anywhere in the value; the generic high-entropy check applies to whole whitespace-free values
 * only (after removing variable references and an auth scheme prefix).
 */
export function detectSecret(value: string): SecretHit | null {
  if (typeof value !== 'string' || value.length < 8) return null;
  const text = value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS) : value;
  if (isReference(text)) return null;
  if (ANY_KNOWN_PATTERN.test(text)) {
    for (const { kind, pattern } of SECRET_PATTERNS) {
      const m = pattern.exec(text);
      if (m && !isPlaceholder(m[0])) return { kind };
    }
  }
  const bare = text.replace(REFERENCE_ANY, '').replace(/^\s*(?:Bearer|Basic|Token)\s+/i, '').trim();
  if (bare.length === 0 || /\s/.test(bare) || isPlaceholder(bare)) return null;
  return isHighEntropyToken(bare) ? { kind: 'generic-high-entropy' } : null;
}

/** Names of hash algorithms: what sits under them is a digest. */
const DIGEST_NAME = /^(?:sha(?:_?(?:1|224|256|384|512))?|sha3_\d+|md5|blake2[bs]?|blake3|digest|checksum|hash)$/;

/** Normalizes a name (env var, header, flag, query key) for SECRET_NAME_PATTERN. */
function normalName(name: string): string {
  return name
    .replace(/^-+/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-.\s[\]]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/** true when a name (env var, header, CLI flag, query parameter) conventionally holds a credential. */
export function isSecretName(name: string): boolean {
  const n = normalName(name);
  if (n.length === 0 || n.length > 256) return false;
  if (SESSION_NAME_PATTERN.test(n)) return true;
  if (NON_SECRET_NAME_PATTERN.test(n)) return false;
  return SECRET_NAME_PATTERN.test(n);
}

/**
 * Classify a named value: a known or high-entropy credential anywhere, or — under a
 * credential-ish name — any value that is not empty, a reference, a placeholder, a number or a
 * boolean. Returns null for non-secrets. This is the single decision used both for redaction
 * and for findings, so what is reported is exactly what is redacted.
 */
export function classifySecret(name: string | null, value: string): SecretHit | null {
  if (typeof value !== 'string') return null;
  // `sha256:<hex>` (an image digest), `"sha512": "<hex>"`: a content hash named as one is no secret.
  if (name !== null && DIGEST_NAME.test(normalName(name)) && /^[0-9a-f]{32,128}$/i.test(value.trim())) return null;
  const hit = detectSecret(value);
  if (hit) return hit;
  // `Bearer <token>` is a credential whatever the name it sits under (AUTH_HEADER, ...).
  const scheme = /^\s*(?:Bearer|Basic|Token)\s+(\S{8,})\s*$/i.exec(value);
  if (scheme && !isReference(scheme[1] as string) && !isPlaceholder(scheme[1] as string)) return { kind: 'authorization-header' };
  if (name === null || !isSecretName(name)) return null;
  const v = value.trim();
  // A password is a password however short or numeric; other names need a credential-sized value.
  const password = PASSWORD_NAME_PATTERN.test(normalName(name));
  if (v.length < (password ? 3 : 6) || isReference(v) || isPlaceholder(v)) return null;
  if (/^(?:true|false|yes|no|on|off|null|none|bearer|basic|token)$/i.test(v)) return null;
  if (!password && /^\d+$/.test(v)) return null;
  // An upper-case identifier names a variable that holds the secret (env_key = "OPENAI_API_KEY").
  if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(v)) return null;
  if (/^(?:https?|wss?):\/\/[^@\s]*$/i.test(v)) return null; // a plain URL without credentials
  if (/^(?:[./~]|[A-Za-z]:[\\/])/.test(v)) return null; // a path (e.g. *_KEY_FILE-like values)
  const bare = v.replace(/^(?:Bearer|Basic|Token)\s+/i, '');
  if (isReference(bare) || isPlaceholder(bare)) return null;
  if (/aws_?secret|secret_?access_?key/.test(normalName(name))) return { kind: 'aws-secret-access-key' };
  return { kind: 'credential' };
}
