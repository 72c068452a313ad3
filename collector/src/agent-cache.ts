/**
 * Cache of enrolled agents for ingest: the store row and its public key parsed once into a Node
 * KeyObject (parsing PEM per request would dominate signature verification).
 *
 * Contract: an entry lives `ttlMs` (so a revocation made by another collector process takes effect
 * within that time; `invalidate()` makes it immediate in this process); at most `max` entries, least
 * recently used evicted. Unknown agents are not cached (a later enrollment is seen at once).
 * Store errors propagate to the caller (-> 503).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { AgentRow, Store } from './store/types.js';

export interface CachedAgent {
  row: AgentRow;
  publicKey: KeyObject;
}

interface Entry {
  agent: CachedAgent;
  expiresAtMs: number;
}

/** LRU + TTL cache of agent rows and keys in front of `store.getAgent`. */
export class AgentCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: Pick<Store, 'getAgent'>,
    private readonly opts: { ttlMs: number; max: number; now: () => number },
  ) {}

  /** The agent and its key, or null when the store does not know it. */
  async get(agentId: string): Promise<CachedAgent | null> {
    const now = this.opts.now();
    const hit = this.entries.get(agentId);
    if (hit) {
      this.entries.delete(agentId);
      if (hit.expiresAtMs > now) {
        this.entries.set(agentId, hit);
        return hit.agent;
      }
    }
    const row = await this.store.getAgent(agentId);
    if (!row) return null;
    const publicKey = hit && hit.agent.row.publicKeyPem === row.publicKeyPem ? hit.agent.publicKey : createPublicKey(row.publicKeyPem);
    const agent = { row, publicKey };
    if (this.entries.size >= this.opts.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(agentId, { agent, expiresAtMs: now + this.opts.ttlMs });
    return agent;
  }

  /** Forget one agent (after revoke/restore/re-enroll in this process). */
  invalidate(agentId: string): void {
    this.entries.delete(agentId);
  }

  get size(): number {
    return this.entries.size;
  }
}
