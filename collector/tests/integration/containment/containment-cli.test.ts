/**
 * `mcpwatch quarantine | restore | status` against a listening collector: the commands reach the
 * containment admin API, the audit trail shows them, and a missing --reason is a usage error.
 */
import { makeEvent } from '@mcpwatch/shared';
import { makeServerEntry, waitFor } from '@mcpwatch/testkit';
import { listeningCollector } from '../../support/listening-collector.js';

const ADMIN = 'bootstrap-admin-token-0123456789';

describe('containment CLI', () => {
  const collector = listeningCollector(ADMIN);
  const cli = (argv: string[]) => collector.cli(argv);

  test('quarantine, restore and status', async () => {
    const agent = await collector.fx.enroll();
    const shell = makeServerEntry('shell');
    await agent.sendEvents([makeEvent('server.added', agent.endpointId, shell, new Date(collector.fx.clock.nowMs))]);
    await waitFor('the server', async () => ((await collector.fx.app.inject({ url: `/v1/endpoints/${agent.endpointId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json().servers ?? []).length === 1);

    const noReason = await cli(['quarantine', agent.endpointId, shell.serverKey]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);

    const q = await cli(['quarantine', agent.endpointId, shell.serverKey, '--reason', 'runs shell']);
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/quarantine command cmd_\w+ queued/);
    collector.fx.clock.nowMs += 1000;
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
