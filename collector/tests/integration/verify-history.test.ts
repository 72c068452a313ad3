/**
 * verify-history re-verifies the stored batch log, on both engines: batches signed by a real agent
 * key verify; a stored body with one byte altered is reported (its signature no longer verifies),
 * and so is a batch whose prevHash does not chain; --endpoint and --since narrow what is checked.
 */
import { generateKeyPairSync } from 'node:crypto';
import { signBatch } from '@mcpwatch/shared';
import { engineCases } from '../support/pg.js';
import { openTestStore, type TestStore } from '../support/test-store.js';
import { enrollInput, event, hostInfo, serverEntry, BatchSender } from '../support/store-fixtures.js';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe.each(await engineCases())('verify-history (%s)', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(engine);
  });
  afterEach(async () => t.cleanup());

  /** An enrolled agent with a real key whose batches carry real signatures over the gzip bytes. */
  async function signingAgent(name: string, hardwareUuid?: string) {
    const outcome = await t.store.enrollAgent(enrollInput(hostInfo({ hostname: name, ...(hardwareUuid ? { hardwareUuid } : {}) }), { publicKeyPem }));
    const agent = (await t.store.getAgent(outcome.agentId))!;
    const sender = new BatchSender(t.store, agent);
    const send = async (over: Parameters<BatchSender['input']>[1] = {}) => {
      const input = sender.input([event('server.added', agent.endpointId, serverEntry(`${name}-${sender.seq}`))], over);
      const signedAtMs = Date.now();
      const signature = signBatch(keys.privateKey, agent.agentId, input.seq, signedAtMs, input.body);
      return sender.send(input.events, { ...input, signature, signedAtMs });
    };
    return { agent, send };
  }

  test('signed batches verify; an altered stored byte and a broken chain are reported; filters narrow the check', async () => {
    const a = await signingAgent('alpha');
    const b = await signingAgent('beta');
    for (let i = 0; i < 3; i++) await a.send();
    await b.send();
    expect(await t.store.verifyHistory()).toEqual({ checked: 4, problems: [], truncated: false });

    // One byte of alpha's second stored body changed (inside the gzip stream).
    const row = await t.store.db.selectFrom('batch_log').select(['log_id', 'body']).where('agent_id', '=', a.agent.agentId).where('seq', '=', 2).executeTakeFirstOrThrow();
    const body = Buffer.from(row.body!);
    body[body.length - 12] ^= 0x01;
    await t.store.db.updateTable('batch_log').set({ body }).where('log_id', '=', row.log_id).execute();
    // beta's next batch claims a prevHash that is not its last batch's hash (still signed: the agent sent it so).
    await b.send({ prevHash: 'f'.repeat(64) });

    const report = await t.store.verifyHistory();
    expect(report.checked).toBe(5);
    expect(report.problems.map((p) => [p.agentId, p.seq, p.problem])).toEqual(
      expect.arrayContaining([
        [a.agent.agentId, 2, 'signature'],
        [b.agent.agentId, 2, 'chain'],
      ]),
    );
    expect(report.problems.every((p) => (p.agentId === a.agent.agentId && p.seq === 2) || (p.agentId === b.agent.agentId && p.seq === 2))).toBe(true);

    const onlyBeta = await t.store.verifyHistory({ endpointId: b.agent.endpointId });
    expect(onlyBeta.checked).toBe(2);
    expect(onlyBeta.problems.map((p) => p.problem)).toEqual(['chain']);
    expect(await t.store.verifyHistory({ since: new Date(Date.now() + 60_000).toISOString() })).toEqual({ checked: 0, problems: [], truncated: false });
  });

  test('--endpoint checks every agent enrolled for that endpoint (a re-enrolled machine), none of another, and nothing for an unknown one', async () => {
    const first = await signingAgent('gamma', 'hw-gamma');
    await first.send();
    await first.send();
    const again = await signingAgent('gamma', 'hw-gamma'); // the same machine enrolls again: a new agent, the same endpoint
    expect(again.agent.endpointId).toBe(first.agent.endpointId);
    expect(again.agent.agentId).not.toBe(first.agent.agentId);
    await again.send();
    const other = await signingAgent('delta');
    await other.send();
    expect(await t.store.verifyHistory({ endpointId: first.agent.endpointId })).toEqual({ checked: 3, problems: [], truncated: false });
    expect(await t.store.verifyHistory({ endpointId: other.agent.endpointId })).toEqual({ checked: 1, problems: [], truncated: false });
    expect(await t.store.verifyHistory({ endpointId: 'ep-nobody' })).toEqual({ checked: 0, problems: [], truncated: false });
  });
});
