/**
 * The running agent's side of the hook journal: reads what `mcpwatch-agent hook` appended, turns
 * each record into a `tool.called` event into the agent's event sink (the spool), and keeps the
 * read position in `<stateDir>/hook-journal/cursor.json`, so a restart neither loses nor repeats
 * records (a crash between push and cursor write repeats at most one pump's records; the events'
 * ids differ but their data is identical). Journal files wholly read are deleted.
 *
 * Also reads the per-user journals (`<home>/.mcpwatch/hook-journal`, written by hooks of users who
 * cannot write the agent's owner-only state dir; userStateDirs option) the same way, each with its
 * own cursor kept in the agent's state dir (`hook-journal/cursor-<hash of the dir>.json`), never in
 * the user's folder. A user's journal is that user's to write: its records are checked against the
 * `tool.called` schema like any other and carry that user's name (`userOf`, when given: a user
 * cannot record calls as someone else), only `journal-*.log` files behind the cursor are deleted,
 * and a state dir or journal folder that is a symlink or not a folder is not read at all (an
 * agent running as root must not read or prune where a user's link points). Every journal is read
 * at most READ_BUDGET_BYTES per pump. A journal that cannot be read, or holds corrupted or
 * invalid records, is reported through onError (coded MCPW_ERR_HOOK_JOURNAL_IO; the same problem
 * of the same journal once until it changes), and the other journals are pumped as usual.
 *
 * Also caches the collector's tool policy (settings.toolPolicy from a batch ack) as
 * `<stateDir>/tool-policy.json` for the hook command, written atomically so a hook never reads a
 * torn policy; a policy the collector stops sending is removed (the hook falls back to audit); the
 * endpoint's setting `hooks=audit` caps an enforce policy to audit.
 *
 * Idle cost: a pump whose journal looks as it did at the last pump that found nothing there (the
 * folder and the file at the cursor unchanged: journalSignature, two stats) reads nothing; every
 * FULL_READ_EVERY-th pump reads regardless (file systems with coarse times). Cursors are read
 * from disk once and then kept in memory (only this pump writes them).
 *
 * Never throws: records that are not valid `tool.called` data (a damaged or forged journal) are
 * skipped and counted; records the journal dropped at its bound become one `agent.dropped` event.
 * Its timer is unref()'d; shutdown() is idempotent and pumps once more.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { makeEvent, ToolCalledData, ToolPolicy, type McpEvent } from '@mcpwatch/shared';
import { AgentError, AgentCodes } from '../errors.js';
import { readJsonFile, writeFileDurable } from '../spool/durable-file.js';
import { JOURNAL_DIR, journalSignature, pruneJournal, readJournal, type JournalCursor } from './hook-journal.js';
import { TOOL_POLICY_FILE } from './tool-policy.js';

export interface JournalPumpOptions {
  stateDir: string;
  endpointId: () => string;
  push: (event: McpEvent) => void;
  onError: (error: Error) => void;
  /** The per-user state dirs to read as well (userHookStateDir(home) for each user home). Default: none. */
  userStateDirs?: () => readonly string[];
  /** The user a per-user state dir belongs to: its records' `user` is set to it (null: left as written). */
  userOf?: (stateDir: string) => string | null;
  /** Default 2000 ms. */
  intervalMs?: number;
  now?: () => Date;
}

interface CursorFile extends JournalCursor {
  droppedSeen: number;
}

/** Every this many pumps each journal is read in full even when its signature did not change. */
export const FULL_READ_EVERY = 15;

export class JournalPump {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly cursorFile: string;
  /** Cursor files as last read or written, by path (this pump is their only writer). */
  private readonly cursors = new Map<string, CursorFile | null>();
  /** By cursor file: the journal's signature when a pump last found nothing new there. */
  private readonly quiet = new Map<string, string>();
  /** By user state dir: the id of its cursor file. */
  private readonly userIds = new Map<string, string>();
  private pumps = 0;
  /** Journal reads made so far (pumps of a journal whose signature said nothing changed read nothing). */
  reads = 0;

