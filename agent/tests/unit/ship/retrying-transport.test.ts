import { generateKeyPairSync } from 'node:crypto';
import type { BatchSendResult, BatchTransport } from '../../../src/ship/batch-transport.js';
import type { PendingBatch } from '../../../src/ship/batch-builder.js';
import { RetryingTransport, type ShipperReport } from '../../../src/ship/retrying-transport.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const identity = { agentId: 'a1', privateKey, server: 'http://127.0.0.1:1' };
const batch: PendingBatch = { agentId: 'a1', seq: 5, prevHash: '', end: { segment: 1, offset: 0 }, count: 1, body: '{}' };

/** An inner transport that answers from a script, one answer per send. */
function scripted(answers: BatchSendResult[]): BatchTransport {
  return { send: async () => answers.shift() ?? { ok: true } };
}

function setup(answers: BatchSendResult[], reenroll?: (code: string) => Promise<boolean>) {
  const reports: ShipperReport[] = [];
  const t = new RetryingTransport(scripted(answers), { retryBaseMs: 100, retryMaxMs: 1000, random: () => 0.5, now: () => 0, ...(reenroll ? { reenroll } : {}), onReport: (r) => reports.push(r) });
  return { t, reports };
}

describe('RetryingTransport (ship/retrying-transport): retry as a wrapper around the plain transport', () => {
  it('backs off on retryable failures, reports the outage once, and its end once', async () => {
    const down = { ok: false as const, retryable: true, code: 'MCPW_ERR_NETWORK', error: 'refused' };
    const { t, reports } = setup([down, down, { ok: true }]);
    const a = await t.send(identity, batch);
    const b = await t.send(identity, batch);
    expect(a).toMatchObject({ ok: false, retryInMs: expect.any(Number), message: 'MCPW_ERR_NETWORK: refused' });
    expect(t.inOutage).toBe(true);
    expect((b as { retryInMs: number }).retryInMs).toBeGreaterThanOrEqual((a as { retryInMs: number }).retryInMs);
    expect(await t.send(identity, batch)).toEqual({ ok: true });
    expect(t.inOutage).toBe(false);
    expect(reports.map((r) => r.code)).toEqual(['MCPW_ERR_NETWORK', 'MCPW_OK_RECONNECTED']);
  });

  it('waits at least the Retry-After the collector asked for', async () => {
    const { t: t2 } = setup([{ ok: false, retryable: true, status: 429, retryAfterMs: 5000, error: '429' }]);
    expect(((await t2.send(identity, batch)) as { retryInMs: number }).retryInMs).toBeGreaterThanOrEqual(5000);
  });

  it('names this machine\'s clock on every clock-skew refusal', async () => {
    const skew = { ok: false as const, retryable: true, status: 401, code: 'MCPW_ERR_TIMESTAMP_SKEW', error: 'skew' };
    const { t, reports } = setup([skew, skew]);
    await t.send(identity, batch);
    await t.send(identity, batch);
    expect(reports).toHaveLength(2);
    expect(reports[1]!.message).toMatch(/^MCPW_ERR_CLOCK_SKEW: .*check this machine's clock/);
  });

  it('re-enrolls on an unknown-agent answer: resend at once when it worked, back off when it did not', async () => {
    const unknown = { ok: false as const, retryable: true, status: 401, code: 'MCPW_ERR_UNKNOWN_AGENT', error: 'who' };
    const codes: string[] = [];
    const ok = setup([unknown], async (c) => (codes.push(c), true));
    expect(await ok.t.send(identity, batch)).toMatchObject({ reenrolled: true });
    expect(codes).toEqual(['MCPW_ERR_UNKNOWN_AGENT']);
    const failed = setup([unknown], async () => {
      throw new Error('no secret');
    });
    expect(await failed.t.send(identity, batch)).toMatchObject({ retryInMs: expect.any(Number) });
  });

  it('returns a non-retryable refusal as it is (for the dead letters) and resets the backoff', async () => {
    const { t } = setup([{ ok: false, retryable: false, status: 400, code: 'MCPW_ERR_SCHEMA', error: 'bad' }]);
    t.nextDelayMs();
    t.nextDelayMs();
    const r = await t.send(identity, batch);
    expect(r).toEqual({ ok: false, retryable: false, status: 400, code: 'MCPW_ERR_SCHEMA', error: 'bad' });
    expect(t.nextDelayMs()).toBeLessThanOrEqual(100);
  });
});
