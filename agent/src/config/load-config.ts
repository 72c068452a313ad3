/**
 * Loads the agent's configuration from, in order of precedence: the command line, the environment,
 * a config file (--config / MCPWATCH_CONFIG), and the managed places an MDM writes (see
 * managed-sources.ts). Every value is checked against CONFIG_TABLE; an unknown key or a bad value
 * is warned about and the next source's value (or the default) is used; a deprecated setting
 * (DEPRECATED_SETTINGS) is warned about and ignored. Never throws.
 * The result is frozen. Secret values never appear in warnings or in describeConfig().
 */
import { CONFIG_TABLE, DEPRECATED_SETTINGS, configDefaults, type AgentConfig, type ConfigKey, type ConfigSpec } from './config-table.js';
import { hostOs, hostPlatform } from '../platform/os.js';
import { readJsonSource, readManagedSources, type ManagedPlaces, type RawValues, type SourceResult } from './managed-sources.js';

export interface LoadConfigInput {
  /** Parsed command-line flags, by flag name (`state-dir`) or key (`stateDir`). */
  cli?: Record<string, string | boolean | undefined>;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Prefix for the managed system locations (tests). */
  systemRoot?: string;
  programData?: string;
  regQuery?: ManagedPlaces['regQuery'];
}

export interface LoadedConfig {
  config: Readonly<AgentConfig>;
  /** Which source each key came from ('default' when none set it). */
  sources: Readonly<Record<ConfigKey, string>>;
  warnings: readonly string[];
}

const KEYS = Object.keys(CONFIG_TABLE) as ConfigKey[];
const BY_FLAG = new Map<string, ConfigKey>(KEYS.map((k) => [CONFIG_TABLE[k].flag, k]));
const DEPRECATED_BY_FLAG = new Map<string, string>(Object.entries(DEPRECATED_SETTINGS).map(([k, d]) => [d.flag, k]));
/** Flags the commands use that are not config keys. */
const NON_CONFIG_FLAGS = new Set(['config', 'home', 'platform', 'json', 'project-root', 'help', 'once']);

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

/** Checks and converts one raw value against its spec. */
export function parseValue(spec: ConfigSpec, raw: unknown): Parsed {
  const str = typeof raw === 'string' ? raw.trim() : raw;
  switch (spec.type) {
    case 'string':
    case 'secret':
      if (typeof str !== 'string' || str === '') return { ok: false, reason: 'expected a non-empty string' };
      if (str.length > 4096) return { ok: false, reason: 'longer than 4096 characters' };
      return { ok: true, value: str };
    case 'url': {
      if (typeof str !== 'string') return { ok: false, reason: 'expected a URL string' };
      try {
        const u = new URL(str);
        if (u.protocol !== 'https:' && u.protocol !== 'http:') return { ok: false, reason: 'expected an http(s) URL' };
        if (u.username || u.password) return { ok: false, reason: 'URL must not carry credentials' };
        return { ok: true, value: u.toString().replace(/\/$/, '') };
      } catch {
        return { ok: false, reason: 'not a valid URL' };
      }
    }
    case 'int':
    case 'number': {
      const n = typeof str === 'number' ? str : typeof str === 'string' && str !== '' ? Number(str) : NaN;
      if (!Number.isFinite(n)) return { ok: false, reason: 'expected a number' };
      if (spec.type === 'int' && !Number.isInteger(n)) return { ok: false, reason: 'expected an integer' };
      if (spec.min !== undefined && n < spec.min) return { ok: false, reason: `below the minimum ${spec.min}` };
      if (spec.max !== undefined && n > spec.max) return { ok: false, reason: `above the maximum ${spec.max}` };
      return { ok: true, value: n };
    }
    case 'bool':
      if (typeof str === 'boolean') return { ok: true, value: str };
      if (typeof str === 'number' && (str === 0 || str === 1)) return { ok: true, value: str === 1 };
      if (typeof str === 'string' && /^(true|1|yes|on)$/i.test(str)) return { ok: true, value: true };
      if (typeof str === 'string' && /^(false|0|no|off)$/i.test(str)) return { ok: true, value: false };
      return { ok: false, reason: 'expected true or false' };
    case 'enum':
      if (typeof str === 'string' && spec.values!.includes(str)) return { ok: true, value: str };
      return { ok: false, reason: `expected one of ${spec.values!.join(', ')}` };
  }
}

function shown(key: ConfigKey, raw: unknown): string {
  if (CONFIG_TABLE[key].type === 'secret') return '(secret value hidden)';
  const s = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return JSON.stringify((s ?? String(raw)).slice(0, 200));
}

