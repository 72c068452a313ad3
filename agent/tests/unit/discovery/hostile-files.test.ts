/**
 * Hostile or odd config files cost that file alone one coded error, never the scan: named pipes and
 * other non-regular files are not opened (so they cannot block), documents nested too deeply are
 * refused before a parser recurses, YAML aliases that stay under the alias count but expand a large
 * node many times are refused by size, and prototype keys (`__proto__`, `constructor`, ...) are
 * ordinary keys in every format, with nothing reaching Object.prototype.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discover, parseConfigText, readConfigFile } from '../../../src/discovery/index.js';
import { buildScanContext } from '../../../src/inventory/scan-context.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcpw-hostile-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function fifo(p: string): string {
  execFileSync('mkfifo', [p]);
  return p;
}

const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__'];

describe('non-regular files', () => {
  it('reports a FIFO at a config path as unreadable without opening it (no writer ever comes)', async () => {
    const p = fifo(join(dir, 'pipe.json'));
    const r = await readConfigFile(p, { format: 'json', client: 'cursor' });
    expect(r.status).toBe('error');
    expect(r.status === 'error' ? r.error : null).toMatchObject({ path: p, client: 'cursor', code: 'unreadable', reason: expect.stringMatching(/FIFO.*not a regular file/) });
  });

  it('reports a character device as unreadable without reading it', async () => {
    // /dev/zero would never end: reading it would only stop at the size limit, and a tty would block.
    const r = await readConfigFile('/dev/zero', { format: 'json' });
    expect(r.status === 'error' ? r.error : null).toMatchObject({ code: 'unreadable', reason: expect.stringMatching(/character device/) });
  });

  it('a FIFO in a home costs that file only: discovery finishes and other clients are found', async () => {
    const home = join(dir, 'fifo-home');
    mkdirSync(join(home, '.cursor'), { recursive: true });
    mkdirSync(join(home, '.config', 'Claude'), { recursive: true });
    fifo(join(home, '.cursor', 'mcp.json'));
    writeFileSync(join(home, '.config', 'Claude', 'claude_desktop_config.json'), JSON.stringify({ mcpServers: { weather: { command: 'npx', args: ['weather'] } } }));
    const ctx = await buildScanContext({ platform: 'linux', home, projectRoots: [], env: {} });
    const result = await discover(ctx);
    const cursor = result.files.find((f) => f.client === 'cursor');
    expect(cursor?.errors).toEqual([expect.objectContaining({ code: 'unreadable', reason: expect.stringMatching(/FIFO/) })]);
    expect(result.files.find((f) => f.client === 'claude-desktop')?.entries.map((e) => e.name)).toEqual(['weather']);
  });
});

describe('nesting depth', () => {
  const deep = (n: number, open: string, close: string, inner = '1'): string => open.repeat(n) + inner + close.repeat(n);

  it.each([
    ['json', `{"mcpServers": {"a": {"command": "x", "args": ${deep(100_000, '[', ']')}}}}`],
    ['jsonc', `// c\n{"x": ${'['.repeat(100_000)}`],
    ['json', `{"x": ${deep(50_000, '{"a":', '}')}}`],
    ['yaml', `x: ${deep(100_000, '[', ']')}\n`],
    ['yaml', `x: ${deep(2_000, '{a: ', '}')}\n`],
    ['yaml', `${Array.from({ length: 1_000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`],
    ['toml', `x = ${deep(100_000, '[', ']')}\n`],
    ['toml', `x = ${deep(5_000, '{a=', '}')}\n`],
  ] as const)('%s nested far too deep is one coded error, not a crash (case %#)', async (format, text) => {
    const r = await parseConfigText(text, format, 'deep');
    expect(r.ok).toBe(false);
    expect(r.ok ? null : r.error.code).toMatch(/^(too-deep|parse)$/);
  });

  it('says how deep and where for JSON', async () => {
    const r = await parseConfigText(`{\n "x": ${'['.repeat(1000)}`, 'json', 'deep.json');
    expect(r.ok ? null : r.error).toMatchObject({ code: 'too-deep', line: 2, reason: expect.stringMatching(/nested deeper than \d+ levels/) });
  });

  it('does not count brackets inside strings and comments', async () => {
    const text = `{"a": {"command": "${'['.repeat(5000)}"}, // ${'{'.repeat(5000)}\n /* ${'['.repeat(5000)} */ "b": 1}`;
    expect((await parseConfigText(text, 'jsonc', 'f')).ok).toBe(true);
  });

  it('one deeply nested file does not stop discovery of the other clients', async () => {
    const home = join(dir, 'deep-home');
    mkdirSync(join(home, '.cursor'), { recursive: true });
    mkdirSync(join(home, '.config', 'Claude'), { recursive: true });
    writeFileSync(join(home, '.cursor', 'mcp.json'), `{"mcpServers": ${'['.repeat(200_000)}`);
    writeFileSync(join(home, '.config', 'Claude', 'claude_desktop_config.json'), JSON.stringify({ mcpServers: { weather: { command: 'npx', args: ['weather'] } } }));
    const result = await discover(await buildScanContext({ platform: 'linux', home, projectRoots: [], env: {} }));
    expect(result.errors.filter((e) => e.code === 'discovery-failed')).toEqual([]);
    expect(result.files.find((f) => f.client === 'cursor')?.errors).toEqual([expect.objectContaining({ code: 'too-deep' })]);
    expect(result.files.find((f) => f.client === 'claude-desktop')?.entries.map((e) => e.name)).toEqual(['weather']);
  });
});

describe('YAML alias expansion', () => {
  /**
   * A "billion laughs" that stays under yaml's own alias-count check (yaml accepts it): each level
   * refers to the one below 6 times, over a seed list of 2,000 100-character strings (~200 kB of
   * text expanding to ~43 MB).
   */
  function laughs(levels = 3, width = 6): string {
    const seed = `[${Array.from({ length: 2000 }, (_, i) => `"${String(i).padStart(100, 'x')}"`).join(', ')}]`;
    const lines = [`l0: &l0 ${seed}`];
    for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(', ')}]`);
    lines.push(`mcpServers:\n  bomb:\n    command: npx\n    args: *l${levels}`);
    return `${lines.join('\n')}\n`;
  }

  it('refuses aliases that expand a large node many times, under the alias count', async () => {
    const r = await parseConfigText(laughs(), 'yaml', 'bomb.yaml');
    expect(r.ok ? null : r.error).toMatchObject({ code: 'too-large', reason: expect.stringMatching(/expands .*aliases/) });
  });

  it('refuses a few aliases of one big collection', async () => {
    const big = `big: &big [${Array.from({ length: 20_000 }, (_, i) => `"item-${i}-${'y'.repeat(40)}"`).join(', ')}]`;
    const text = `${big}\nmcpServers:\n${Array.from({ length: 40 }, (_, i) => `  s${i}: {command: npx, args: *big}`).join('\n')}\n`;
    expect(await parseConfigText(text, 'yaml', 'wide.yaml')).toMatchObject({ ok: false, error: { code: 'too-large' } });
  });

  it('keeps ordinary anchors and aliases (expanded into a plain tree)', async () => {
    const r = await parseConfigText('defaults: &d {command: npx, args: [-y, pkg]}\nmcpServers:\n  a: *d\n  b: *d\n', 'yaml', 'ok.yaml');
    expect(r.ok).toBe(true);
    const doc = r.ok ? (r.document as { mcpServers: Record<string, unknown> }) : null;
    expect(doc?.mcpServers.a).toEqual({ command: 'npx', args: ['-y', 'pkg'] });
    expect(doc?.mcpServers.a).not.toBe(doc?.mcpServers.b);
  });

  it('refuses a recursive alias', async () => {
    const r = await parseConfigText('a: &a\n  b: *a\n', 'yaml', 'cycle.yaml');
    expect(r.ok).toBe(false);
  });
});

