/**
 * Reading one raw server entry, in any client dialect, into one common shape.
 *
 * Contract: `readEntryFields` never throws. It returns the fields AS WRITTEN (secret values
 * included: the result never leaves the agent) plus a list of problems with individual fields
 * (a field of the wrong type is ignored and reported, the rest of the entry is kept). It returns
 * `null` only when the entry is not an object at all.
 */
import type { EntryDialect } from '../types.js';
import { splitCommandField, splitCommandLine } from './command-line.js';

/** The common shape every dialect is read into. */
export interface EntryFields {
  /** Explicit transport as written (`type`, `transport`, `transport.type`), or null. */
  explicitType: string | null;
  command: string | null;
  args: string[];
  /** Env values as written (names are what leaves the agent). */
  env: Record<string, string>;
  /** Env var NAMES given without values (goose env_keys, codex env_vars, bearer_token_env_var). */
  extraEnvKeys: string[];
  headers: Record<string, string>;
  /** Header NAMES whose values come from elsewhere (codex env_http_headers, bearer_token_env_var). */
  extraHeaderKeys: string[];
  url: string | null;
  /** Which key held the URL: url, serverUrl, httpUrl, uri, baseUrl (MCPorter). */
  urlKey: 'url' | 'serverUrl' | 'httpUrl' | 'uri' | 'baseUrl' | null;
  cwd: string | null;
  disabled: boolean;
  /** Zed extension-provided servers, goose builtin/platform extensions: no command or url by design. */
  builtin: boolean;
  problems: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && /^(?:true|yes|1)$/i.test(v.trim()));
}

function falsy(v: unknown): boolean {
  return v === false || (typeof v === 'string' && /^(?:false|no|0)$/i.test(v.trim()));
}

function readStringArray(v: unknown, field: string, problems: string[]): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return splitCommandLine(v);
  if (!Array.isArray(v)) {
    problems.push(`${field} is not a list (ignored)`);
    return [];
  }
  const out: string[] = [];
  for (const item of v) {
    const s = str(item);
    if (s === null) problems.push(`${field} holds a non-string item (ignored)`);
    else out.push(s);
  }
  return out;
}

function readStringMap(v: unknown, field: string, problems: string[]): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) {
    problems.push(`${field} is not an object (ignored)`);
    return {};
  }
  // Null prototype: a variable named __proto__ (or constructor) is kept like any other name.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, val] of Object.entries(v)) {
    // A non-string value (object, list) still names a variable; keep the name with its JSON text so
    // that secret detection sees it.
    out[k] = str(val) ?? (val === null || val === undefined ? '' : JSON.stringify(val));
  }
  return out;
}

function readNameList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return [v];
  return [];
}

function emptyFields(): EntryFields {
  return {
    explicitType: null,
    command: null,
    args: [],
    env: {},
    extraEnvKeys: [],
    headers: {},
    extraHeaderKeys: [],
    url: null,
    urlKey: null,
    cwd: null,
    disabled: false,
    builtin: false,
    problems: [],
  };
}

/** `type` / `transport` as a string, or a nested `{type: ...}` object. */
function readType(o: Obj): string | null {
  for (const key of ['type', 'transport', 'transportType']) {
    const v = o[key];
    if (typeof v === 'string') return v;
    if (isObj(v) && typeof v.type === 'string') return v.type;
  }
  return null;
}

function readUrl(o: Obj, f: EntryFields): void {
  for (const key of ['url', 'serverUrl', 'httpUrl', 'uri', 'baseUrl'] as const) {
    const v = o[key];
    if (typeof v === 'string' && v.trim().length > 0) {
      f.url = v.trim();
      f.urlKey = key;
      return;
    }
  }
}

function readCommand(command: unknown, args: unknown, f: EntryFields): void {
  f.args = readStringArray(args, 'args', f.problems);
  if (Array.isArray(command)) {
    const words = readStringArray(command, 'command', f.problems);
    if (words.length > 0) {
      f.command = words[0] as string;
      f.args = [...words.slice(1), ...f.args];
    }
    return;
  }
  if (command === undefined || command === null) return;
  const s = str(command);
  if (s === null) {
    f.problems.push('command is neither a string nor a list (ignored)');
    return;
  }
  if (s.trim().length === 0) return;
  const split = splitCommandField(s, f.args);
  f.command = split.command;
  f.args = split.args;
}

function readDisabled(o: Obj, f: EntryFields): void {
  f.disabled = truthy(o.disabled) || falsy(o.enabled);
}

function readStandard(o: Obj, f: EntryFields): void {
  // Some clients (Continue legacy, hand-written configs) nest the launch spec in `transport`.
  const nested = isObj(o.transport) ? (o.transport as Obj) : null;
  const src: Obj = nested ? { ...nested, ...o } : o;
  f.explicitType = readType(o);
  readCommand(src.command, src.args, f);
  f.env = readStringMap(src.env ?? src.environment, 'env', f.problems);
  f.headers = readStringMap(src.headers ?? (isObj(src.requestOptions) ? (src.requestOptions as Obj).headers : undefined), 'headers', f.problems);
  readUrl(src, f);
  f.cwd = str(src.cwd) ?? null;
  readDisabled(o, f);
}

function readZed(o: Obj, f: EntryFields): void {
  if (isObj(o.command)) {
    const c = o.command as Obj;
    readCommand(c.path ?? c.command, c.args, f);
    f.env = readStringMap(c.env, 'command.env', f.problems);
  } else {
    readCommand(o.command, o.args, f);
    f.env = readStringMap(o.env, 'env', f.problems);
  }
  f.explicitType = readType(o);
  f.headers = readStringMap(o.headers, 'headers', f.problems);
  readUrl(o, f);
  readDisabled(o, f);
  if (f.command === null && f.url === null && (o.source === 'extension' || isObj(o.settings))) f.builtin = true;
}

