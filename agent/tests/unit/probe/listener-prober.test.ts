import { ListenerProber, listenerCandidates, type ListenerCandidate } from '../../../src/probe/listener-prober.js';
import type { ProbeOutcome, ProbeSession, ProbeTarget } from '../../../src/probe/mcp-probe.js';

// Scheduling only: which listeners get probed when. The network probe itself is tested against
// real servers in tests/integration/tool-probe.test.ts; here it answers from a table.
const MCP: ProbeOutcome = { kind: 'mcp', url: 'http://127.0.0.1/mcp', transport: 'streamable-http', serverName: 's', serverVersion: '1', protocolVersion: '2025-06-18', instructions: null, tools: [], prompts: [], resources: [], truncated: false, listed: 'all' };
const cand = (port: number, over: Partial<ListenerCandidate> = {}): ListenerCandidate => ({ pid: port, processName: `p${port}`, localAddress: '127.0.0.1', localPort: port, mcpProcess: false, ...over });

function harness(opts: { mcpPorts: number[]; max?: number; other?: boolean; coalesceMs?: number }) {
  let clock = 1_000_000;
  const calls: ProbeTarget[] = [];
  const prober = new ListenerProber({
    maxProbesPerPoll: opts.max ?? 4,
    probeOtherListeners: opts.other ?? true,
    coalesceMs: opts.coalesceMs ?? 0,
    now: () => clock,
    probe: async (t) => {
      calls.push(t);
      return opts.mcpPorts.includes(t.port) ? MCP : { kind: 'not-mcp', reason: 'http-404' };
    },
  });
  return { prober, calls, advance: (ms: number) => (clock += ms) };
}

