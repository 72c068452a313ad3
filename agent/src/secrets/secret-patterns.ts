/**
 * The table of known credential formats. Declarative: one row per kind, most specific first.
 * Each `pattern` is written without anchors and without the global flag; detection anchors or
 * scans with it as needed. Kinds are stable strings that findings carry (never the value).
 */
export interface SecretPattern {
  /** Stable kind reported in findings (github-token, aws-access-key-id, ...). */
  kind: string;
  /** Matches the credential itself (no surrounding context). */
  pattern: RegExp;
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  { kind: 'private-key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/ },
  { kind: 'github-token', pattern: /\bgh[pousr]_[A-Za-z0-9]{30,251}\b/ },
  { kind: 'github-token', pattern: /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/ },
  { kind: 'anthropic-api-key', pattern: /\bsk-ant-[A-Za-z0-9]{2,12}-[A-Za-z0-9_-]{20,}/ },
  { kind: 'openai-api-key', pattern: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}/ },
  { kind: 'openai-api-key', pattern: /\bsk-[A-Za-z0-9]{20,}(?:T3BlbkFJ[A-Za-z0-9]{20,})?\b/ },
  { kind: 'stripe-key', pattern: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}\b/ },
  { kind: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/ },
  { kind: 'slack-webhook', pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/]{20,}/ },
  { kind: 'slack-token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: 'slack-token', pattern: /\bxapp-\d-[A-Za-z0-9-]{10,}/ },
  { kind: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}/ },
  { kind: 'gitlab-token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { kind: 'npm-token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: 'huggingface-token', pattern: /\bhf_[A-Za-z0-9]{30,}\b/ },
  { kind: 'figma-token', pattern: /\bfigd_[A-Za-z0-9_-]{30,}/ },
  { kind: 'sendgrid-api-key', pattern: /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/ },
  { kind: 'pypi-token', pattern: /\bpypi-AgE[A-Za-z0-9_-]{50,}/ },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{10,}/ },
];

/**
 * Names (env vars, headers, query parameters, CLI flags, KEY=VALUE keys, JSON keys) whose values
 * are credentials. Matched case-insensitively against the name with `-`, `.`, spaces and brackets
 * read as `_` and camelCase split (`auth[token]` → `auth_token`, `apiKey` → `api_key`).
 */
export const SECRET_NAME_PATTERN =
  /(?:^|_)(?:token|secret|passw(?:or)?d|pwd|api_?key|apikey|auth|authorization|credentials?|private_?key|access_?key|secret_?key|client_?secret|session|cookie|bearer|signature|sig|key|pat|dsn|conn(?:ection)?_?string)(?:$|_)|(?:token|secret|password|passwd|passphrase|apikey)$|(?:^|_)(?:pass|jwt)$|(?:^|_)(?:api_?keys|apikeys|secrets|passwords|access_?keys|secret_?keys|private_?keys)$/i;

/**
 * Names that hold a credential although they end like an identifier (`_id`): session ids are
 * bearer credentials (`session_id`, `sessionid`, `PHPSESSID`, `jsessionid`, `sid`).
 */
export const SESSION_NAME_PATTERN = /^(?:(?:[a-z0-9]+_)*[a-z]*sess(?:ion)?_?id|sid)$/i;

/** Names that contain a secret-ish word but hold no secret (limits, flags, paths). */
export const NON_SECRET_NAME_PATTERN =
  /(?:_|^)(?:path|file|dir|url|uri|host|port|user(?:name)?|id|name|enabled?|mode|type|timeout|ttl|limit|count|max|min|size|length|expiry|expires|env|var|source|region|scope|scopes|format)$|(?:^|_)env_(?:key|var|name)s?$/i;

/** Names whose value is a password: any non-empty value counts, however short. */
export const PASSWORD_NAME_PATTERN = /(?:^|_)(?:passw(?:or)?d|pass|pwd|passphrase)$/i;
