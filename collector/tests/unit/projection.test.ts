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

describe('projectBatch finding transitions of a snapshot', () => {
  const at = new Date('2026-01-02T03:04:05.000Z');
  const f = (id: string, severity: 'low' | 'high' = 'high') => ({ id, ruleId: 'secret-in-config', severity, title: `t ${id}`, description: 'd', subject: { serverName: 'srv' } });
  const snap = (findings: ReturnType<typeof f>[]) =>
    makeEvent('inventory.snapshot', 'ep', { host: { hostname: 'h', platform: 'linux', users: [] }, clients: [], servers: [], processes: [], sockets: [], findings, errors: [] }, at);
  const kinds = (d: ReturnType<typeof projectBatch>) => d.findingTransitions.map((t) => [t.type, t.findingId]);

  it('raises what is new or changed, resolves what is gone, and says nothing of what is unchanged', () => {
    const open = new Map([
      ['same', JSON.stringify(f('same'))],
      ['gone', JSON.stringify(f('gone'))],
      ['worse', JSON.stringify(f('worse', 'low'))],
    ]);
    const d = projectBatch('ep', [snap([f('same'), f('new'), f('worse', 'high')])], at.toISOString(), undefined, open);
    expect(kinds(d)).toEqual([
      ['finding.raised', 'new'],
      ['finding.raised', 'worse'],
      ['finding.resolved', 'gone'],
    ]);
    expect(d.findingTransitions.find((t) => t.findingId === 'gone')!.dataJson).toBe(open.get('gone'));
    expect(d.findingTransitions.every((t) => t.time === at.toISOString())).toBe(true);
  });

  it('without a snapshot there is no transition (the agent\'s own finding events are published as they are)', () => {
    expect(projectBatch('ep', events, now.toISOString(), undefined, new Map([['x', '{}']])).findingTransitions).toEqual([]);
  });

  it('gives the same ids for the same batch, distinct ids per endpoint, type and finding, sorted with the snapshot', () => {
    const e = snap([f('a'), f('b')]);
    const one = projectBatch('ep', [e], at.toISOString()).findingTransitions;
    const two = projectBatch('ep', [e], at.toISOString()).findingTransitions;
    expect(one.map((t) => t.id)).toEqual(two.map((t) => t.id));
    expect(new Set(one.map((t) => t.id)).size).toBe(2);
    expect(projectBatch('other-ep', [e], at.toISOString()).findingTransitions[0]!.id).not.toBe(one[0]!.id);
    for (const t of one) {
      expect(t.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(t.id.slice(0, 10)).toBe(e.id.slice(0, 10));
      expect(t.snapshotId).toBe(e.id);
    }
  });
});
