/**
 * Remembers, per ASFF finding Id, when it was first raised and the last UpdatedAt sent, so CreatedAt
 * stays at the first raise and UpdatedAt only rises (Security Hub treats a finding with the same Id
 * as an update). Bounded (least recently used entries are evicted past `maxEntries`, counted) and
 * optionally persisted as one JSON file (written atomically: temp file + rename) so a restart keeps
 * the first-raise times. With several collectors each keeps its own memory; a finding whose first
 * raise another collector handled gets the time this collector first saw it.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FindingTimes {
  createdAt: string;
  updatedAt: string;
}

type Entry = [created: number, updated: number, lastEvent: number];

export class FirstSeenMemory {
  private readonly map = new Map<string, Entry>();
  private dirty = false;
  /** Entries dropped because the memory was full. */
  evicted = 0;

  constructor(private readonly opts: { path?: string; maxEntries?: number } = {}) {}

  get size(): number {
    return this.map.size;
  }

  /** Loads the persisted memory; a missing file is an empty memory, a corrupt one is reported and ignored. */
  async load(): Promise<{ loaded: number; error?: Error }> {
    if (!this.opts.path) return { loaded: 0 };
    let text: string;
    try {
      text = await readFile(this.opts.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { loaded: 0 };
      return { loaded: 0, error: e as Error };
    }
    try {
      const entries = JSON.parse(text) as Array<[string, number, number, number]>;
      for (const [id, c, u, l] of entries) {
        if (typeof id === 'string' && Number.isFinite(c) && Number.isFinite(u) && Number.isFinite(l)) this.map.set(id, [c, u, l]);
      }
      this.trim();
      return { loaded: this.map.size };
    } catch (e) {
      return { loaded: 0, error: e as Error };
    }
  }

  /**
   * Times for a finding state observed at `eventTime`: CreatedAt from the first time this Id was
   * stamped, UpdatedAt = max(eventTime, previous UpdatedAt + 1 ms). Returns null when a later state
   * of the same finding was already stamped (a retried older row must not overwrite a newer state).
   */
  stamp(id: string, eventTime: string): FindingTimes | null {
    const t = Date.parse(eventTime);
    const prev = this.map.get(id);
    if (prev && t < prev[2]) return null;
    const created = prev ? Math.min(prev[0], t) : t;
    const updated = prev ? Math.max(t, prev[1] + 1) : t;
    this.map.delete(id);
    this.map.set(id, [created, updated, t]);
    this.dirty = true;
    this.trim();
    return { createdAt: new Date(created).toISOString(), updatedAt: new Date(updated).toISOString() };
  }

  private trim(): void {
    const max = this.opts.maxEntries ?? 200_000;
    while (this.map.size > max) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      this.evicted++;
    }
  }

  /** Writes the memory when it changed since the last save. */
  async save(): Promise<void> {
    if (!this.opts.path || !this.dirty) return;
    this.dirty = false;
    const entries = [...this.map].map(([id, [c, u, l]]) => [id, c, u, l]);
    const tmp = `${this.opts.path}.${process.pid}.tmp`;
    await mkdir(dirname(this.opts.path), { recursive: true });
    await writeFile(tmp, JSON.stringify(entries), { mode: 0o600 });
    await rename(tmp, this.opts.path);
  }
}
