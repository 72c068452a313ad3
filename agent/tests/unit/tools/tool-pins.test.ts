import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ToolPinStore, TOOL_PINS_FILE } from '../../../src/tools/tool-pins.js';
import { diffTools, toolViewsOf, canonicalJson } from '../../../src/tools/tool-inventory.js';

const ref = { serverId: 'fp', serverName: 's', serverVersion: '1', instructions: 'x', source: 'probe' as const };
const rec = (description: string, version = '1') => toolViewsOf({ ...ref, serverVersion: version }, [{ name: 'add', title: null, description, inputSchema: { b: 1, a: [2, { d: 1, c: 0 }] }, annotations: null }])[0]!.record;

describe('tool inventory and pins', () => {
  it('hashes schemas canonically and diffs changed fields', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 0 }] })).toBe('{"a":[2,{"c":0,"d":1}],"b":1}');
    const before = rec('one');
    const after = rec('two');
    expect(before.descriptionSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(before.description).toBeUndefined();
    expect(diffTools([before], [after], new Set(['fp'])).changed[0]).toMatchObject({ changedFields: ['description'], previousDescriptionSha256: before.descriptionSha256 });
    expect(diffTools([before], [], new Set(['other'])).removed).toEqual([]);
    expect(diffTools([before], [], new Set(['fp'])).removed).toEqual([before]);
  });

  it('keeps first-seen pins across restarts, re-pins on a version change, and survives a corrupt file with a coded error', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-pins-'));
    const s1 = new ToolPinStore(dir);
    expect(s1.observe([rec('one')], '2026-12-06T00:00:00Z').get('fp\u0000add')).toBeNull();
    s1.setLast(new Set(['fp']), [rec('one')]);
    expect(s1.save()).toBe(true);
    const s2 = new ToolPinStore(dir);
    expect(s2.lastRecords()).toHaveLength(1);
    s2.observe([rec('two')], '2026-12-06T01:00:00Z');
    expect(s2.pinOf({ serverId: 'fp', name: 'add' })?.descriptionSha256).toBe(rec('one').descriptionSha256);
    s2.observe([rec('two', '2')], '2026-12-06T02:00:00Z');
    expect(s2.pinOf({ serverId: 'fp', name: 'add' })).toMatchObject({ descriptionSha256: rec('two').descriptionSha256, serverVersion: '2' });

    writeFileSync(path.join(dir, TOOL_PINS_FILE), '{"v":1,"pins":[tr');
    const errors: string[] = [];
    const s3 = new ToolPinStore(dir, (e) => errors.push(e.code));
    expect(errors).toEqual(['MCPW_ERR_TOOL_PINS']);
    expect(existsSync(path.join(dir, `${TOOL_PINS_FILE}.corrupt`))).toBe(true);
    expect(readFileSync(path.join(dir, `${TOOL_PINS_FILE}.corrupt`), 'utf8')).toBe('{"v":1,"pins":[tr');
    expect(s3.lastRecords()).toEqual([]);
  });

  it('a save with nothing changed since the last write (or load) writes nothing; a change writes again', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-pins-'));
    const file = path.join(dir, TOOL_PINS_FILE);
    const s1 = new ToolPinStore(dir);
    s1.observe([rec('one')], '2026-12-06T00:00:00Z');
    s1.setLast(new Set(['fp']), [rec('one')]);
    expect(s1.save()).toBe(true);
    const written = readFileSync(file, 'utf8');
    // A re-probe that found the same tool: same pins, same last records.
    s1.observe([rec('one')], '2026-12-06T00:01:00Z');
    s1.setLast(new Set(['fp']), [rec('one')]);
    writeFileSync(file, written.replace('"v":1', '"v":1 '), { mode: 0o600 }); // a marker only a rewrite would remove
    expect(s1.save()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(written.replace('"v":1', '"v":1 '));
    // Loaded state counts as written too.
    writeFileSync(file, written, { mode: 0o600 });
    const s2 = new ToolPinStore(dir);
    expect(s2.save()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(written);
    // A changed tool changes the last records: written.
    s2.observe([rec('two')], '2026-12-06T00:02:00Z');
    s2.setLast(new Set(['fp']), [rec('two')]);
    expect(s2.save()).toBe(true);
    const after = JSON.parse(readFileSync(file, 'utf8')) as { last: { descriptionSha256: string }[] };
    expect(after.last[0]!.descriptionSha256).toBe(rec('two').descriptionSha256);
  });
  it('re-probing one of several servers with its tools unchanged keeps every server in place, so nothing is written', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-pins-'));
    const file = path.join(dir, TOOL_PINS_FILE);
    const of = (serverId: string, description: string) => ({ ...rec(description), serverId });
    const s = new ToolPinStore(dir);
    s.setLast(new Set(['a']), [of('a', 'one')]);
    s.setLast(new Set(['b']), [of('b', 'one'), { ...of('b', 'two'), name: 'sub' }]);
    s.setLast(new Set(['c']), [of('c', 'one')]);
    expect(s.save()).toBe(true);
    const written = readFileSync(file, 'utf8');
    writeFileSync(file, written.replace('"v":1', '"v":1 '), { mode: 0o600 }); // a marker only a rewrite would remove
    // The first and the middle server re-probed in turn (the watcher's steady state): same text.
    s.setLast(new Set(['a']), [of('a', 'one')]);
    expect(s.save()).toBe(true);
    s.setLast(new Set(['b']), [of('b', 'one'), { ...of('b', 'two'), name: 'sub' }]);
    expect(s.save()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(written.replace('"v":1', '"v":1 '));
    expect(s.lastRecords().map((r) => `${r.serverId}/${r.name}`)).toEqual(['a/add', 'b/add', 'b/sub', 'c/add']);
    // A server that lost its tools leaves the list; one seen for the first time goes last.
    s.setLast(new Set(['b', 'd']), [of('d', 'one')]);
    expect(s.lastRecords().map((r) => `${r.serverId}/${r.name}`)).toEqual(['a/add', 'c/add', 'd/add']);
    expect(s.save()).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('"v":1 ');
  });
});