function fromCli(cli: NonNullable<LoadConfigInput['cli']>, warnings: string[]): RawValues {
  const out: RawValues = {};
  for (const [flag, v] of Object.entries(cli)) {
    if (v === undefined) continue;
    const key = BY_FLAG.get(flag) ?? (flag in CONFIG_TABLE ? (flag as ConfigKey) : undefined);
    const deprecated = DEPRECATED_BY_FLAG.get(flag);
    if (key) out[key] = v;
    else if (deprecated) out[deprecated] = v;
    else if (!NON_CONFIG_FLAGS.has(flag)) warnings.push(`command line: unknown option --${flag}; ignored`);
  }
  return out;
}

function fromEnv(env: NodeJS.ProcessEnv): RawValues {
  const out: RawValues = {};
  for (const key of KEYS) {
    const v = env[CONFIG_TABLE[key].env];
    if (v !== undefined && v !== '') out[key] = v;
  }
  for (const [key, d] of Object.entries(DEPRECATED_SETTINGS)) {
    const v = env[d.env];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out;
}

/** Loads and freezes the configuration. Never throws; problems become `warnings`. */
export async function loadConfig(input: LoadConfigInput = {}): Promise<LoadedConfig> {
  const env = input.env ?? process.env;
  const platform = input.platform ?? hostPlatform();
  const warnings: string[] = [];
  const layers: SourceResult[] = [];
  layers.push({ name: 'command line', values: fromCli(input.cli ?? {}, warnings), warnings: [] });
  layers.push({ name: 'environment', values: fromEnv(env), warnings: [] });
  const configFile = (input.cli?.config as string | undefined) ?? env.MCPWATCH_CONFIG;
  if (configFile) {
    const r = readJsonSource('config file', configFile);
    if (!r.values && r.warnings.length === 0) r.warnings.push(`config file (${configFile}): not found; ignored`);
    layers.push(r);
  }
  const managed: ManagedPlaces = { platform, systemRoot: input.systemRoot ?? '' };
  if (input.programData !== undefined) managed.programData = input.programData;
  else if (env.ProgramData) managed.programData = env.ProgramData;
  if (input.regQuery) managed.regQuery = input.regQuery;
  else if (!input.systemRoot && platform === hostPlatform() && hostOs().regQuery) managed.regQuery = hostOs().regQuery;
  layers.push(...(await readManagedSources(managed)));

  const config = configDefaults(platform, env) as unknown as Record<string, unknown>;
  const sources = Object.fromEntries(KEYS.map((k) => [k, 'default'])) as Record<ConfigKey, string>;
  const decided = new Set<ConfigKey>();
  for (const layer of layers) {
    warnings.push(...layer.warnings);
    if (!layer.values) continue;
    for (const [written, raw] of Object.entries(layer.values)) {
      const key = MANAGED_ALIASES[written] ?? written;
      const deprecated = DEPRECATED_SETTINGS[key];
      if (deprecated) {
        warnings.push(`${layer.name}: ${key} is deprecated and ignored (${deprecated.reason})`);
        continue;
      }
      if (!(key in CONFIG_TABLE)) {
        if (layer.name !== 'environment') warnings.push(`${layer.name}: unknown setting "${key}"; ignored`);
        continue;
      }
      const k = key as ConfigKey;
      const parsed = parseValue(CONFIG_TABLE[k], raw);
      if (!parsed.ok) {
        warnings.push(`${layer.name}: ${k}=${shown(k, raw)} is invalid (${parsed.reason}); ${decided.has(k) ? 'ignored' : 'using the next source or the default'}`);
        continue;
      }
      if (decided.has(k)) continue;
      decided.add(k);
      config[k] = parsed.value;
      sources[k] = layer.name;
    }
  }
  return { config: Object.freeze(config as unknown as AgentConfig), sources: Object.freeze(sources), warnings: Object.freeze(warnings) };
}

/**
 * Names an MDM payload may use for the enrollment settings (the configuration profile keys
 * ServerURL, EnrollSecret, CAFingerprint of the installers' documentation, and the MSI property
 * spellings), mapped to the config table's keys. The table's own names work everywhere too.
 */
export const MANAGED_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  ServerURL: 'server',
  ServerUrl: 'server',
  SERVER_URL: 'server',
  EnrollSecret: 'enrollSecret',
  ENROLL_SECRET: 'enrollSecret',
  CAFingerprint: 'caFingerprint',
  CaFingerprint: 'caFingerprint',
  CA_FINGERPRINT: 'caFingerprint',
});

/** Key → value lines for `status`, secrets masked. */
export function describeConfig(loaded: LoadedConfig): string[] {
  return KEYS.map((k) => {
    const v = loaded.config[k];
    const text = CONFIG_TABLE[k].type === 'secret' ? (v ? '(set)' : '(not set)') : v === null ? '(not set)' : String(v);
    return `${k} = ${text}  [${loaded.sources[k]}]`;
  });
}
