/**
 * Readers of the places an MDM (or an installer) writes agent settings to. Each returns a flat
 * record of raw values (validated later against the config table) or null when the place does not
 * exist; read or parse failures become warnings, never exceptions.
 *
 * - macOS: `/Library/Managed Preferences/<domain>.plist` (configuration profile payload; XML or
 *   binary plist).
 * - Windows: registry policy key `HKLM\SOFTWARE\Policies\mcpwatch` (via `reg query`, parsed from its
 *   text output) and `C:\ProgramData\mcpwatch\agent.json`.
 * - Linux (and any Unix): `/etc/mcpwatch/agent.json`.
 * Which places an OS has is its OsSpec's `managedPlaces` (platform/); every root is injectable so
 * tests run each platform's logic on Linux against fixture files.
 */
import * as fs from 'node:fs';
import { osSpec, isKnownPlatform, hostOs } from '../platform/os.js';
import { REGISTRY_KEY } from '../platform/win32/os.js';

export { MANAGED_DOMAIN } from '../platform/posix.js';
export { REGISTRY_KEY };
/** Largest managed file read. */
const MAX_FILE_BYTES = 1024 * 1024;

export type RawValues = Record<string, unknown>;

export interface SourceResult {
  name: string;
  values: RawValues | null;
  warnings: string[];
}

/** Runs `reg query KEY` and returns its stdout ('' when the key is missing). Injectable for tests. */
export type RegQuery = (key: string) => Promise<string>;


function readBounded(file: string): Buffer | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  if (st.size > MAX_FILE_BYTES) throw new Error(`file is ${st.size} bytes, more than the ${MAX_FILE_BYTES} allowed`);
  return fs.readFileSync(file);
}

/** A JSON config file (the --config file, ProgramData and /etc agent.json). */
export function readJsonSource(name: string, file: string): SourceResult {
  try {
    const buf = readBounded(file);
    if (!buf) return { name, values: null, warnings: [] };
    const doc = JSON.parse(buf.toString('utf8')) as unknown;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      return { name, values: null, warnings: [`${name} (${file}): expected a JSON object; ignored`] };
    }
    return { name, values: doc as RawValues, warnings: [] };
  } catch (e) {
    return { name, values: null, warnings: [`${name} (${file}): cannot be read or parsed (${(e as Error).message}); ignored`] };
  }
}

/**
 * macOS managed preferences plist (XML or binary). The plist and XML parsers load only when the
 * file exists (about 3 MB of heap an agent without a profile never needs).
 */
export async function readPlistSource(file: string): Promise<SourceResult> {
  const name = 'managed preferences';
  try {
    const buf = readBounded(file);
    if (!buf) return { name, values: null, warnings: [] };
    const binary = buf.subarray(0, 8).toString('latin1') === 'bplist00';
    const plist = await import('plist');
    if (!binary) {
      const problem = await xmlProblem(buf.toString('utf8'));
      if (problem) return { name, values: null, warnings: [`${name} (${file}): cannot be parsed (${problem}); ignored`] };
    }
    const doc = binary ? plist.parseBinary(buf) : plist.parse(buf.toString('utf8'));
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || doc instanceof Date || Buffer.isBuffer(doc)) {
      return { name, values: null, warnings: [`${name} (${file}): expected a dictionary; ignored`] };
    }
    return { name, values: doc as RawValues, warnings: [] };
  } catch (e) {
    return { name, values: null, warnings: [`${name} (${file}): cannot be parsed (${(e as Error).message}); ignored`] };
  }
}

/**
 * The first well-formedness error of an XML text, or null. Checked before plist.parse so a broken
 * profile becomes one warning instead of parser noise on stderr.
 */
async function xmlProblem(xml: string): Promise<string | null> {
  const { DOMParser } = await import('@xmldom/xmldom');
  let problem: string | null = null;
  try {
    new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== 'warning' && problem === null) problem = message.split('\n')[0]!.trim();
      },
    }).parseFromString(xml, 'text/xml');
  } catch (e) {
    problem ??= (e as Error).message.split('\n')[0]!.trim();
  }
  return problem;
}

/**
 * Parses `reg query` text output: lines `    <name>    REG_<TYPE>    <data>` under the key line.
 * REG_DWORD/REG_QWORD become numbers, REG_MULTI_SZ a string array (split on `\0`), REG_SZ and
 * REG_EXPAND_SZ strings; other types are skipped with a warning.
 */
export function parseRegQueryOutput(text: string): { values: RawValues; warnings: string[] } {
  const values: RawValues = {};
  const warnings: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^ {2,}(\S(?:.*?\S)?) {2,}(REG_[A-Z_]+)(?: {2,}(.*))?$/.exec(line);
    if (!m) continue;
    const [, valueName, type, data = ''] = m;
    switch (type) {
      case 'REG_DWORD':
      case 'REG_QWORD':
        values[valueName!] = Number.parseInt(data, data.startsWith('0x') ? 16 : 10);
        break;
      case 'REG_SZ':
      case 'REG_EXPAND_SZ':
        values[valueName!] = data;
        break;
      case 'REG_MULTI_SZ':
        values[valueName!] = data.split('\\0').filter((s) => s !== '');
        break;
      default:
        warnings.push(`registry value ${valueName} has unsupported type ${type}; ignored`);
    }
  }
  return { values, warnings };
}

export async function readRegistrySource(query: RegQuery, key = REGISTRY_KEY): Promise<SourceResult> {
  const name = 'registry policy';
  const out = await query(key);
  if (!out.trim()) return { name, values: null, warnings: [] };
  const parsed = parseRegQueryOutput(out);
  return { name, values: parsed.values, warnings: parsed.warnings.map((w) => `${name} (${key}): ${w}`) };
}

export interface ManagedPlaces {
  platform: string;
  /** Prefix for system locations ('' in production; a fixture directory in tests). */
  systemRoot: string;
  /** %ProgramData% on Windows. */
  programData?: string;
  regQuery?: RegQuery;
}

/** The managed places of `platform` (its OsSpec's list), highest precedence first. */
export async function readManagedSources(p: ManagedPlaces): Promise<SourceResult[]> {
  const spec = isKnownPlatform(p.platform) ? osSpec(p.platform) : hostOs();
  const env = p.programData !== undefined ? { ProgramData: p.programData } : {};
  return Promise.all(
    spec.managedPlaces(p.systemRoot, env).map((place) => {
      if (place.kind === 'plist') return readPlistSource(place.path);
      if (place.kind === 'json') return readJsonSource(place.name, place.path);
      return p.regQuery ? readRegistrySource(p.regQuery, place.key) : { name: 'registry policy', values: null, warnings: [] };
    }),
  );
}
