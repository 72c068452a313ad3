/**
 * The install records of mcpwatch's hook: one store, `<stateDir>/hooks/`, that `mcpwatch-agent
 * hooks install|uninstall|status` (through hook-installer.ts) and run's hook keeper
 * (hook-keeper.ts) both use. One record per hook file (client, scope, absolute path), named after
 * the file (`<client>-<scope>-<sha256(path)[0..16]>.json`, its backup of the file's original
 * bytes beside it as `.orig`), so the same file has one record whoever installed the hook, and
 * installs into several homes keep one record each.
 *
 * Older agents kept records elsewhere: `hooks install` at `<stateDir>/hooks/<client>-<scope>.json`
 * (one per client and scope, whatever the home), the keeper under
 * `<stateDir>/hook-homes/<home>/hooks/`. Those are moved into the store (with their backups) the
 * first time a state dir's records are read in a process; when both older places hold a record of
 * the same file, the most recently written one is kept. A record that cannot be moved (e.g. no
 * write access to the state dir) stays where it is, unread, and the move is tried again next time.
 *
 * Light on purpose (no JSONC parser): the keeper lists the records on every check, also with
 * hooks=off, and loads the installer only when there is a hook to look at. Never throws out of
 * listHookRecords/readHookRecord (an unreadable record is no record); writes throw to the installer,
 * which turns them into results.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HOOK_CLIENT_IDS, type HookClientId, type HookScope } from './hook-catalog.js';

/** One hook file mcpwatch installed its hook into. */
export interface HookFileRef {
  client: HookClientId;
  scope: HookScope;
  /** Absolute path of the client's hook file. */
  path: string;
}

export interface InstallRecord extends HookFileRef {
  /** Whether the file existed before the first install (uninstall then restores the backup; else deletes). */
  existed: boolean;
  /** The command line installed. */
  command: string;
  /** sha256 of the file as install left it: unchanged since means uninstall may restore the original bytes. */
  installedSha256: string;
  /**
   * The hook events the install put our entry on (hook-catalog.ts hookEventsOf). Absent in records
   * of installs from before the list was kept (pre and post only): a failure event missing from
   * such a file is an outdated install, not tampering.
   */
  events?: string[];
}

const SCOPES: readonly HookScope[] = ['user', 'managed'];

/** The folder of the store in `stateDir`. */
export function hookRecordDir(stateDir: string): string {
  return path.join(stateDir, 'hooks');
}

/** The record and backup files of one hook file. */
export function hookRecordFiles(stateDir: string, f: HookFileRef): { record: string; backup: string } {
  const digest = createHash('sha256').update(path.resolve(f.path)).digest('hex').slice(0, 16);
  const base = path.join(hookRecordDir(stateDir), `${f.client}-${f.scope}-${digest}`);
  return { record: `${base}.json`, backup: `${base}.orig` };
}

function parseRecord(text: string, client: HookClientId, scope: HookScope): InstallRecord | null {
  try {
    const r = JSON.parse(text) as Partial<InstallRecord>;
    if (typeof r.path !== 'string' || typeof r.command !== 'string' || typeof r.installedSha256 !== 'string') return null;
    const events = Array.isArray(r.events) ? r.events.filter((e): e is string => typeof e === 'string').slice(0, 16) : null;
    return { client, scope, path: path.resolve(r.path), existed: r.existed === true, command: r.command, installedSha256: r.installedSha256, ...(events ? { events } : {}) };
  } catch {
    return null;
  }
}

/** `<client>-<scope>` of a record file name, or null for any other name. */
function nameParts(name: string, suffix: RegExp): { client: HookClientId; scope: HookScope } | null {
  for (const client of HOOK_CLIENT_IDS) {
    for (const scope of SCOPES) {
      const prefix = `${client}-${scope}`;
      if (name.startsWith(prefix) && suffix.test(name.slice(prefix.length))) return { client, scope };
    }
  }
  return null;
}

const CURRENT = /^-[0-9a-f]{16}\.json$/;
const LEGACY = /^\.json$/;

function readDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Record files of the older layouts in `stateDir`: the CLI's and the keeper's per-home ones. */
function legacyRecordFiles(stateDir: string): string[] {
  const dirs = [hookRecordDir(stateDir), ...readDir(path.join(stateDir, 'hook-homes')).map((h) => path.join(stateDir, 'hook-homes', h, 'hooks'))];
  return dirs.flatMap((d) => readDir(d).filter((n) => nameParts(n, LEGACY)).map((n) => path.join(d, n)));
}

function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

const migrated = new Set<string>();

/** Moves the older layouts' records into the store, once per state dir and process (until all moved). */
export function migrateLegacyHookRecords(stateDir: string): void {
  const key = path.resolve(stateDir);
  if (migrated.has(key)) return;
  let complete = true;
  // Oldest first: a later record of the same file replaces an earlier one.
  const legacy = legacyRecordFiles(stateDir).sort((a, b) => mtimeMs(a) - mtimeMs(b));
  const moved = new Set<string>();
  for (const file of legacy) {
    try {
      const parts = nameParts(path.basename(file), LEGACY) as { client: HookClientId; scope: HookScope };
      const record = parseRecord(fs.readFileSync(file, 'utf8'), parts.client, parts.scope);
      const legacyBackup = file.replace(/\.json$/, '.orig');
      if (record) {
        const target = hookRecordFiles(stateDir, record);
        // A record already in the store (written by this version) is newer than any older layout's.
        if (!fs.existsSync(target.record) || moved.has(target.record)) {
          fs.mkdirSync(path.dirname(target.record), { recursive: true, mode: 0o700 });
          if (fs.existsSync(legacyBackup)) fs.renameSync(legacyBackup, target.backup);
          else fs.rmSync(target.backup, { force: true });
          writeHookRecord(stateDir, record);
          moved.add(target.record);
        }
      }
      fs.rmSync(legacyBackup, { force: true });
      fs.rmSync(file, { force: true });
    } catch {
      complete = false;
    }
  }
  if (complete) migrated.add(key);
}

/** The record of one hook file, or null. */
export function readHookRecord(stateDir: string, f: HookFileRef): InstallRecord | null {
  migrateLegacyHookRecords(stateDir);
  try {
    const r = parseRecord(fs.readFileSync(hookRecordFiles(stateDir, f).record, 'utf8'), f.client, f.scope);
    return r && r.path === path.resolve(f.path) ? r : null;
  } catch {
    return null;
  }
}

/** Every record in the store. */
export function listHookRecords(stateDir: string): InstallRecord[] {
  migrateLegacyHookRecords(stateDir);
  const dir = hookRecordDir(stateDir);
  const out: InstallRecord[] = [];
  for (const name of readDir(dir)) {
    const parts = nameParts(name, CURRENT);
    if (!parts) continue;
    try {
      const r = parseRecord(fs.readFileSync(path.join(dir, name), 'utf8'), parts.client, parts.scope);
      if (r) out.push(r);
    } catch {
      // unreadable: no record
    }
  }
  return out;
}

/** Writes a record (0600, its folder 0700). Throws on I/O failure. */
export function writeHookRecord(stateDir: string, r: InstallRecord): void {
  const { record } = hookRecordFiles(stateDir, r);
  fs.mkdirSync(path.dirname(record), { recursive: true, mode: 0o700 });
  const body: InstallRecord = {
    client: r.client, scope: r.scope, path: path.resolve(r.path), existed: r.existed, command: r.command, installedSha256: r.installedSha256, ...(r.events ? { events: r.events } : {}),
  };
  fs.writeFileSync(record, JSON.stringify(body), { mode: 0o600 });
}

/** Removes a record and its backup. Throws on I/O failure. */
export function removeHookRecord(stateDir: string, f: HookFileRef): void {
  const files = hookRecordFiles(stateDir, f);
  fs.rmSync(files.record, { force: true });
  fs.rmSync(files.backup, { force: true });
}