describe('ListenerProber scheduling', () => {
  it('probes at most N per poll, MCP-process listeners first, all-interface binds through the loopback', async () => {
    const h = harness({ mcpPorts: [9], max: 2 });
    const r = await h.prober.poll([cand(1), cand(2), cand(9, { mcpProcess: true, localAddress: '0.0.0.0' })]);
    expect(h.calls.map((c) => [c.host, c.port])).toEqual([['127.0.0.1', 9], ['127.0.0.1', 1]]);
    expect(r.probes).toBe(2);
    expect(r.servers).toMatchObject([{ port: 9, bind: '0.0.0.0', allInterfaces: true, configured: false, serverId: 'listener:0.0.0.0:9' }]);
    await h.prober.poll([cand(1), cand(2), cand(9, { mcpProcess: true, localAddress: '0.0.0.0' })]);
    expect(h.calls.map((c) => c.port)).toEqual([9, 1, 2]);
  });

  it('re-probes a known MCP listener after reprobeMcpMs and backs off, doubling, from a non-MCP one', async () => {
    const h = harness({ mcpPorts: [9] });
    const list = [cand(9), cand(80)];
    await h.prober.poll(list);
    expect(h.calls.map((c) => c.port)).toEqual([9, 80]);
    h.advance(59_000);
    await h.prober.poll(list);
    expect(h.calls).toHaveLength(2);
    h.advance(1_000);
    await h.prober.poll(list);
    expect(h.calls.map((c) => c.port)).toEqual([9, 80, 9]);
    h.advance(9 * 60_000);
    await h.prober.poll(list);
    expect(h.calls.map((c) => c.port)).toEqual([9, 80, 9, 9, 80]);
    expect(h.prober.stateOf('127.0.0.1', 80)).toMatchObject({ kind: 'not-mcp', misses: 1 });
    expect(h.prober.nextMcpDueAt()).toBe(h.prober.stateOf('127.0.0.1', 9)!.nextAt);
    h.advance(10 * 60_000);
    await h.prober.poll(list);
    expect(h.calls.filter((c) => c.port === 80)).toHaveLength(2); // 20 min back-off now
  });

  it('starts afresh when another process owns the port, and skips other listeners when policy turns them off', async () => {
    const h = harness({ mcpPorts: [], other: false });
    await h.prober.poll([cand(80), cand(81, { serverKey: 'sk', fingerprint: 'fp', pathHint: '/sse' })]);
    expect(h.calls).toEqual([{ host: '127.0.0.1', port: 81, pathHint: '/sse', local: true, known: false, keep: expect.any(Function) }]);
    const open = harness({ mcpPorts: [] });
    await open.prober.poll([cand(80)]);
    await open.prober.poll([cand(80, { pid: 4242 })]);
    expect(open.calls.map((c) => c.port)).toEqual([80, 80]);
  });

  it('takes only listening TCP sockets from a socket snapshot, once per bind and port', () => {
    const rows = [
      { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 5, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 3, processName: 'node' },
      { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 5, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 3, processName: 'node' },
      { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 6, peerAddress: '1.2.3.4', peerPort: 9, state: 'ESTABLISHED', pid: 3, processName: 'node' },
      { protocol: 'udp', localAddress: '0.0.0.0', localPort: 53, peerAddress: null, peerPort: null, state: 'LISTEN', pid: 4, processName: 'dns' },
    ];
    expect(listenerCandidates(rows, { mcpPids: new Set([3]) })).toEqual([
      { pid: 3, ownerId: null, processName: 'node', user: null, localAddress: '127.0.0.1', localPort: 5, mcpProcess: true, serverKey: null, fingerprint: null, pathHint: null },
    ]);
    // A row with its socket inode (the Linux listener table) is identified by it; else the start time when known.
    const withInode = [{ ...rows[0]!, inode: 777 }];
    expect(listenerCandidates(withInode, { mcpPids: new Set() })[0]!.ownerId).toBe('inode:777');
    expect(listenerCandidates(rows, { mcpPids: new Set(), startOf: (pid) => (pid === 3 ? '2026-01-01T00:00:00.000Z' : null) })[0]!.ownerId).toBe('2026-01-01T00:00:00.000Z');
  });

  it('a poll that re-probes a known MCP listener takes the others due within half an interval: listeners first probed apart end up in one group', async () => {
    const h = harness({ mcpPorts: [9, 10, 11], coalesceMs: 5000 });
    const t0 = 1_000_000;
    let now = t0;
    const all = [cand(9), cand(10), cand(11)];
    const probedAt = new Map<number, number[]>();
    const poll = async (cands: ListenerCandidate[]) => {
      const before = h.calls.length;
      await h.prober.poll(cands);
      const ports = h.calls.slice(before).map((c) => c.port);
      for (const p of ports) probedAt.set(p, [...(probedAt.get(p) ?? []), now]);
      return ports;
    };
    const moveTo = (t: number) => {
      h.advance(t - now);
      now = t;
    };
    // First probes 15 s apart (as a backlog paces them): three groups.
    await poll([cand(9)]);
    moveTo(t0 + 15_000);
    await poll([cand(9), cand(10)]);
    moveTo(t0 + 30_000);
    await poll(all);
    // A watcher as tools/tool-watcher.ts runs it: the next poll 30 s after the last, or at nextMcpDueAt() if sooner.
    const groups: number[][] = [];
    for (let i = 0; i < 20; i++) {
      moveTo(Math.min(now + 30_000, h.prober.nextMcpDueAt()!));
      const ports = await poll(all);
      if (ports.length > 0) groups.push(ports.sort());
    }
    // 55 s: 9 is due, 10 (75 s) joins it; 85 s: 11 is due, 9 and 10 (115 s) join it; one group from then on.
    expect(groups.slice(0, 2)).toEqual([[10, 9].sort(), [10, 11, 9].sort()]);
    expect(groups.slice(2).every((g) => g.length === 3)).toBe(true);
    for (const [, times] of probedAt) {
      const gaps = times.slice(1).map((t, k) => t - times[k]!);
      // At least half an interval apart, never later than the interval; 55 s once grouped.
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(30_000);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(60_000);
      expect(gaps.slice(-3)).toEqual([55_000, 55_000, 55_000]);
    }
  });

  it('re-probes a known MCP listener at the URL that answered, without a preflight, and takes re-probes due soon together', async () => {
    const h = harness({ mcpPorts: [9, 10], coalesceMs: 5000 });
    await h.prober.poll([cand(9)]);
    // A watcher polling at nextMcpDueAt() re-probes 5 s early (headroom for the finding), never late.
    expect(h.prober.nextMcpDueAt()).toBe(h.prober.stateOf('127.0.0.1', 9)!.nextAt - 5000);
    h.advance(3000);
    await h.prober.poll([cand(9), cand(10)]);
    expect(h.calls.map((c) => [c.port, c.known])).toEqual([[9, false], [10, false]]);
    // 9 is due at 60 s, 10 at 63 s: at 58 s both fall within the 5 s window and share the poll.
    h.advance(55_000);
    await h.prober.poll([cand(9), cand(10)]);
    expect(h.calls.slice(2).map((c) => [c.port, c.known, c.pathHint])).toEqual([[9, true, '/mcp'], [10, true, '/mcp']]);
    // Never sooner than the interval less the window: nothing is due 50 s later.
    h.advance(50_000);
    await h.prober.poll([cand(9), cand(10)]);
    expect(h.calls).toHaveLength(4);
  });

  it('keeps a listener whose socket is unchanged (same inode) when its owner becomes known, and starts afresh on a new socket or a pid reused by another process', async () => {
    const h = harness({ mcpPorts: [] });
    await h.prober.poll([cand(80, { pid: null, ownerId: 'inode:1' })]);
    await h.prober.poll([cand(80, { pid: 4242, ownerId: 'inode:1' })]);
    expect(h.calls).toHaveLength(1); // the same socket: its owner was only learnt now
    await h.prober.poll([cand(80, { pid: 4242, ownerId: 'inode:2' })]);
    expect(h.calls).toHaveLength(2); // another socket on the port
    const s = harness({ mcpPorts: [] });
    await s.prober.poll([cand(81, { pid: 7, ownerId: '2026-01-01T00:00:00.000Z' })]);
    await s.prober.poll([cand(81, { pid: 7, ownerId: '2026-01-01T00:00:00.000Z' })]);
    await s.prober.poll([cand(81, { pid: 7, ownerId: '2026-02-01T00:00:00.000Z' })]);
    expect(s.calls).toHaveLength(2); // pid 7 reused by a later process
  });

  it('re-probes a known listener for its tools only, carrying its prompts and resources over until fullListMs has passed, and lists everything again for a new owner', async () => {
    let clock = 1_000_000;
    const calls: ProbeTarget[] = [];
    let round = 0;
    const prober = new ListenerProber({
      coalesceMs: 0,
      now: () => clock,
      probe: async (t) => {
        calls.push(t);
        round++;
        const tools = [{ name: `t${round}`, title: null, description: null, inputSchema: {}, annotations: null }];
        return t.lists === 'tools'
          ? { ...MCP, tools, listed: 'tools' }
          : { ...MCP, tools, prompts: [`p${round}`], resources: [`r${round}`], truncated: round === 1, listed: 'all' };
      },
    });
    const first = await prober.poll([cand(9, { ownerId: 'a' })]);
    expect(calls[0]?.lists).toBeUndefined();
    expect(first.probed.get('listener:127.0.0.1:9')).toMatchObject({ prompts: ['p1'], resources: ['r1'], truncated: true });
    clock += 60_000;
    const second = await prober.poll([cand(9, { ownerId: 'a' })]);
    expect(calls[1]?.lists).toBe('tools');
    // Fresh tools, the last full listing's prompts and resources (and its truncation).
    expect(second.probed.get('listener:127.0.0.1:9')).toMatchObject({ tools: [{ name: 't2' }], prompts: ['p1'], resources: ['r1'], truncated: true, listed: 'tools' });
    for (let i = 0; i < 8; i++) {
      clock += 60_000;
      await prober.poll([cand(9, { ownerId: 'a' })]);
    }
    expect(calls.slice(1).map((c) => c.lists)).toEqual(Array(9).fill('tools'));
    clock += 60_000; // 10 min since the full listing
    const full = await prober.poll([cand(9, { ownerId: 'a' })]);
    expect(calls[10]?.lists).toBeUndefined();
    expect(full.probed.get('listener:127.0.0.1:9')).toMatchObject({ prompts: ['p11'], resources: ['r11'], truncated: false });
    clock += 60_000;
    await prober.poll([cand(9, { ownerId: 'b' })]); // another process took the port
    expect(calls[11]).toMatchObject({ known: false });
    expect(calls[11]?.lists).toBeUndefined();
  });
  describe('kept sessions', () => {
    /** Stands in for ProbeSession: what the prober reads (closed, uses) and does (close). */
    class FakeSession {
      closed = false;
      uses = 0;
      closes = 0;
      version = '';
      constructor(readonly id: number, public fails = false) {}
      async close(): Promise<void> {
        if (!this.closed) this.closes++;
        this.closed = true;
      }
    }
    /** probeMcp's session rules over a table: a tools-only probe uses a live session (or, when it fails, closes it and starts afresh); anything else closes it. */
    function sessionHarness(opts: { rejectReuse?: boolean; serverVersion?: () => string; description?: () => string; max?: number } = {}) {
      let clock = 1_000_000;
      const made: FakeSession[] = [];
      // What the server lists now; a kept session reports the version its initialize saw.
      const answer = (): ProbeOutcome & { kind: 'mcp' } => ({ ...MCP, serverVersion: opts.serverVersion?.() ?? '1', tools: [{ name: 't', title: null, description: opts.description?.() ?? 'd', inputSchema: {}, annotations: null }] });
      const calls: { port: number; lists: string; via: 'session' | 'fresh' }[] = [];
      const prober = new ListenerProber({
        coalesceMs: 0,
        fullListMs: 5 * 60_000,
        ...(opts.max ? { maxProbesPerPoll: opts.max } : {}),
        now: () => clock,
        probe: async (t) => {
          const lists = t.lists ?? 'all';
          const s = t.session as unknown as FakeSession | undefined;
          if (s && !s.closed) {
            if (lists === 'tools' && !s.fails && !opts.rejectReuse) {
              s.uses++;
              calls.push({ port: t.port, lists, via: 'session' });
              return { ...answer(), listed: 'tools', serverVersion: s.version };
            }
            await s.close();
          }
          calls.push({ port: t.port, lists, via: 'fresh' });
          if (t.keep) {
            const fresh = new FakeSession(made.length);
            fresh.version = answer().serverVersion ?? '';
            made.push(fresh);
            t.keep(fresh as unknown as ProbeSession);
          }
          return { ...answer(), listed: lists };
        },
      });
      return { prober, made, calls, advance: (ms: number) => (clock += ms) };
    }

    it('re-probes on the kept session until the full listing, which starts a fresh one and closes the old', async () => {
      const h = sessionHarness();
      for (let i = 0; i < 6; i++) {
        await h.prober.poll([cand(9)]);
        h.advance(60_000);
      }
      expect(h.calls.map((c) => `${c.lists}/${c.via}`)).toEqual(['all/fresh', 'tools/session', 'tools/session', 'tools/session', 'tools/session', 'all/fresh']);
      expect(h.made.map((s) => s.closed)).toEqual([true, false]);
      expect(h.prober.sessionCount()).toBe(1);
    });

    it('a session that fails after good uses is replaced; one that fails at its first reuse means no session for that listener again', async () => {
      const h = sessionHarness();
      await h.prober.poll([cand(9)]);
      h.advance(60_000);
      await h.prober.poll([cand(9)]);
      h.made[0]!.fails = true; // e.g. the server expired the session
      h.advance(60_000);
      await h.prober.poll([cand(9)]);
      expect(h.calls.map((c) => `${c.lists}/${c.via}`)).toEqual(['all/fresh', 'tools/session', 'tools/fresh']);
      expect(h.prober.sessionCount()).toBe(1);
      h.advance(60_000);
      await h.prober.poll([cand(9)]);
      expect(h.calls.at(-1)).toMatchObject({ via: 'session' });

      const r = sessionHarness({ rejectReuse: true }); // a server that wants initialize before every list
      for (let i = 0; i < 4; i++) {
        await r.prober.poll([cand(9)]);
        r.advance(60_000);
      }
      expect(r.calls.map((c) => `${c.lists}/${c.via}`)).toEqual(['all/fresh', 'tools/fresh', 'tools/fresh', 'tools/fresh']);
      expect(r.made.every((s) => s.closed)).toBe(true);
      expect(r.made).toHaveLength(2); // after the failed reuse no session is kept, so none is made
      expect(r.prober.sessionCount()).toBe(0);
    });

    it('closes the session of a listener that goes, changes owner or stops answering MCP, and every session on close()', async () => {
      const h = sessionHarness();
      await h.prober.poll([cand(9), cand(10), cand(11)]);
      expect(h.prober.sessionCount()).toBe(3);
      await h.prober.poll([cand(9, { ownerId: 'another-process' }), cand(10)]); // 11 gone, 9 has a new owner (probed afresh)
      expect(h.made.slice(0, 3).map((s) => s.closed)).toEqual([true, false, true]);
      expect(h.prober.sessionCount()).toBe(2);
      await h.prober.close();
      expect(h.made.every((s) => s.closed && s.closes === 1)).toBe(true);
      expect(h.prober.sessionCount()).toBe(0);

      const off = new ListenerProber({ keepSessions: false, probe: async (t) => (t.keep ? { kind: 'not-mcp', reason: 'keep offered' } : MCP) });
      expect((await off.poll([cand(9)])).servers).toHaveLength(1);
    });
      it('a change seen on a kept session is confirmed on a fresh one, so the result carries the version initialize gives now', async () => {
      let version = '1';
      let description = 'd';
      const h = sessionHarness({ serverVersion: () => version, description: () => description });
      await h.prober.poll([cand(9)]);
      h.advance(60_000);
      await h.prober.poll([cand(9)]);
      version = '2'; // an upgrade in place: the kept session still says 1
      description = 'd, improved';
      h.advance(60_000);
      const r = await h.prober.poll([cand(9)]);
      expect(h.calls.map((c) => `${c.lists}/${c.via}`)).toEqual(['all/fresh', 'tools/session', 'tools/session', 'tools/fresh']);
      expect(r.probed.get('listener:127.0.0.1:9')).toMatchObject({ serverVersion: '2', tools: [{ description: 'd, improved' }] });
      expect(h.made.map((s) => s.closed)).toEqual([true, false]);
      h.advance(60_000);
      await h.prober.poll([cand(9)]);
      expect(h.calls.at(-1)).toMatchObject({ via: 'session' }); // unchanged since: the new session serves it
    });
    it('re-probes on kept sessions do not count against maxProbesPerPoll: the known listeners due together take one poll', async () => {
      const h = sessionHarness({ max: 2 });
      const known = [1, 2, 3, 4, 5, 6].map((p) => cand(p));
      for (let i = 0; i < 3; i++) await h.prober.poll(known); // 2 fresh probes a poll
      expect(h.calls.map((c) => `${c.port}/${c.via}`)).toEqual(['1/fresh', '2/fresh', '3/fresh', '4/fresh', '5/fresh', '6/fresh']);
      h.calls.length = 0;
      h.advance(60_000);
      const r = await h.prober.poll([...known, cand(7), cand(8), cand(9)]);
      expect(h.calls.filter((c) => c.via === 'session').map((c) => c.port)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(h.calls.filter((c) => c.via === 'fresh').map((c) => c.port)).toEqual([7, 8]); // new listeners: still 2 a poll
      expect(r.probes).toBe(8);
    });
});
});
