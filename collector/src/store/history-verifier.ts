/**
 * verify-history: re-verifies the batch log, row by row, against what the agents signed. For each
 * stored batch: the signature over the stored gzip bytes (with the key of the certificate the
 * batch was accepted under), the body's hash against the recorded hash, the body's own agentId /
 * seq / prevHash against the row, and the hash chain (a batch's prevHash is the previous seq's
 * body hash). Any row that does not verify is reported with what failed; nothing is changed.
 *
 * Contract: reads in pages (agent, seq order), holds one page and one agent's key at a time;
 * reports at most `maxProblems` rows (then `truncated`). Throws what the database throws.
 */
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { verifyBatch } from '@mcpwatch/shared';
import type { Database } from './db-schema.js';

export type HistoryProblemKind = 'signature' | 'body-hash' | 'body-mismatch' | 'chain' | 'no-body' | 'undecodable' | 'unknown-agent' | 'certificate-changed';

export interface HistoryProblem {
  agentId: string;
  seq: number;
  endpointId: string;
  receivedAt: string;
  problem: HistoryProblemKind;
  detail: string;
}

export interface HistoryReport {
  /** Batches examined. */
  checked: number;
  problems: HistoryProblem[];
  /** More problems than maxProblems were found (only the first are listed). */
  truncated: boolean;
}

export interface VerifyHistoryOptions {
  endpointId?: string;
  /** ISO time: only batches received at or after it. */
  since?: string;
  maxProblems?: number;
}

const PAGE_ROWS = 500;

export async function verifyHistory(db: Kysely<Database>, opts: VerifyHistoryOptions = {}): Promise<HistoryReport> {
  const maxProblems = Math.max(1, opts.maxProblems ?? 1000);
  const problems: HistoryProblem[] = [];
  let truncated = false;
  let checked = 0;
  let agent: { id: string; row: Pick<Database['agents'], 'public_key_pem' | 'cert_fingerprint'> | undefined } | undefined;
  let prev: { agentId: string; seq: number; bodyHash: string } | undefined;
  let after: { agentId: string; seq: number } | undefined;
  // One endpoint: its rows come from the agents enrolled for it (the route files a batch under its
  // agent's endpoint), so the walk is a range of the (agent_id, seq) key per such agent, not a pass
  // over the whole log (no index leads with endpoint_id).
  const agentIds = opts.endpointId === undefined ? null : (await db.selectFrom('agents').select('agent_id').where('endpoint_id', '=', opts.endpointId).execute()).map((a) => a.agent_id);
  if (agentIds !== null && agentIds.length === 0) return { checked: 0, problems, truncated };
  for (;;) {
    let q = db
      .selectFrom('batch_log')
      .select(['agent_id', 'seq', 'endpoint_id', 'received_at', 'prev_hash', 'body_hash', 'cert_fingerprint', 'signature', 'signed_at_ms', 'body'])
      .orderBy('agent_id')
      .orderBy('seq')
      .limit(PAGE_ROWS);
    if (opts.endpointId !== undefined) q = q.where('agent_id', 'in', agentIds!).where('endpoint_id', '=', opts.endpointId);
    if (opts.since !== undefined) q = q.where('received_at', '>=', opts.since);
    if (after) {
      const a = after;
      q = q.where((eb) => eb.or([eb('agent_id', '>', a.agentId), eb.and([eb('agent_id', '=', a.agentId), eb('seq', '>', a.seq)])]));
    }
    const rows = await q.execute();
    for (const r of rows) {
      checked++;
      const seq = Number(r.seq);
      const report = (problem: HistoryProblemKind, detail: string): void => {
        if (problems.length >= maxProblems) truncated = true;
        else problems.push({ agentId: r.agent_id, seq, endpointId: r.endpoint_id, receivedAt: r.received_at, problem, detail });
      };
      if (agent?.id !== r.agent_id) {
        const row = await db.selectFrom('agents').select(['public_key_pem', 'cert_fingerprint']).where('agent_id', '=', r.agent_id).executeTakeFirst();
        agent = { id: r.agent_id, row };
      }
      // The chain: this batch's prevHash must be the previous seq's body hash (when both are held).
      if (prev && prev.agentId === r.agent_id && prev.seq === seq - 1 && r.prev_hash !== prev.bodyHash && r.body !== null) {
        report('chain', `prevHash ${r.prev_hash.slice(0, 16)}… is not the hash of seq ${prev.seq} (${prev.bodyHash.slice(0, 16)}…)`);
      }
      prev = { agentId: r.agent_id, seq, bodyHash: r.body_hash };
      if (r.body === null) {
        report('no-body', 'accepted before the batch log kept bodies: cannot be re-verified');
        continue;
      }
      const body = Buffer.from(r.body);
      if (!agent.row) report('unknown-agent', 'the agent that sent it is no longer known');
      else if (agent.row.cert_fingerprint !== r.cert_fingerprint) report('certificate-changed', 'accepted under another certificate than the agent holds now');
      else if (!verifyBatch(agent.row.public_key_pem, r.agent_id, seq, Number(r.signed_at_ms), body, r.signature)) {
        report('signature', 'the stored body does not verify against the agent\'s signature');
      }
      let inflated: Buffer;
      try {
        inflated = gunzipSync(body);
      } catch (e) {
        report('undecodable', `stored body is not valid gzip: ${(e as Error).message}`);
        continue;
      }
      const hash = createHash('sha256').update(inflated).digest('hex');
      if (hash !== r.body_hash) report('body-hash', `stored body hashes to ${hash.slice(0, 16)}…, recorded ${r.body_hash.slice(0, 16)}…`);
      try {
        const doc = JSON.parse(inflated.toString('utf8')) as { agentId?: unknown; seq?: unknown; prevHash?: unknown };
        if (doc.agentId !== r.agent_id || doc.seq !== seq || doc.prevHash !== r.prev_hash) report('body-mismatch', 'the body\'s agentId, seq or prevHash differ from the log row');
      } catch (e) {
        report('undecodable', `stored body is not JSON: ${(e as Error).message}`);
      }
    }
    if (rows.length < PAGE_ROWS) break;
    const last = rows[rows.length - 1]!;
    after = { agentId: last.agent_id, seq: Number(last.seq) };
  }
  return { checked, problems, truncated };
}
