import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { batchValidators, discriminatedBatchSchema, exactBatchSchema, fastBatchSchema, hasNulEscape, isCanonicalIsoTime, isDateTime, mergedAnyOf, replaceNulCharacters, validateBatch } from '../../src/batch-validator.js';
import { makeEvent, type McpEvent } from '@mcpwatch/shared';
import { makeEvents, makeHost, makeServerEntry } from '@mcpwatch/testkit';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;

describe('batch validator', () => {
  test('date-time fast path accepts exactly what ajv-formats accepts', () => {
    const reference = addFormats(new Ajv({ strict: false })).compile({ type: 'string', format: 'date-time' });
    const samples = [
      '2026-06-01T12:00:00.000Z', '2026-06-01T12:00:00Z', '2024-02-29T23:59:59.999999Z', '2023-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-04-31T00:00:00Z', '2026-06-01T24:00:00Z', '2026-06-01T12:60:00Z',
      '2026-06-01T23:59:60Z', '2026-06-01t12:00:00z', '2026-06-01 12:00:00Z', '2026-06-01T12:00:00+02:00', '2026-06-01T12:00:00',
      '1900-02-29T00:00:00Z', '2000-02-29T00:00:00Z', 'yesterday', '', '2026-06-01T12:00:00.Z', '2026-06-01T12:00:00.1234567890Z',
      // The character-code path: toISOString's two lengths, with a bad character in every position.
      '2026-06-01T12:00:00.123Z', '2026-06-01T12:00:00.12xZ', '2026-06-01T12:00:00,123Z', '2026-06-01T12:00:00.123z', '2026-12-31T23:59:59.999Z',
      '2024-02-29T00:00:00.000Z', '2100-02-29T00:00:00.000Z', '2026-02-29T00:00:00.000Z', '2026-06-31T00:00:00.000Z', '0000-01-01T00:00:00.000Z',
      '-026-06-01T12:00:00.000Z', '2026/06-01T12:00:00.000Z', '2026-06-01 12:00:00.000Z', '2026-06-01T12-00:00.000Z', '2026-06-01T1:00:00.0000Z',
      ...Array.from({ length: 24 }, (_, i) => `${'2026-06-01T12:00:00.123Z'.slice(0, i)}/${'2026-06-01T12:00:00.123Z'.slice(i + 1)}`),
      ...Array.from({ length: 20 }, (_, i) => `${'2026-06-01T12:00:00Z'.slice(0, i)}:${'2026-06-01T12:00:00Z'.slice(i + 1)}`),
    ];
    for (const s of samples) expect([s, isDateTime(s)]).toEqual([s, reference(s)]);
    // Canonical: exactly the strings toISOString gives back for their own instant.
    const canonical = (s: string): boolean => {
      const ms = Date.parse(s);
      return Number.isFinite(ms) && new Date(ms).toISOString() === s;
    };
    const random = Array.from({ length: 2000 }, (_, i) => new Date(Date.UTC(1970 + (i % 130), 0, 1) + ((i * 7_919_993_311) % 31_536_000_000)).toISOString());
    // True only for canonical strings (extended years such as +010000 are parsed instead) ...
    for (const s of [...samples, '+010000-01-01T00:00:00.000Z', '-000001-01-01T00:00:00.000Z']) if (isCanonicalIsoTime(s)) expect([s, canonical(s)]).toEqual([s, true]);
    // ... and for every canonical string of a four-digit year.
    for (const s of [...random, '0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2024-02-29T00:00:00.000Z']) expect([s, isCanonicalIsoTime(s)]).toEqual([s, true]);
    // Their string order is their time order.
    const sorted = [...random].sort();
    for (let i = 1; i < sorted.length; i++) expect(Date.parse(sorted[i - 1]!)).toBeLessThanOrEqual(Date.parse(sorted[i]!));
  });

  test('accepts valid batches of every generated event type, and names the first violation', () => {
    const good = { agentId: 'a', seq: 1, prevHash: '', sentAt: 'now', events: makeEvents('ep', 12) };
    expect(validateBatch(good)).toBe(good);
    const bad = structuredClone(good);
    (bad.events[5] as { time: string }).time = 'not a time';
    expect(() => validateBatch(bad)).toThrow(/events\/5\/time must match format "date-time"/);
    const wrongVersion = structuredClone(good);
    (wrongVersion.events[2] as { v: number }).v = 3;
    expect(() => validateBatch(wrongVersion)).toThrow(/events\/2\/v must be equal to constant|events\/2\/v must match/);
  });

  test('string bounds count code points, as before the fast validator (UTF-16 units only decide an accept)', () => {
    // The first object in the batch that carries a serverKey (minLength 8, maxLength 64).
    const withKey = (key: string) => {
      const batch = { agentId: 'a', seq: 1, prevHash: '', sentAt: 'now', events: makeEvents('ep', 12) };
      const find = (v: unknown): Record<string, unknown> | undefined => {
        if (Array.isArray(v)) {
          for (const x of v) {
            const f = find(x);
            if (f) return f;
          }
        } else if (v !== null && typeof v === 'object') {
          if ('serverKey' in v) return v as Record<string, unknown>;
          for (const x of Object.values(v)) {
            const f = find(x);
            if (f) return f;
          }
        }
        return undefined;
      };
      const holder = find(batch.events);
      expect(holder).toBeDefined();
      holder!.serverKey = key;
      return batch;
    };
    const astral = '\u{1F600}';
    // 64 code points, 128 UTF-16 units: within maxLength 64.
    expect(() => validateBatch(withKey(astral.repeat(64)))).not.toThrow();
    expect(() => validateBatch(withKey(astral.repeat(65)))).toThrow(/serverKey must NOT have more than 64 characters/);
    // 7 code points, 8 UTF-16 units: under minLength 8.
    expect(() => validateBatch(withKey(`abcdef${astral}`))).toThrow(/serverKey must NOT have fewer than 8 characters/);
    expect(() => validateBatch(withKey(`abcdefg${astral}`))).not.toThrow();
    // A bounded property name (heartbeat intervalsMs keys: at most 64): counted in code points too.
    const heartbeat = (key: string) => {
      const batch = { agentId: 'a', seq: 1, prevHash: '', sentAt: 'now', events: makeEvents('ep', 12) };
      const hb = batch.events.find((e) => e.type === 'agent.heartbeat')!;
      (hb.data as { intervalsMs: Record<string, number> }).intervalsMs = { [key]: 1000 };
      return batch;
    };
    expect(() => validateBatch(heartbeat(astral.repeat(64)))).not.toThrow();
    expect(() => validateBatch(heartbeat(astral.repeat(65)))).toThrow(/intervalsMs must NOT have more than 64 characters|property name must be valid/);
    // The fast schema bounds string lengths in UTF-16 units and keeps minLength in code points.
    const bounds: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        for (const k of ['maxLength', 'maxUnits', 'minLength']) if (typeof o[k] === 'number') bounds.push(`${k}:${String(o[k])}`);
        Object.values(o).forEach(walk);
      }
    };
    walk(fastBatchSchema());
    expect(bounds.filter((b) => b.startsWith('maxLength'))).toEqual([]);
    expect(bounds).toContain('maxUnits:64');
    expect(bounds).toContain('minLength:8');
  });

  test('refuses a property the schemas do not name at any level, naming it', () => {
    const good = () => ({ agentId: 'a', seq: 1, prevHash: '', sentAt: 'now', events: makeEvents('ep', 4) });
    const top = { ...good(), extra: 1 };
    expect(() => validateBatch(top)).toThrow(/batch must NOT have additional properties \(extra\)/);
    const envelope = good();
    (envelope.events[1] as unknown as Record<string, unknown>).extra = 1;
    expect(() => validateBatch(envelope)).toThrow(/events\/1 must NOT have additional properties \(extra\)/);
    const nested = good();
    ((nested.events[0]!.data as { package: Record<string, unknown> }).package).extra = 1;
    expect(() => validateBatch(nested)).toThrow(/events\/0\/data\/package must NOT have additional properties \(extra\)/);
  });

  test('finds a real \\u0000 escape only (not an escaped backslash before u0000), and replaces NUL in strings and keys', () => {
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    expect(hasNulEscape(json({ a: 'plain' }))).toBe(false);
    expect(hasNulEscape(json({ a: 'x\u0000y' }))).toBe(true);
    expect(hasNulEscape(json({ a: '\\u0000' }))).toBe(false);
    expect(hasNulEscape(json({ a: '\\\u0000' }))).toBe(true);
    expect(hasNulEscape(json({ a: '\\\\u0000' }))).toBe(false);
    const doc = { s: 'a\u0000b', list: ['\u0000'], rec: { ['k\u0000']: 1 }, n: 3, z: null };
    expect(replaceNulCharacters(doc)).toEqual({ s: 'a\uFFFDb', list: ['\uFFFD'], rec: { ['k\uFFFD']: 1 }, n: 3, z: null });
  });

  test('each anyOf the fast schema merges accepts exactly what the anyOf accepts', () => {
    const ajv = addFormats(new Ajv({ strict: false }));
    const nodes: Array<Record<string, unknown>> = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (Array.isArray(o.anyOf)) nodes.push(o);
        Object.values(o).forEach(walk);
      }
    };
    walk(discriminatedBatchSchema());
    const merged = nodes.map((n) => [n, mergedAnyOf(n)] as const).filter((x): x is readonly [Record<string, unknown>, Record<string, unknown>] => x[1] !== null);
    // Nullable strings and numbers, and the event version (const 1 | const 2).
    expect(merged.length).toBeGreaterThan(100);
    expect(merged.some(([, m]) => Array.isArray(m.enum))).toBe(true);
    const probes: unknown[] = [null, true, false, 0, 1, 2, 3, -1, 1.5, 2 ** 53, -(2 ** 31), '', '1', '2', 'x', 'null', '2026-06-01T12:00:00.000Z', 'not a date', '0'.repeat(64), 'a'.repeat(65), {}, [], [null], { a: 1 }];
    for (const [node, m] of merged) {
      const original = ajv.compile(node);
      const fast = ajv.compile(m);
      const bounds = [node, ...(node.anyOf as Array<Record<string, unknown>>)].flatMap((b) => [b.maxLength, b.minLength]).filter((n): n is number => typeof n === 'number');
      const values = [...probes, ...bounds.flatMap((n) => [n - 1, n, n + 1].filter((k) => k >= 0).map((k) => 'a'.repeat(k)))];
      for (const v of values) expect([JSON.stringify(node), v, fast(v)]).toEqual([JSON.stringify(node), v, original(v)]);
    }
    // Forms it leaves alone: a branch with a keyword that applies to null too, object branches, other keys beside anyOf.
    expect(mergedAnyOf({ anyOf: [{ type: 'string', enum: ['a'] }, { type: 'null' }] })).toBeNull();
    expect(mergedAnyOf({ anyOf: [{ type: 'object', properties: {} }, { type: 'null' }] })).toBeNull();
    expect(mergedAnyOf({ anyOf: [{ type: 'string' }, { type: 'null' }], description: 'x' })).toBeNull();
    expect(mergedAnyOf({ anyOf: [{ const: 1, type: 'string' }, { const: 2 }] })).toBeNull();
    expect(mergedAnyOf({ anyOf: [{ const: { a: 1 } }, { const: 2 }] })).toBeNull();
  });

  test('the fast validator is split into small functions and never accepts what the exact one refuses', () => {
    const { fast, exact } = batchValidators();
    const inlineAjv = addFormats(new Ajv({ discriminator: true, allErrors: false, strict: false }));
    inlineAjv.addFormat('date-time', { type: 'string', validate: isDateTime });
    const inline = inlineAjv.compile(discriminatedBatchSchema());
    const firstError = (errors: ValidateFunction['errors']): unknown => (errors?.[0] ? { instancePath: errors[0].instancePath, message: errors[0].message, params: errors[0].params } : null);
    // Every event envelope is its own function (V8 optimizes functions up to ~60 KB of bytecode only).
    const schema = fastBatchSchema();
    const defs = schema.$defs as Record<string, unknown>;
    expect(Object.keys(defs).length).toBeGreaterThan(20);
    expect(Object.keys(exactBatchSchema().$defs as Record<string, unknown>).length).toBe(Object.keys(defs).length);
    const now = new Date();
    const host = makeHost();
    const snapshot = makeEvent('inventory.snapshot', 'ep', {
      host,
      clients: [{ client: 'claude-desktop', displayName: 'Claude', user: 'alice', configPaths: ['/home/alice/.c/mcp.json'], serverCount: 1 }],
      servers: [makeServerEntry('snap')],
      processes: [],
      sockets: [],
      findings: [],
      errors: [],
    }, now);
    const base = (): Record<string, unknown> => ({ agentId: 'a', seq: 1, prevHash: '', sentAt: now.toISOString(), events: structuredClone([...makeEvents('ep', 4, now), snapshot]) as McpEvent[] });
    expect(fast(base())).toBe(true);
    // Every value in the batch (each leaf, object and array), replaced by each substitute, and an
    // unknown property on every object: wherever the exact validator refuses, the fast one does.
    const paths: Array<Array<string | number>> = [];
    const collect = (v: unknown, path: Array<string | number>): void => {
      paths.push(path);
      if (Array.isArray(v)) v.forEach((x, i) => collect(x, [...path, i]));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, [...path, k]);
    };
    collect(base(), []);
    const substitutes: unknown[] = [null, 0, 2, -1, 1.5, true, '', 'x', 'a'.repeat(600), '2026-06-01T12:00:00Z', {}, [], ['x']];
    let refused = 0;
    let cases = 0;
    for (const path of paths) {
      if (path.length === 0) continue;
      const mutations: Array<(parent: Record<string | number, unknown>, key: string | number) => void> = substitutes.map((s) => (p, k) => void (p[k] = structuredClone(s)));
      mutations.push((p, k) => void (p[k] !== null && typeof p[k] === 'object' && !Array.isArray(p[k]) && ((p[k] as Record<string, unknown>).junk = 1)));
      mutations.push((p, k) => void (Array.isArray(p) ? p.splice(Number(k), 1) : delete p[k]));
      for (const mutate of mutations) {
        const doc = base();
        let parent = doc as Record<string | number, unknown>;
        for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        mutate(parent, path[path.length - 1]!);
        const exactAccepts = exact(doc);
        // The split exact validator decides and reports as the Batch schema compiled inline does.
        const inlineAccepts = inline(doc);
        expect([path.join('/'), exactAccepts, firstError(exact.errors)]).toEqual([path.join('/'), inlineAccepts, firstError(inline.errors)]);
        cases++;
        if (!exactAccepts) refused++;
        // ASCII only: the two agree exactly (UTF-16 units = code points).
        expect([path.join('/'), JSON.stringify(parent).slice(0, 200), fast(doc)]).toEqual([path.join('/'), JSON.stringify(parent).slice(0, 200), exactAccepts]);
      }
    }
    expect(cases).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(cases / 2);
  });
});
