/**
 * Command-line options as one declarative table (name, type, description, which commands take
 * it), parsed once per invocation. Unknown flags, missing values and bad values are UsageErrors
 * (exit code 2 with the message). Pure apart from the existence check of --home / --project-root.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { isSeverity } from '@mcpwatch/shared/protocol';
import type { Severity } from '@mcpwatch/shared';
import { tokenizeArgv } from '@mcpwatch/shared/argv';
import { UsageError } from '../errors.js';
import type { ScanSources } from '../inventory/scan.js';
import { PLATFORMS } from '../platform/os.js';
import type { Platform } from '../types.js';

export type OptionType = 'boolean' | 'string' | 'list' | 'integer';

/** One option of the table. */
export interface OptionSpec {
  name: string;
  type: OptionType;
  description: string;
  /** Value placeholder in help. */
  value?: string;
  /** May be given more than once (values collected). */
  repeatable?: boolean;
  min?: number;
}

/** Every option any command understands; each command lists the names it takes. */
export const OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
  json: { name: 'json', type: 'boolean', description: 'print the inventory as one JSON document' },
  home: { name: 'home', type: 'string', value: 'DIR', description: 'scan DIR as the only user home (a fixture laid out as on --platform)' },
  platform: { name: 'platform', type: 'string', value: 'darwin|win32|linux', description: 'OS layout of the home (default: this OS)' },
  'project-root': { name: 'project-root', type: 'string', value: 'DIR', repeatable: true, description: 'also look for project configs under DIR (repeatable)' },
  'system-root': { name: 'system-root', type: 'string', value: 'DIR', description: 'prefix of machine-wide (managed) config locations (default: / , or the --home DIR)' },
  sources: { name: 'sources', type: 'list', value: 'configs,processes,sockets', description: 'what to look at (default: all; with --home: configs)' },
  'fail-on': { name: 'fail-on', type: 'string', value: 'low|medium|high|critical', description: 'exit 1 when a finding is at or above this severity' },
  'process-interval-ms': { name: 'process-interval-ms', type: 'integer', value: 'MS', min: 200, description: 'process/socket poll interval (default 5000)' },
  'debounce-ms': { name: 'debounce-ms', type: 'integer', value: 'MS', min: 0, description: 'quiet time after a config change before rescanning (default 50)' },
  help: { name: 'help', type: 'boolean', description: 'show help' },
});

export type ParsedValues = Record<string, boolean | string | string[] | number | undefined>;

/** Options that take a value (every non-boolean one in OPTIONS). */
const VALUE_OPTIONS = Object.values(OPTIONS).filter((s) => s.type !== 'boolean').map((s) => s.name);

/** Parses argv against the options `allowed` (names from OPTIONS). Throws UsageError. */
export function parseOptions(argv: readonly string[], allowed: readonly string[]): { values: ParsedValues; positionals: string[] } {
  const values: ParsedValues = {};
  const positionals: string[] = [];
  for (const t of tokenizeArgv(argv, VALUE_OPTIONS)) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (!t.rawName.startsWith('--')) {
      // A short option: only -h (help); a group such as -hx is named as written.
      const written = argv[t.index] as string;
      if (written === '-h' && allowed.includes('help')) {
        values.help = true;
        continue;
      }
      throw new UsageError(`unknown option ${written}`);
    }
    const name = t.name;
    const spec = OPTIONS[name];
    if (!spec || !allowed.includes(name)) throw new UsageError(`unknown option --${name}`);
    if (spec.type === 'boolean') {
      if (t.inlineValue) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    const raw = t.value;
    if (raw === undefined || raw === '' || (!t.inlineValue && raw.startsWith('--'))) throw new UsageError(`--${name} needs a value (${spec.value ?? 'VALUE'})`);
    if (spec.type === 'integer') {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < (spec.min ?? 0)) throw new UsageError(`--${name} must be an integer >= ${spec.min ?? 0}, got "${raw}"`);
      values[name] = n;
    } else if (spec.type === 'list') {
      values[name] = raw.split(',').map((s) => s.trim()).filter(Boolean);
    } else if (spec.repeatable) {
      values[name] = [...((values[name] as string[] | undefined) ?? []), raw];
    } else {
      if (values[name] !== undefined) throw new UsageError(`--${name} given twice`);
      values[name] = raw;
    }
  }
  return { values, positionals };
}

const SOURCE_NAMES = ['configs', 'processes', 'sockets'] as const;

/** The scan-related options after validation. */
export interface ScanCliOptions {
  json: boolean;
  home: string | null;
  platform: Platform;
  projectRoots: string[];
  systemRoot: string | null;
  sources: ScanSources;
  failOn: Severity | null;
}

function requireDir(flag: string, dir: string): string {
  const abs = path.resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new UsageError(`--${flag} ${dir}: not an existing directory`);
  return abs;
}

/**
 * Validates the scan options. With --home (a fixture, not this machine) or a --platform other
 * than this OS, processes and sockets are off unless --sources names them: the processes running
 * here have nothing to do with the fixture.
 */
export function scanOptionsFrom(values: ParsedValues, hostPlatform: string): ScanCliOptions {
  const platformRaw = values.platform as string | undefined;
  if (platformRaw !== undefined && !PLATFORMS.includes(platformRaw as Platform)) {
    throw new UsageError(`--platform must be one of ${PLATFORMS.join(', ')}, got "${platformRaw}"`);
  }
  const platform = (platformRaw ?? (PLATFORMS.includes(hostPlatform as Platform) ? hostPlatform : 'linux')) as Platform;
  const home = values.home !== undefined ? requireDir('home', values.home as string) : null;
  const projectRoots = ((values['project-root'] as string[] | undefined) ?? []).map((d) => requireDir('project-root', d));
  const systemRoot = values['system-root'] !== undefined ? requireDir('system-root', values['system-root'] as string) : null;
  const fixture = home !== null || platform !== hostPlatform;
  let sources: ScanSources = { configs: true, processes: !fixture, sockets: !fixture };
  const list = values.sources as string[] | undefined;
  if (list) {
    const bad = list.filter((s) => !(SOURCE_NAMES as readonly string[]).includes(s));
    if (bad.length > 0 || list.length === 0) throw new UsageError(`--sources takes a list of ${SOURCE_NAMES.join(',')}, got "${list.join(',')}"`);
    sources = { configs: list.includes('configs'), processes: list.includes('processes'), sockets: list.includes('sockets') };
  }
  const failOnRaw = values['fail-on'] as string | undefined;
  if (failOnRaw !== undefined && (!isSeverity(failOnRaw) || failOnRaw === 'info')) {
    throw new UsageError(`--fail-on must be one of low, medium, high, critical, got "${failOnRaw}"`);
  }
  return {
    json: values.json === true,
    home,
    platform,
    projectRoots,
    systemRoot,
    sources,
    failOn: (failOnRaw as Severity | undefined) ?? null,
  };
}

/** Help text for a command taking `allowed` options. */
export function optionsHelp(allowed: readonly string[]): string {
  const rows = allowed.map((n) => OPTIONS[n]).filter((s): s is OptionSpec => s !== undefined);
  const left = rows.map((s) => `  --${s.name}${s.value ? ` ${s.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return rows.map((s, i) => `${(left[i] as string).padEnd(width)}${s.description}`).join('\n');
}