describe('prototype keys', () => {
  const servers = Object.fromEntries(PROTO_NAMES.map((n) => [n, { command: 'npx', args: [n], env: { __proto__: 'x', constructor: 'y' } }]));

  const texts: Record<'json' | 'jsonc' | 'yaml' | 'toml', string> = {
    json: `{"mcpServers": {${PROTO_NAMES.map((n) => `"${n}": {"command": "npx", "args": ["${n}"], "polluted": {"__proto__": {"polluted": true}}}`).join(', ')}}}`,
    jsonc: `// c\n{"mcpServers": {${PROTO_NAMES.map((n) => `"${n}": {"command": "npx", "args": ["${n}"],}`).join(', ')},}}`,
    yaml: `mcpServers:\n${PROTO_NAMES.map((n) => `  ${n}:\n    command: npx\n    args: [${n}]\n    x: {__proto__: {polluted: true}}`).join('\n')}\n`,
    toml: PROTO_NAMES.map((n) => `[mcpServers.${n}]\ncommand = "npx"\nargs = ["${n}"]\n[mcpServers.${n}.__proto__]\npolluted = true\n`).join('\n'),
  };

  it.each(Object.keys(texts) as Array<keyof typeof texts>)('%s keeps every prototype-named server as an ordinary own key', async (format) => {
    const r = await parseConfigText(texts[format], format, 'f');
    expect(r.ok).toBe(true);
    const mcp = (r.ok ? r.document.mcpServers : null) as Record<string, { command: string; args: string[] }>;
    expect(Object.keys(mcp).sort()).toEqual([...PROTO_NAMES].sort());
    for (const n of PROTO_NAMES) {
      expect(Object.hasOwn(mcp, n)).toBe(true);
      expect(mcp[n]).toMatchObject({ command: 'npx', args: [n] });
    }
    expect(Object.getPrototypeOf(mcp)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it.each([
    ['json', '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}'],
    ['jsonc', '{"a": [{"__proto__": {"polluted": 3}}],}'],
    ['yaml', '__proto__: {polluted: 4}\nconstructor: {prototype: {polluted: 5}}\n'],
    ['toml', '[__proto__]\npolluted = 6\n[constructor.prototype]\npolluted = 7\n'],
  ] as const)('%s: prototype keys at any level stay own keys and pollute nothing', async (format, text) => {
    const r = await parseConfigText(text, format, 'f');
    expect(r.ok).toBe(true);
    expect(Object.keys(r.ok ? r.document : {}).length).toBeGreaterThan(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('discovery extracts prototype-named servers from a JSONC client config', async () => {
    const home = join(dir, 'proto-home');
    mkdirSync(join(home, '.cursor'), { recursive: true });
    writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: servers }));
    const result = await discover(await buildScanContext({ platform: 'linux', home, projectRoots: [], env: {} }));
    const names = result.files.find((f) => f.client === 'cursor')?.entries.map((e) => e.name);
    expect(names?.sort()).toEqual([...PROTO_NAMES].sort());
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