function readGoose(o: Obj, f: EntryFields): void {
  f.explicitType = readType(o);
  readCommand(o.cmd ?? o.command, o.args, f);
  f.env = readStringMap(o.envs ?? o.env, 'envs', f.problems);
  f.extraEnvKeys = readNameList(o.env_keys);
  f.headers = readStringMap(o.headers, 'headers', f.problems);
  readUrl(o, f);
  f.cwd = str(o.cwd) ?? null;
  readDisabled(o, f);
  const t = (f.explicitType ?? '').toLowerCase();
  if (t === 'builtin' || t === 'platform' || t === 'frontend' || t === 'inline_python') f.builtin = true;
}

function readOpencode(o: Obj, f: EntryFields): void {
  f.explicitType = readType(o);
  readCommand(o.command, o.args, f);
  f.env = readStringMap(o.environment ?? o.env, 'environment', f.problems);
  f.headers = readStringMap(o.headers, 'headers', f.problems);
  readUrl(o, f);
  f.cwd = str(o.cwd) ?? null;
  readDisabled(o, f);
}

function readCodex(o: Obj, f: EntryFields): void {
  f.explicitType = readType(o);
  readCommand(o.command, o.args, f);
  f.env = readStringMap(o.env, 'env', f.problems);
  f.extraEnvKeys = readNameList(o.env_vars);
  f.headers = readStringMap(o.http_headers ?? o.headers, 'http_headers', f.problems);
  if (isObj(o.env_http_headers)) f.extraHeaderKeys.push(...Object.keys(o.env_http_headers));
  if (typeof o.bearer_token_env_var === 'string') {
    f.extraHeaderKeys.push('Authorization');
    f.extraEnvKeys.push(o.bearer_token_env_var);
  }
  // Older Codex builds accepted a literal bearer_token: it is a header value.
  if (typeof o.bearer_token === 'string') f.headers.Authorization = `Bearer ${o.bearer_token}`;
  readUrl(o, f);
  f.cwd = str(o.cwd) ?? null;
  readDisabled(o, f);
}

/** `[{name, value}]` lists (Docker catalog `env`) into a map; `[{name, env}]` (its `secrets`) into names. */
function readNamedList(v: unknown, field: string, key: 'value' | 'env', problems: string[]): Array<[string, string]> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push(`${field} is not a list (ignored)`);
    return [];
  }
  const out: Array<[string, string]> = [];
  for (const item of v) {
    const name = isObj(item) ? str(item.name) : null;
    if (name === null || !isObj(item)) problems.push(`${field} holds an item without a name (ignored)`);
    else out.push([name, str(item[key]) ?? '']);
  }
  return out;
}

/**
 * A Docker MCP Toolkit server: its catalog definition (type server|remote|poci, image, command,
 * env, secrets, remote) with the registry.yaml entry under `registryEntry`. A container server
 * reads as the `docker run` the gateway performs (so the image is its package identity); a remote
 * one as its URL. Secrets are named (`secrets[].env`), never valued: their values live in Docker's
 * secret store. A server enabled in registry.yaml without a definition in the local catalogs is
 * kept (its image unknown), with a problem saying so.
 */
function readDockerMcp(o: Obj, f: EntryFields): void {
  const remote = isObj(o.remote) ? o.remote : null;
  const url = str(remote?.url) ?? str(o.sseEndpoint);
  if (url !== null && url.trim() !== '') {
    f.url = url.trim();
    f.urlKey = 'url';
    f.explicitType = str(remote?.transport_type) ?? (str(o.sseEndpoint) ? 'sse' : 'http');
    f.headers = readStringMap(remote?.headers, 'remote.headers', f.problems);
  }
  const firstTool = Array.isArray(o.tools) ? o.tools.find((t) => isObj(t) && isObj(t.container) && typeof t.container.image === 'string') : undefined;
  const image = str(o.image) || (isObj(firstTool) && isObj(firstTool.container) ? str(firstTool.container.image) : null);
  if (f.url === null && image) {
    f.command = 'docker';
    f.args = ['run', '-i', '--rm', image, ...readStringArray(o.command, 'command', f.problems)];
  }
  for (const [name, value] of readNamedList(o.env, 'env', 'value', f.problems)) f.env[name] = value;
  for (const [name, env] of readNamedList(o.secrets, 'secrets', 'env', f.problems)) f.extraEnvKeys.push(env || name);
  const providers = isObj(o.oauth) && Array.isArray(o.oauth.providers) ? o.oauth.providers : [];
  for (const p of providers) if (isObj(p) && typeof p.env === 'string' && p.env !== '') f.extraEnvKeys.push(p.env);
  if (f.command === null && f.url === null) {
    f.builtin = true;
    f.problems.push('no definition (image or remote URL) in the local Docker MCP catalogs (~/.docker/mcp/catalogs); kept with its image unknown');
  }
}

const READERS: Record<EntryDialect, (o: Obj, f: EntryFields) => void> = {
  standard: readStandard,
  continue: readStandard,
  zed: readZed,
  goose: readGoose,
  opencode: readOpencode,
  codex: readCodex,
  'docker-mcp': readDockerMcp,
};

/** Read a raw entry of the given dialect; null when it is not an object. */
export function readEntryFields(raw: unknown, dialect: EntryDialect): EntryFields | null {
  if (!isObj(raw)) return null;
  const f = emptyFields();
  (READERS[dialect] ?? readStandard)(raw, f);
  return f;
}
