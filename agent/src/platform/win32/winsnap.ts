/**
 * Windows processes and sockets from mcpwatch-winsnap, the agent's own Win32 helper
 * (installers/windows/winsnap/mcpwatch-winsnap.c, compiled with mingw-w64 and carried inside the
 * win-x64 single executable as a SEA asset; extracted and hash-checked by sea-asset.ts).
 *
 * What it gives, per process: pid, parent pid, image name, full command line, user (DOMAIN\user,
 * or the SID when the name cannot be looked up), start time and image path. A field the helper
 * could not read for one process (access denied to a protected or elevated process, the process
 * gone meanwhile) is missing for that process only: `cmd` is then the image name and the others
 * null, as for fastlist. Per socket: TCP (all states) and UDP, IPv4 and IPv6, with the owning pid
 * (0, "no owner", becomes null: Wine gives 0 for sockets of host processes).
 *
 * Output format (one document per run; see the C file's header): a `MCPWATCH-WINSNAP 1 <mode>`
 * line, records `P`/`T`/`U`, table errors `E`, and a closing `END written seen` line. A document
 * without the header or the END line (killed, cut at the buffer limit) is rejected whole.
 *
 * Contract: never throws. A helper that is not embedded, cannot be extracted, fails, times out or
 * prints a document that does not parse is `{ ok: false }` with an AgentError coded
 * MCPW_ERR_PROCESS_SOURCE / MCPW_ERR_SOCKET_SOURCE whose message starts with "mcpwatch-winsnap",
 * so the caller can fall back and say why. Socket tables that failed while others were read, or
 * sockets none of which has an owning pid (Wine 8: its iphlpapi answers 0 for every socket, since
 * Wine's sockets live in the wineserver), make the result `partial`.
 */
import { execFile } from 'node:child_process';
import { AgentCodes, AgentError } from '../../errors.js';
import { MAX_PROCESS_ROWS, MAX_SOCKET_ROWS, type ProcessRow, type SocketRow, type SocketScope, type SourceResult } from '../source-types.js';
import { extractSeaAsset, type SeaAssetDeps } from './sea-asset.js';

export const WINSNAP_FILE = 'mcpwatch-winsnap.exe';
/** Key of the helper among the win-x64 executable's SEA assets (make-executables.mjs stores it). */
export const WINSNAP_ASSET_KEY = `mcpwatch/${WINSNAP_FILE}`;

export type WinsnapMode = 'processes' | 'sockets';
/** Runs the helper in `mode` and returns its standard output (rejects when it cannot run). */
export type WinsnapRunner = (mode: WinsnapMode) => Promise<string>;

const WINSNAP_TIMEOUT_MS = 15_000;
/** Above the helper's own output budget (24 MiB) plus the socket rows. */
const WINSNAP_MAX_BYTES = 40 * 1024 * 1024;
const HEADER = 'MCPWATCH-WINSNAP\t1\t';

/** The default runner: the embedded helper, extracted on first use, with a timeout and bounded output. */
export function winsnapRunner(deps: SeaAssetDeps = {}): WinsnapRunner {
  return (mode) =>
    new Promise((resolve, reject) => {
      const helper = extractSeaAsset(WINSNAP_ASSET_KEY, WINSNAP_FILE, deps);
      if (!helper.ok) {
        reject(new Error(helper.reason));
        return;
      }
      const child = execFile(helper.path, [mode], { windowsHide: true, timeout: WINSNAP_TIMEOUT_MS, maxBuffer: WINSNAP_MAX_BYTES, encoding: 'utf8' }, (error, stdout) => {
        // Exit 3 ("nothing could be read") still prints a document whose E lines say why.
        if (!error || (typeof error.code === 'number' && stdout.startsWith(HEADER))) resolve(stdout);
        else reject(new Error(error.killed ? `timed out or was killed after ${WINSNAP_TIMEOUT_MS / 1000} s` : `exited with ${error.code ?? error.signal ?? error.message}`));
      });
      child.stdin?.end();
    });
}

/** Undoes the helper's escapes (`\\` and `\xHH`, ASCII only). */
export function unescapeField(text: string): string {
  return text.includes('\\') ? text.replace(/\\(\\|x([0-9a-f]{2}))/g, (_, all: string, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : all)) : text;
}

