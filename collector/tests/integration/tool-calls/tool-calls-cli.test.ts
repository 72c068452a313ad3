/**
 * `mcpwatch policy …` and `mcpwatch tool-calls …` against a real collector on a loopback port:
 * set from a file with a reason, show, audit, clear; tool calls listed as a table and as JSON.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeEvent } from '@mcpwatch/shared';
import { listeningCollector } from '../../support/listening-collector.js';

const ADMIN = 'bootstrap-admin-token-0123456789';

describe('policy and tool-calls CLI', () => {
  const collector = listeningCollector(ADMIN);
  const cli = (argv: string[]) => collector.cli(argv);

  test('policy set / show / audit / clear', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-policy-')), 'policy.json');
    fs.writeFileSync(file, JSON.stringify({ mode: 'enforce', blockedServers: ['evil-*'], contact: '#sec' }));
    const noReason = await cli(['policy', 'set', file]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const set = await cli(['policy', 'set', file, '--reason', 'block evil servers']);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/tool policy revision tp_\w+ set/);
    const show = await cli(['policy']);
    expect(JSON.parse(show.stdout)).toMatchObject({ policy: { mode: 'enforce', blockedServers: ['evil-*'] }, updatedBy: 'bootstrap' });
    fs.writeFileSync(file, '{"mode": "enforce", "bogus": 1}');
    const bad = await cli(['policy', 'set', file, '--reason', 'x']);
    expect(bad.code).not.toBe(0);
    const cleared = await cli(['policy', 'clear', '--reason', 'done']);
    expect(cleared.stdout).toMatch(/tool policy cleared/);
    const audit = await cli(['policy', 'audit']);
    expect(audit.code).toBe(0);
    const lines = audit.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/AT\s+ACTION\s+BY\s+REASON/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1])).toEqual(['clear', 'set']);
  });

  test('tool-calls lists what agents reported', async () => {
    const agent = await collector.fx.enroll();
    await agent.sendEvents([
      makeEvent('tool.called', agent.endpointId, { client: 'cursor', phase: 'pre', server: 'github', tool: 'delete_repo', argumentNames: ['repo'], decision: 'deny', enforced: true, mode: 'enforce', rule: 'blocked-tool', calledAt: new Date(collector.fx.clock.nowMs).toISOString() }, new Date(collector.fx.clock.nowMs)),
    ]);
    const table = await cli(['tool-calls', '--decision', 'deny']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/TIME\s+ENDPOINT\s+CLIENT\s+USER\s+SERVER\s+TOOL\s+DECISION/);
    expect(table.stdout).toMatch(/cursor\s+-\s+github\s+delete_repo\s+deny\s+yes\s+blocked-tool\s+repo/);
    const asJson = await cli(['tool-calls', '--server-name', 'github', '--json']);
    expect(JSON.parse(asJson.stdout).items).toMatchObject([{ tool: 'delete_repo', endpointId: agent.endpointId }]);
  });
});
