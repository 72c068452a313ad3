/**
 * ship/shipper.ts: the containment commands of an ack go to onCommands as received (at most
 * MAX_COMMANDS_PER_ACK), unverified (containment/ verifies); an ack without commands calls nothing;
 * an onCommands that throws does not stop shipping. Against the real HTTP fake collector.
 */
import { afterEach, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { makeEvent, MAX_COMMANDS_PER_ACK } from '@mcpwatch/shared';
import { FakeCollector, waitFor } from '@mcpwatch/testkit';
import { Spool } from '../../src/spool/spool.js';
import { Shipper } from '../../src/ship/shipper.js';
import { HttpClient } from '../../src/ship/http-client.js';

const AGENT = 'agent-cmd';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function rig(onCommands: (c: readonly unknown[]) => void) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-ship-cmd-'));
  const spool = Spool.open({ dir: path.join(dir, 'spool') });
  const collector = new FakeCollector(new Map([[AGENT, publicKey]]));
  const url = await collector.listen();
  const http = new HttpClient({ timeoutMs: 5000 });
  const shipper = new Shipper({ spool, stateDir: path.join(dir, 'state'), http, identity: () => ({ agentId: AGENT, privateKey, server: url }), reconnectJitterMs: 0, retryBaseMs: 5, retryMaxMs: 20, onCommands });
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => collector.close(), () => http.close(), () => spool.close(), () => shipper.shutdown(1000));
  const send = (i: number) => {
    spool.append(Buffer.from(JSON.stringify(makeEvent('agent.dropped', 'ep-1', { count: i, bytes: 0, reason: 'test' }))));
    shipper.notify();
  };
  shipper.start();
  return { collector, send };
}

test('commands in an ack reach onCommands as received, capped; none: not called; a throwing handler does not stop shipping', async () => {
  const seen: unknown[][] = [];
  let throwNext = false;
  const { collector, send } = await rig((c) => {
    seen.push([...c]);
    if (throwNext) throw new Error('handler failed');
  });
  send(1);
  await waitFor('first batch acked', () => collector.accepted.length === 1);
  expect(seen).toEqual([]);

  const commands = Array.from({ length: MAX_COMMANDS_PER_ACK + 5 }, (_, i) => ({ id: `cmd_${i}`, anything: 'unverified' }));
  collector.commands = commands;
  throwNext = true;
  send(2);
  await waitFor('second batch acked', () => collector.accepted.length === 2);
  await waitFor('commands handed over', () => seen.length === 1);
  expect(seen[0]).toEqual(commands.slice(0, MAX_COMMANDS_PER_ACK));

  collector.commands = null;
  throwNext = false;
  send(3);
  await waitFor('third batch acked after the handler threw', () => collector.accepted.length === 3);
  expect(seen).toHaveLength(1);
});
