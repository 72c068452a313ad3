import { makeEvent, type McpEvent } from '@mcpwatch/shared';
import { projectBatch } from '../../src/store/projection.js';

const now = new Date('2026-01-02T03:04:05.000Z');
const events: McpEvent[] = [
  makeEvent('process.started', 'ep', { pid: 42, ppid: 1, name: 'node', cmd: 'node /opt/srv/index.js', user: 'alice', kind: 'server', client: 'claude-desktop', serverKey: null, match: 'pattern', startedAt: now.toISOString() }, now),
  makeEvent('finding.raised', 'ep', {
    id: 'f-1',
    ruleId: 'secret-in-env',
    severity: 'high',
    title: 'Secret in server environment',
    description: 'A token is configured in the environment of an MCP server.',
    subject: { serverName: 'srv', client: 'claude-desktop' },
    evidence: { field: 'env.GITHUB_TOKEN', kind: 'github-token' },
  }, now),
];

describe('projectBatch record data', () => {
  it('stores each record as the JSON of its event data, without encoded values', () => {
    const d = projectBatch('ep', events, now.toISOString());
    expect([...d.processes.values()].map((r) => r.data)).toEqual([JSON.stringify(events[0]!.data)]);
    expect([...d.findings.values()].map((r) => r.data)).toEqual([JSON.stringify(events[1]!.data)]);
  });

  it('reuses the event text the caller already serialized (one serialization per event)', () => {
    const texts = new Map(events.map((e) => [e, JSON.stringify(e.data)]));
    const asked: McpEvent[] = [];
    const d = projectBatch('ep', events, now.toISOString(), {
      dataJson: (e) => {
        asked.push(e);
        return texts.get(e)!;
      },
      time: (e) => e.time,
    });
    expect(asked).toEqual(events);
    expect([...d.processes.values()][0]!.data).toBe(texts.get(events[0]!));
    expect([...d.findings.values()][0]!.data).toBe(texts.get(events[1]!));
    expect([...d.processes.values()][0]!.present).toBe(1);
    expect([...d.findings.values()][0]!.status).toBe('open');
  });
});