/** A parsed document: its records (fields unescaped), E lines, counts from END. */
interface WinsnapDocument {
  records: string[][];
  tableErrors: { what: string; error: number }[];
  written: number;
  seen: number;
}

function readDocument(stdout: string, mode: WinsnapMode): WinsnapDocument | string {
  const lines = stdout.split('\n');
  if (lines[0]?.replace(/\r$/, '') !== `${HEADER}${mode}`) return `printed no "MCPWATCH-WINSNAP 1 ${mode}" header`;
  const doc: WinsnapDocument = { records: [], tableErrors: [], written: -1, seen: -1 };
  for (const raw of lines.slice(1)) {
    const line = raw.replace(/\r$/, '');
    if (line === '') continue;
    const fields = line.split('\t');
    if (fields[0] === 'END') {
      doc.written = Number(fields[1]);
      doc.seen = Number(fields[2]);
      break;
    }
    if (fields[0] === 'E') doc.tableErrors.push({ what: unescapeField(fields[1] ?? '?'), error: Number(fields[2]) });
    else doc.records.push(fields);
  }
  if (!Number.isInteger(doc.written) || doc.written < 0) return 'output ended before its END line (cut or killed)';
  return doc;
}

const isCount = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** A per-process field: the value after `=`, or null (`!reason`, counted in `unreadable`). */
function field(text: string | undefined, unreadable: Map<string, number>, name: string): string | null | undefined {
  if (text === undefined) return undefined;
  if (text.startsWith('=')) return unescapeField(text.slice(1));
  if (text.startsWith('!')) {
    const key = `${name} ${text.slice(1, 17)}`;
    unreadable.set(key, (unreadable.get(key) ?? 0) + 1);
    return null;
  }
  return undefined;
}

/** What one `processes` document yields. */
export interface WinsnapProcesses {
  rows: ProcessRow[];
  /** `<field> <reason>` -> how many processes (e.g. `cmd denied` -> 12). */
  unreadable: ReadonlyMap<string, number>;
  /** P lines that did not parse. */
  rejected: number;
}

/** Parses `mcpwatch-winsnap processes` output; a string is why the document is unusable. */
export function parseWinsnapProcesses(stdout: string): WinsnapProcesses | string {
  const doc = readDocument(stdout, 'processes');
  if (typeof doc === 'string') return doc;
  const snapshotError = doc.tableErrors[0];
  if (snapshotError) return `could not read the process list (${snapshotError.what}: Win32 error ${snapshotError.error})`;
  const unreadable = new Map<string, number>();
  const rows: ProcessRow[] = [];
  let rejected = 0;
  for (const f of doc.records) {
    if (f[0] !== 'P') continue;
    const pid = Number(f[1]);
    const ppid = Number(f[2]);
    const name = unescapeField(f[3] ?? '');
    const cmd = field(f[4], unreadable, 'cmd');
    const user = field(f[5], unreadable, 'user');
    const started = field(f[6], unreadable, 'started');
    const exe = field(f[7], unreadable, 'path');
    if (f.length !== 8 || !isCount(pid) || name === '' || cmd === undefined || user === undefined || started === undefined || exe === undefined) {
      rejected += 1;
      continue;
    }
    if (rows.length >= MAX_PROCESS_ROWS) break;
    const startedAt = started !== null && !Number.isNaN(Date.parse(started)) ? started : null;
    rows.push({ pid, ppid: isCount(ppid) ? ppid : null, name, cmd: cmd !== null && cmd.trim() !== '' ? cmd : name, path: exe || null, uid: null, user: user || null, startedAt });
  }
  return { rows, unreadable, rejected };
}

/** MIB_TCP_STATE values, named as Windows' netstat names them (LISTENING as the collectors' LISTEN). */
const TCP_STATES = ['', 'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT', 'DELETE_TCB'];
const isPort = (v: number) => Number.isInteger(v) && v >= 0 && v <= 65535;

/** What one `sockets` document yields. */
export interface WinsnapSockets {
  rows: SocketRow[];
  /** Tables that could not be read (`tcp6: Win32 error 50`). */
  failedTables: string[];
  rejected: number;
}

