/**
 * Drops two indexes every ingested batch wrote (and the projector's delete of its pending row
 * wrote again) that no query needs, as a migration for store/migrations.ts (both engines):
 * - batch_log_endpoint (endpoint_id, log_id): no query reads batch_log by endpoint in log order.
 *   The only query filtering on endpoint_id is verify-history with an endpoint, which pages in
 *   (agent_id, seq) order: it walks batch_log_agent_seq (the unique key) and filters the rows, one
 *   pass over the log for a rare admin command, as it does without an endpoint filter.
 * - projection_pending_received (received_at): the one reader, projectionStatus, asks count(*)
 *   and min(received_at) in one statement, which reads every pending row either way (count
 *   cannot stop early): one pass over the primary key instead of over this index. The projector
 *   claims by (partition, log_id), the primary key; retention filters pending rows by log_id.
 * Kept: batch_log_agent_seq (idempotency lookup of every append, the outbox's and verify-history's
 * reads) and batch_log_received (retention deletes by received_at; without it a pass over every
 * log row, bodies' local parts included).
 */
import { sql, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const batchLogIndexesMigration = (): Migration => ({
  async up(db: AnyDb) {
    await sql`drop index if exists batch_log_endpoint`.execute(db);
    await sql`drop index if exists projection_pending_received`.execute(db);
  },
});