  constructor(private readonly o: JournalPumpOptions) {
    this.cursorFile = path.join(o.stateDir, JOURNAL_DIR, 'cursor.json');
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.pumpOnce(), this.o.intervalMs ?? 2000);
    this.timer.unref();
    this.pumpOnce();
  }

  /** Moves every complete journal record (the agent's journal, then each user's) into the sink. Returns how many events were pushed. */
  pumpOnce(): number {
    this.pumps++;
    let pushed = this.pumpJournal(this.o.stateDir, this.cursorFile);
    let users: readonly string[] = [];
    try {
      users = this.o.userStateDirs?.() ?? [];
    } catch (e) {
      this.o.onError(e as Error);
    }
    // Each journal once, by its real path (two homes reaching one folder are not pumped twice).
    const seen = new Set<string>([realPath(this.o.stateDir)]);
    for (const dir of users) {
      const abs = path.resolve(dir);
      const real = realPath(abs);
      if (seen.has(real)) continue;
      seen.add(real);
      const problem = userJournalProblem(abs);
      if (problem === 'absent') continue;
      if (problem !== null) {
        this.reportOnce(abs, new AgentError(AgentCodes.hookJournalIo, `hook journal ${path.join(abs, JOURNAL_DIR)}: ${problem}; not read`));
        continue;
      }
      this.problems.delete(abs);
      let id = this.userIds.get(abs);
      if (id === undefined) {
        id = createHash('sha256').update(abs).digest('hex').slice(0, 16);
        if (this.userIds.size >= 4096) this.userIds.clear();
        this.userIds.set(abs, id);
      }
      pushed += this.pumpJournal(abs, path.join(this.o.stateDir, JOURNAL_DIR, `cursor-${id}.json`), this.o.userOf?.(dir) ?? null);
    }
    return pushed;
  }

  /** Journal problems already reported, by state dir (reported again only when they change). */
  private readonly problems = new Map<string, string>();

  private reportOnce(dir: string, e: AgentError): void {
    if (this.problems.get(dir) === e.message) return;
    this.problems.set(dir, e.message);
    this.o.onError(e);
  }

  private pumpJournal(stateDir: string, cursorFile: string, user: string | null = null): number {
    try {
      let saved = this.cursors.get(cursorFile);
      if (saved === undefined) {
        saved = readJsonFile<CursorFile>(cursorFile);
        this.cursors.set(cursorFile, saved);
      }
      const cursor: JournalCursor = saved ? { file: saved.file, offset: saved.offset } : { file: 0, offset: 0 };
      const signature = journalSignature(stateDir, cursor);
      if (signature !== null && this.pumps % FULL_READ_EVERY !== 0 && this.quiet.get(cursorFile) === signature) return 0;
      this.quiet.delete(cursorFile);
      this.reads++;
      const read = readJournal(stateDir, cursor);
      const droppedSeen = saved?.droppedSeen ?? 0;
      let pushed = 0;
      let invalid = 0;
      for (const rec of read.records) {
        if (!Value.Check(ToolCalledData, rec)) {
          invalid++;
          continue;
        }
        const data = user === null ? (rec as ToolCalledData) : { ...(rec as ToolCalledData), user };
        this.o.push(makeEvent('tool.called', this.o.endpointId(), data, this.o.now?.() ?? new Date()));
        pushed++;
      }
      if (read.dropped.records > droppedSeen) {
        this.o.push(makeEvent('agent.dropped', this.o.endpointId(), { count: read.dropped.records - droppedSeen, bytes: 0, reason: 'hook journal full: oldest tool-call records deleted unread' }, this.o.now?.() ?? new Date()));
      }
      if (invalid > 0 || read.corrupted > 0 || read.unreadable > 0) {
        this.o.onError(new AgentError(AgentCodes.hookJournalIo, `hook journal ${path.join(stateDir, JOURNAL_DIR)}: ${invalid} record(s) not valid tool.called data, ${read.corrupted} corrupted region(s) and ${read.unreadable} unreadable file(s) skipped`));
      }
      const moved = read.cursor.file !== cursor.file || read.cursor.offset !== cursor.offset || read.dropped.records !== droppedSeen;
      if (moved) {
        fs.mkdirSync(path.dirname(cursorFile), { recursive: true, mode: 0o700 });
        const next: CursorFile = { ...read.cursor, droppedSeen: read.dropped.records };
        this.cursors.delete(cursorFile); // re-read from disk if the write below fails
        writeFileDurable(cursorFile, JSON.stringify(next));
        this.cursors.set(cursorFile, next);
        pruneJournal(stateDir, read.cursor);
      } else if (signature !== null && read.records.length === 0 && read.corrupted === 0 && read.unreadable === 0) {
        this.quiet.set(cursorFile, signature); // nothing there: the next pump reads only if this changes
      }
      return pushed;
    } catch (e) {
      this.o.onError(e as Error);
      return 0;
    }
  }

  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.pumpOnce();
  }
}

function realPath(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/**
 * Why a user's state dir is not read: null when it and its journal folder are real folders,
 * 'absent' when there is no journal, else the problem (a symlink, not a folder, unreadable).
 */
function userJournalProblem(stateDir: string): string | null {
  for (const dir of [stateDir, path.join(stateDir, JOURNAL_DIR)]) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent';
      return `cannot be read (${code ?? (e as Error).message})`;
    }
    if (st.isSymbolicLink()) return `${dir} is a symbolic link`;
    if (!st.isDirectory()) return `${dir} is not a folder`;
  }
  try {
    fs.readdirSync(path.join(stateDir, JOURNAL_DIR));
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  return null;
}

/**
 * Caches the collector's tool policy for the hook command (see the module comment). Returns true
 * when the file changed. Never throws; an invalid policy is reported and the cached one kept.
 */
export function cacheToolPolicy(stateDir: string, policy: unknown, onError: (e: Error) => void, cap: 'audit' | 'enforce' = 'enforce'): boolean {
  const file = path.join(stateDir, TOOL_POLICY_FILE);
  try {
    if (policy === undefined || policy === null) {
      if (!fs.existsSync(file)) return false;
      fs.rmSync(file, { force: true });
      return true;
    }
    if (!Value.Check(ToolPolicy, policy)) {
      onError(new AgentError(AgentCodes.hookPolicyInvalid, 'tool policy from the collector does not match the ToolPolicy schema; the cached one is kept'));
      return false;
    }
    // The endpoint's own setting `hooks=audit` caps the mode: calls are recorded, never denied.
    const text = JSON.stringify(cap === 'audit' && (policy as ToolPolicy).mode === 'enforce' ? { ...(policy as ToolPolicy), mode: 'audit' } : policy);
    let current: string | null = null;
    try {
      current = fs.readFileSync(file, 'utf8');
    } catch {
      current = null;
    }
    if (current === text) return false;
    // Readable by the users whose hooks read it; it holds no secrets.
    writeFileDurable(file, text, 0o644);
    return true;
  } catch (e) {
    onError(e as Error);
    return false;
  }
}
