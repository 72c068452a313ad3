/**
 * `mcpwatch quarantine | restore | status` against a listening collector: the commands reach the
 * containment admin API, the audit trail shows them, and a missing --reason is a usage error.
 */
import { makeEvent } from '@mcpwatch/shared';
import { makeServerEntry, waitFor } from '@mcpwatch/testkit';
import { main } from '../../../src/admin-cli.js';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';

const ADMIN = 'bootstrap-admin-token-0123456789';

describe('containment CLI', () => {
  let fx: Fixture;
  let url: string;
  beforeAll(async () => {
    fx = await makeFixture({ overrides: { adminToken: ADMIN } });
    url = await fx.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => fx.close());

  async function cli(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { env: { MCPWATCH_SERVER: url, MCPWATCH_TOKEN: ADMIN }, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  }

  test('quarantine, restore and status', async () => {
    const agent = await fx.enroll();
    const shell = makeServerEntry('shell');
    await agent.sendEvents([makeEvent('server.added', agent.endpointId, shell, new Date(fx.clock.nowMs))]);
    await waitFor('the server', async () => ((await fx.app.inject({ url: `/v1/endpoints/${agent.endpointId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json().servers ?? []).length === 1);

    const noReason = await cli(['quarantine', agent.endpointId, shell.serverKey]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);

    const q = await cli(['quarantine', agent.endpointId, shell.serverKey, '--reason', 'runs shell']);
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/quarantine command cmd_\w+ queued/);
    fx.clock.nowMs += 1000;
    const r = await cli(['restore', agent.endpointId, shell.serverKey, '--reason', 'cleared', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ action: 'restore', status: 'queued' });

    const s = await cli(['status', '--endpoint', agent.endpointId]);
    expect(s.code).toBe(0);
    const lines = s.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/REQUESTED\s+ACTION\s+ENDPOINT/);
    expect(lines[1]).toMatch(/restore.*queued.*bootstrap.*cleared/);
    expect(lines[2]).toMatch(/quarantine.*queued.*bootstrap.*runs shell/);
  });
});
