/**
 * Projection partitions: the log is projected per partition (a hash of the endpoint id), so the
 * batches of one endpoint are always projected in log order by one projector at a time.
 *
 * PostgreSQL with several collectors: partitions are owned through session advisory locks on the
 * projector's own connection. Every collector holds a shared "member" lock; each one aims at
 * ceil(P / members) partitions: it takes free ones up to that share and lets go of any beyond it.
 * A collector that dies loses its session and so its locks; the others take its partitions at
 * their next rebalance. No consensus of our own: PostgreSQL's lock table is the only truth. (Even
 * when two projectors were to overlap for a moment, the pending rows are claimed FOR UPDATE SKIP
 * LOCKED and deleted in the projecting transaction, so no row is projected twice.)
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from './db-schema.js';

/** Partitions on PostgreSQL (SQLite has one writer: one partition). */
export const PG_PARTITIONS = 16;

/** The partition of an endpoint among `partitions`. */
export function partitionOf(endpointId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  return createHash('sha1').update(endpointId).digest().readUInt32BE(0) % partitions;
}

/** The advisory-lock class of a schema (two schemas in one database do not share locks). */
export function lockClassOf(schema: string): number {
  return createHash('sha1').update(`mcpwatch-projection:${schema}`).digest().readUInt32BE(0) & 0x7fffffff;
}

/** Object id of the member lock (partitions are 0..P-1). */
const MEMBER_OBJECT = 1_000_000;

export class PartitionOwnership {
  readonly #db: Kysely<Database>;
  readonly #class: number;
  readonly #partitions: number;
  readonly #offset = Math.floor(Math.random() * 1_000_000);

  /** `db`: a pool of ONE connection that is never recycled while idle (the locks live on it). */
  constructor(db: Kysely<Database>, schema: string, partitions: number) {
    this.#db = db;
    this.#class = lockClassOf(schema);
    this.#partitions = partitions;
  }

  /** Joins (member lock), then takes or lets go of partitions toward the fair share; returns those owned. */
  async rebalance(): Promise<number[]> {
    const c = this.#class;
    const mine = async (): Promise<{ member: boolean; owned: Set<number> }> => {
      const r = await sql<{ objid: number | string }>`select objid from pg_locks where locktype = 'advisory' and classid = ${c} and objsubid = 2 and granted and pid = pg_backend_pid()`.execute(this.#db);
      const ids = r.rows.map((x) => Number(x.objid));
      return { member: ids.includes(MEMBER_OBJECT), owned: new Set(ids.filter((i) => i < this.#partitions)) };
    };
    let state = await mine();
    if (!state.member) {
      await sql`select pg_advisory_lock_shared(${c}::int, ${MEMBER_OBJECT}::int)`.execute(this.#db);
      state = await mine();
    }
    const members = await sql<{ n: number | string }>`select count(distinct pid) as n from pg_locks where locktype = 'advisory' and classid = ${c} and objid = ${MEMBER_OBJECT} and objsubid = 2 and granted and database = (select oid from pg_database where datname = current_database())`.execute(this.#db);
    const share = Math.ceil(this.#partitions / Math.max(1, Number(members.rows[0]?.n ?? 1)));
    const owned = state.owned;
    // Let go of partitions beyond the share (highest first), so a newcomer can take them.
    for (const p of [...owned].sort((a, b) => b - a)) {
      if (owned.size <= share) break;
      await sql`select pg_advisory_unlock(${c}::int, ${p}::int)`.execute(this.#db);
      owned.delete(p);
    }
    for (let i = 0; i < this.#partitions && owned.size < share; i++) {
      const p = (this.#offset + i) % this.#partitions;
      if (owned.has(p)) continue;
      const r = await sql<{ ok: boolean }>`select pg_try_advisory_lock(${c}::int, ${p}::int) as ok`.execute(this.#db);
      if (r.rows[0]?.ok) owned.add(p);
    }
    return [...owned].sort((a, b) => a - b);
  }
}
