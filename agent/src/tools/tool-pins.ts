/**
 * Tool pinning: the first-seen hashes of each tool on this endpoint (Trail of Bits' "context
 * protector" idea, kept per endpoint), and the last observed tool records (so a restart does not
 * re-announce every tool as added). Persisted as one JSON file in the agent's state dir.
 *
 * Contract:
 * - A pin is (serverId, tool name) -> hashes + the server version they were seen with. A pin is
 *   re-taken only when the server version changes (an upgrade may change tools); a change under
 *   the same version keeps the old pin, so `tool-changed-without-version` stays raised until the
 *   server's version moves or someone clears the pin file.
 * - Bounded: at most MAX_PINS pins and MAX_PINS last records; past that, the oldest pins go.
 * - A file that cannot be parsed is renamed aside (`.corrupt`) and reported once with
 *   MCPW_ERR_TOOL_PINS through `reportError`; pinning restarts from what is seen now. Writes are
 *   atomic (temp file + rename). Never throws.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ToolRecord } from '@mcpwatch/shared';
import { AgentCodes, AgentError } from '../errors.js';
import { toolKey } from './tool-inventory.js';

export const MAX_PINS = 20_000;
export const TOOL_PINS_FILE = 'tool-pins.json';

export interface ToolPin {
  serverId: string;
  name: string;
  descriptionSha256: string | null;
  inputSchemaSha256: string | null;
  annotationsSha256: string | null;
  serverVersion: string | null;
  firstSeen: string;
}

interface PinFile {
  v: 1;
  pins: ToolPin[];
  last: ToolRecord[];
}

export class ToolPinStore {
  private readonly file: string;
  private readonly pins = new Map<string, ToolPin>();
  private last: ToolRecord[] = [];
  /** The text this store last wrote (or loaded): a save of the same text is skipped. */
  private written: string | null = null;
  private readonly reportError: (e: AgentError) => void;

  constructor(stateDir: string, reportError: (e: AgentError) => void = () => undefined) {
    this.file = path.join(stateDir, TOOL_PINS_FILE);
    this.reportError = reportError;
    this.load();
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.reportError(new AgentError(AgentCodes.toolPins, `tool pins unreadable: ${this.file}`, { cause: e }));
      return;
    }
    try {
      const parsed = JSON.parse(text) as PinFile;
      if (parsed?.v !== 1 || !Array.isArray(parsed.pins) || !Array.isArray(parsed.last)) throw new Error('not a version 1 pin file');
      for (const p of parsed.pins.slice(-MAX_PINS)) if (typeof p?.serverId === 'string' && typeof p.name === 'string') this.pins.set(toolKey(p), p);
      this.last = parsed.last.filter((r) => typeof r?.serverId === 'string' && typeof r.name === 'string').slice(-MAX_PINS);
      this.written = text;
    } catch (cause) {
      try {
        renameSync(this.file, `${this.file}.corrupt`);
      } catch {
        // the next save overwrites it anyway
      }
      this.reportError(new AgentError(AgentCodes.toolPins, `tool pin file ${this.file} was corrupt; set aside as .corrupt, pinning restarts`, { cause }));
    }
  }

  pinOf(r: Pick<ToolRecord, 'serverId' | 'name'>): ToolPin | null {
    return this.pins.get(toolKey(r)) ?? null;
  }

  lastRecords(): ToolRecord[] {
    return [...this.last];
  }

  /**
   * Record an observation: pins tools seen for the first time (or whose server version changed)
   * and returns, for each record, the pin that applied BEFORE this observation (null if none).
   */
  observe(records: readonly ToolRecord[], nowIso: string): Map<string, ToolPin | null> {
    const before = new Map<string, ToolPin | null>();
    for (const r of records) {
      const k = toolKey(r);
      const pin = this.pins.get(k) ?? null;
      before.set(k, pin);
      if (!pin || pin.serverVersion !== r.serverVersion) {
        this.pins.delete(k);
        this.pins.set(k, {
          serverId: r.serverId,
          name: r.name,
          descriptionSha256: r.descriptionSha256,
          inputSchemaSha256: r.inputSchemaSha256,
          annotationsSha256: r.annotationsSha256,
          serverVersion: r.serverVersion,
          firstSeen: nowIso,
        });
      }
    }
    while (this.pins.size > MAX_PINS) this.pins.delete(this.pins.keys().next().value as string);
    return before;
  }

  /**
   * Replace the last observed records of the given servers (others are kept). A server keeps its
   * place in the list (a new one goes last), so a re-probe that found its tools as they were leaves
   * the file's text as it was and save() writes nothing.
   */
  setLast(servers: ReadonlySet<string>, records: readonly ToolRecord[]): void {
    const byServer = new Map<string, ToolRecord[]>();
    for (const r of this.last) {
      const list = byServer.get(r.serverId);
      if (list) list.push(r);
      else byServer.set(r.serverId, [r]);
    }
    for (const id of servers) if (byServer.has(id)) byServer.set(id, []); // keeps its place
    for (const r of records) {
      const list = byServer.get(r.serverId);
      if (list) list.push(r);
      else byServer.set(r.serverId, [r]);
    }
    this.last = [...byServer.values()].flat().slice(-MAX_PINS);
  }

  /**
   * Write the file atomically; reports and returns false on failure. A save whose content is what
   * this store last wrote (a re-probe that found every tool as it was: the steady state, once a
   * minute per MCP listener) writes nothing.
   */
  save(): boolean {
    const body: PinFile = { v: 1, pins: [...this.pins.values()], last: this.last };
    const text = JSON.stringify(body);
    if (text === this.written) return true;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, this.file);
      this.written = text;
      return true;
    } catch (cause) {
      this.reportError(new AgentError(AgentCodes.toolPins, `tool pins could not be written to ${this.file}`, { cause }));
      return false;
    }
  }
}