/** Parses `mcpwatch-winsnap sockets` output; a string is why the document is unusable. */
export function parseWinsnapSockets(stdout: string, names: ReadonlyMap<number, string> = new Map()): WinsnapSockets | string {
  const doc = readDocument(stdout, 'sockets');
  if (typeof doc === 'string') return doc;
  const failedTables = doc.tableErrors.map((e) => `${e.what}: Win32 error ${e.error}`);
  if (failedTables.length >= 4) return `could not read any socket table (${failedTables.join(', ')})`;
  const rows: SocketRow[] = [];
  let rejected = 0;
  for (const f of doc.records) {
    const tcp = f[0] === 'T';
    if (!tcp && f[0] !== 'U') continue;
    const version = f[1];
    const local = f[2] ?? '';
    const localPort = Number(f[3]);
    const peer = tcp ? (f[4] ?? '') : '';
    const peerPort = tcp ? Number(f[5]) : 0;
    const state = tcp ? TCP_STATES[Number(f[6])] : '';
    const pid = Number(tcp ? f[7] : f[4]);
    if (f.length !== (tcp ? 8 : 5) || (version !== '4' && version !== '6') || local === '' || !isPort(localPort) || !isPort(peerPort) || state === undefined || !isCount(pid)) {
      rejected += 1;
      continue;
    }
    if (rows.length >= MAX_SOCKET_ROWS) break;
    const listening = state === 'LISTEN';
    rows.push({
      protocol: `${tcp ? 'tcp' : 'udp'}${version === '6' ? '6' : ''}`,
      localAddress: local,
      localPort,
      peerAddress: !tcp || listening ? null : peer,
      peerPort: !tcp || listening ? null : peerPort,
      state,
      pid: pid > 0 ? pid : null,
      processName: names.get(pid) ?? '',
    });
  }
  return { rows, failedTables, rejected };
}

/** Runs the helper; a rejection becomes the reason. */
async function runHelper(run: WinsnapRunner, mode: WinsnapMode): Promise<{ stdout: string } | { reason: string }> {
  try {
    return { stdout: await run(mode) };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}

/** A Windows process source over mcpwatch-winsnap. */
export function createWinsnapProcessSource(run: WinsnapRunner = winsnapRunner()): () => Promise<SourceResult<ProcessRow>> {
  const fail = (why: string) => ({ ok: false as const, error: new AgentError(AgentCodes.processSource, `mcpwatch-winsnap ${why}`) });
  return async () => {
    const out = await runHelper(run, 'processes');
    if ('reason' in out) return fail(`failed: ${out.reason}`);
    const parsed = parseWinsnapProcesses(out.stdout);
    if (typeof parsed === 'string') return fail(parsed);
    if (parsed.rows.length === 0) return fail(`listed no process (${parsed.rejected} line(s) did not parse); the process list is unknown`);
    return { ok: true, rows: parsed.rows };
  };
}

/** A Windows socket source over mcpwatch-winsnap (tables that failed make the result partial). */
export function createWinsnapSocketSource(run: WinsnapRunner = winsnapRunner()): (scope?: SocketScope) => Promise<SourceResult<SocketRow>> {
  const error = (why: string) => new AgentError(AgentCodes.socketSource, `mcpwatch-winsnap ${why}`);
  return async (scope) => {
    const out = await runHelper(run, 'sockets');
    if ('reason' in out) return { ok: false, error: error(`failed: ${out.reason}`) };
    const parsed = parseWinsnapSockets(out.stdout, scope?.names);
    if (typeof parsed === 'string') return { ok: false, error: error(parsed) };
    const problems: string[] = [];
    if (parsed.failedTables.length > 0) problems.push(`could not read ${parsed.failedTables.join(', ')}: those sockets are missing`);
    // Windows always has owned sockets (System, svchost); Wine 8's iphlpapi gives 0 for every one.
    if (parsed.rows.length > 0 && !parsed.rows.some((r) => r.pid !== null)) problems.push(`gave no owning pid for any of ${parsed.rows.length} socket(s): sockets cannot be tied to processes`);
    return problems.length > 0 ? { ok: true, rows: parsed.rows, partial: error(problems.join('; ')) } : { ok: true, rows: parsed.rows };
  };
}
