/**
 * A config whose server entry exceeds the shared schema's bounds (a 1,000-character name, 600
 * arguments, one of 20,000 characters, 700 env names) must not cost the endpoint its inventory:
 * the collector refuses a batch holding an event outside the schema, and the agent would
 * dead-letter the whole batch with it. `watch` (the built CLI) emits events fitted inside the
 * bounds: every one validates, the over-long values are cut and marked, the other servers are whole.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventOf } from '@mcpwatch/shared';
import { schemaErrors, validateEvent } from '../helpers/schemas.js';
import { startWatch } from '../support/watch-process.js';

describe('watch with a server entry larger than the schema allows', () => {
  it('emits a snapshot that validates, with the oversized values cut', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-oversize-'));
    const home = path.join(root, 'alice');
    mkdirSync(path.join(home, '.cursor'), { recursive: true });
    const args = Array.from({ length: 600 }, (_, i) => `--opt-${i}`);
    args[3] = 'words-'.repeat(3400);
    const env: Record<string, string> = Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`VAR_${i}`, 'x']));
    env.GITHUB_TOKEN = 'ghp_' + 'A1b2C3d4'.repeat(5);
    const bigName = 'n'.repeat(1000);
    const badName = 'b'.repeat(3000);
    writeFileSync(
      path.join(home, '.cursor', 'mcp.json'),
      JSON.stringify({ mcpServers: { [bigName]: { command: 'node', args, env }, small: { command: 'node', args: ['server.js'] }, [badName]: { type: 'stdio' } } }),
    );
    const w = startWatch(['--home', home, '--platform', 'linux', '--debounce-ms', '50']);
    try {
      const snap = (await w.waitFor((e) => e.type === 'inventory.snapshot')) as EventOf<'inventory.snapshot'>;
      expect(schemaErrors(validateEvent, snap)).toBe('');
      const big = snap.data.servers.find((s) => s.name.startsWith('nnnn'));
      expect(big).toBeDefined();
      expect(big!.name.length).toBeLessThanOrEqual(512);
      expect(big!.args.length).toBe(512);
      expect(big!.args[3]!.length).toBeLessThanOrEqual(8192);
      expect(big!.envKeys.length).toBe(512);
      const small = snap.data.servers.find((s) => s.name === 'small');
      expect(small?.args).toEqual(['server.js']);
      expect(snap.data.findings.some((f) => f.subject?.serverName?.startsWith('nnnn'))).toBe(true);
      expect(snap.data.errors.some((x) => x.entry?.startsWith('bbbb'))).toBe(true);
      for (const e of w.events) expect(`${e.type}: ${schemaErrors(validateEvent, e)}`).toBe(`${e.type}: `);
    } finally {
      await w.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
