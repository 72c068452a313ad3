/**
 * ship/command-wait.ts, the signed (timestamp, seq) of each wait (the collector's replay guard
 * refuses a wait not signed later than the last one it accepted): seq rises on every wait; the
 * timestamp never goes below the last accepted wait's when the clock is set back; a clock briefly
 * far ahead, refused by the collector, does not drag later waits into the future. A scripted HTTP
 * client answers; no network, no sleeps (retry pauses are 0 ms).
 */
import { generateKeyPairSync } from 'node:crypto';
import { HEADERS } from '@mcpwatch/shared';
import { CommandWait } from '../../../src/ship/command-wait.js';
import type { HttpRequest, HttpResponse } from '../../../src/ship/http-client.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const T0 = 1_800_000_000_000;

/** Runs the loop until `answers` are used up; returns the (timestamp, seq) each wait was signed with. */
async function signedWaits(clock: number[], answers: number[]): Promise<Array<[number, number]>> {
  const sent: Array<[number, number]> = [];
  let nowCalls = 0;
  let wait: CommandWait;
  const done = new Promise<void>((resolve) => {
    wait = new CommandWait({
      http: {
        request: async (req: HttpRequest): Promise<HttpResponse> => {
          sent.push([Number(req.headers![HEADERS.timestamp]), Number(req.headers![HEADERS.seq])]);
          const status = answers[sent.length - 1]!;
          if (sent.length === answers.length) resolve();
          return { status, headers: {}, body: Buffer.from(JSON.stringify(status === 200 ? { commands: [{ id: `c${sent.length}` }] } : { code: 'MCPW_ERR_TIMESTAMP_SKEW', message: 'x' })) };
        },
      },
      identity: () => ({ agentId: 'a1', privateKey, server: 'http://127.0.0.1:9' }),
      onCommands: () => undefined,
      now: () => clock[Math.min(nowCalls++, clock.length - 1)]!,
      retryBaseMs: 0,
      retryMaxMs: 0,
      random: () => 0,
    });
    wait.start();
  });
  await done;
  await wait!.shutdown();
  return sent;
}

describe('command wait signing', () => {
  it('seq rises; a clock set back keeps the last accepted timestamp', async () => {
    const sent = await signedWaits([T0 + 5000, T0 + 6000, T0 + 1000, T0 + 7000], [200, 200, 200, 200]);
    expect(sent).toEqual([
      [T0 + 5000, 1],
      [T0 + 6000, 2],
      [T0 + 6000, 3], // the clock went back 5 s: same timestamp as the last accepted, higher seq
      [T0 + 7000, 4],
    ]);
  });

  it('a wait refused while the clock was far ahead does not hold later waits in the future', async () => {
    const sent = await signedWaits([T0, T0 + 3_600_000, T0 + 1000], [200, 401, 200]);
    expect(sent).toEqual([
      [T0, 1],
      [T0 + 3_600_000, 2],
      [T0 + 1000, 3],
    ]);
  });
});
