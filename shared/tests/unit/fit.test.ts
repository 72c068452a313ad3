import { Type } from '@sinclair/typebox';
import { fitEvent, fitToSchema, makeEvent, truncateString, type ServerEntry } from '../../src/index.js';

describe('fitToSchema', () => {
  const S = Type.Object(
    {
      name: Type.String({ maxLength: 5 }),
      note: Type.Optional(Type.Union([Type.String({ maxLength: 3 }), Type.Null()])),
      list: Type.Array(Type.String({ maxLength: 2 }), { maxItems: 2 }),
      rec: Type.Record(Type.String(), Type.Integer(), { maxProperties: 2, propertyNames: { maxLength: 3 } }),
      nested: Type.Object({ deep: Type.String({ maxLength: 4 }) }, { additionalProperties: false }),
    },
    { additionalProperties: false },
  );

  it('cuts strings, lists and records to their bounds and drops properties a closed object does not name', () => {
    const v = { name: 'abcdefgh', note: 'xyzw', list: ['aaa', 'b', 'c'], rec: { a: 1, toolong: 2, b: 3, c: 4 }, nested: { deep: 'ok', junk: 1 }, extra: true };
    expect(fitToSchema(S, v)).toEqual({ name: 'abcd…', note: 'xy…', list: ['a…', 'b'], rec: { a: 1, b: 3 }, nested: { deep: 'ok' } });
    expect(v.name).toBe('abcdefgh'); // the input is not changed
  });

  it('returns the same object when everything fits, and keeps null in a nullable union', () => {
    const v = { name: 'ab', note: null, list: ['a'], rec: { a: 1 }, nested: { deep: 'x' } };
    expect(fitToSchema(S, v)).toBe(v);
  });

  it('never splits a surrogate pair', () => {
    const s = 'ab\u{1F600}\u{1F600}';
    const cut = truncateString(s, 4);
    expect(cut.length).toBeLessThanOrEqual(4);
    expect(cut).toBe('ab…');
    expect(() => encodeURIComponent(cut)).not.toThrow();
  });

  it('makeEvent fits the data of every event type it builds', () => {
    const entry = {
      client: 'cursor', scope: 'user', configPath: '/h/.cursor/mcp.json', name: 'x'.repeat(2000), transport: 'stdio',
      command: 'node', args: Array.from({ length: 900 }, () => 'a'), url: null, envKeys: [], headerKeys: [], cwd: null,
      disabled: false, package: null, serverKey: 'k'.repeat(16), fingerprint: 'f'.repeat(16),
    } as unknown as ServerEntry;
    const e = makeEvent('server.added', 'ep1', entry);
    expect(e.data.name.length).toBe(512);
    expect(e.data.args).toHaveLength(512);
    expect(fitEvent(e)).toBe(e);
  });
});
