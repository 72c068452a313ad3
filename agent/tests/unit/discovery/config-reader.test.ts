/**
 * readConfigFile / parseConfigText: every format, and every way a file can be unusable, each
 * with its coded error (never a silent zero).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { lineColumnAt, parseConfigText, readConfigFile } from '../../../src/discovery/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcpw-reader-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('parseConfigText', () => {
  it('parses JSONC with comments and trailing commas', async () => {
    const r = await parseConfigText('{\n // c\n "mcpServers": {"a": {"command": "x",},},\n /* block */ }', 'jsonc', 'f.json');
    expect(r).toEqual({ ok: true, document: { mcpServers: { a: { command: 'x' } } } });
  });

  it('reports JSON syntax errors with 1-based line and column, also after CRLF lines', async () => {
    const r = await parseConfigText('{\r\n  "a": 1,\r\n  "b": ]\r\n}', 'json', 'f.json');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ path: 'f.json', code: 'parse', line: 3, column: 8 });
    expect(r.error.reason).toMatch(/invalid JSON: ValueExpected at line 3, column 8/);
  });

  it('strips a UTF-8 BOM', async () => {
    expect(await parseConfigText('\ufeff{"servers": {}}', 'json', 'f')).toEqual({ ok: true, document: { servers: {} } });
  });

  it('treats an empty or whitespace-only file as an empty document', async () => {
    expect(await parseConfigText('  \n', 'json', 'f')).toEqual({ ok: true, document: {} });
    expect(await parseConfigText('', 'yaml', 'f')).toEqual({ ok: true, document: {} });
  });

  it('refuses a top level that is not an object', async () => {
    for (const [text, kind] of [['[1,2]', 'an array'], ['"just a string"', 'a string'], ['42', 'a number']] as const) {
      const r = await parseConfigText(text, 'json', 'f');
      expect(r.ok ? null : r.error).toMatchObject({ code: 'not-object', reason: `top level is ${kind}, not an object` });
    }
    const y = await parseConfigText('- a\n- b\n', 'yaml', 'f');
    expect(y.ok ? null : y.error.code).toBe('not-object');
  });

  it('parses YAML and reports YAML errors with line and column', async () => {
    expect(await parseConfigText('extensions:\n  gh:\n    cmd: npx\n', 'yaml', 'c.yaml')).toEqual({ ok: true, document: { extensions: { gh: { cmd: 'npx' } } } });
    const r = await parseConfigText('extensions:\n  gh: [unclosed\n', 'yaml', 'c.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('parse');
      expect(r.error.line).toBeGreaterThanOrEqual(2);
      expect(r.error.reason).toMatch(/^invalid YAML/);
    }
  });

  it('refuses YAML alias bombs instead of expanding them', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const r = await parseConfigText(lines.join('\n'), 'yaml', 'bomb.yaml');
    expect(r.ok ? null : r.error.code).toBe('parse');
  });

  it('parses TOML and reports TOML errors with line and column', async () => {
    const ok = await parseConfigText('[mcp_servers.docs]\ncommand = "npx"\nargs = ["-y", "x"]\n', 'toml', 'c.toml');
    expect(ok).toEqual({ ok: true, document: { mcp_servers: { docs: { command: 'npx', args: ['-y', 'x'] } } } });
    const bad = await parseConfigText('[mcp_servers.docs]\ncommand = npx\n', 'toml', 'c.toml');
    expect(bad.ok ? null : bad.error).toMatchObject({ code: 'parse', line: 2 });
  });
});

describe('lineColumnAt', () => {
  it('counts lines and columns from 1', () => {
    expect(lineColumnAt('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumnAt('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('readConfigFile', () => {
  it('returns missing (not an error) for a file that does not exist', async () => {
    expect(await readConfigFile(join(dir, 'nope.json'), { format: 'json' })).toEqual({ status: 'missing' });
    expect(await readConfigFile(join(dir, 'nope', 'deeper.json'), { format: 'json' })).toEqual({ status: 'missing' });
  });

  it('reads a file and returns its stat', async () => {
    const p = file('ok.json', '{"mcpServers": {}}');
    const r = await readConfigFile(p, { format: 'json', client: 'cursor' });
    expect(r).toMatchObject({ status: 'ok', document: { mcpServers: {} }, stat: { size: 18 } });
  });

  it('refuses a file over maxFileBytes by stat, without reading it', async () => {
    const p = file('big.json', `{"pad": "${'x'.repeat(2000)}"}`);
    const r = await readConfigFile(p, { format: 'json', maxFileBytes: 1024, client: 'cursor' });
    expect(r.status).toBe('error');
    if (r.status === 'error') {
      expect(r.error).toMatchObject({ path: p, code: 'too-large', client: 'cursor' });
      expect(r.error.reason).toMatch(/2011 bytes, over the 1024-byte limit/);
      expect(r.stat?.size).toBe(2011);
    }
  });

  it('refuses a binary file (NUL bytes) with a clear reason', async () => {
    const p = file('bin.json', Buffer.from([0x7b, 0x00, 0x01, 0x02, 0x7d]));
    const r = await readConfigFile(p, { format: 'json' });
    expect(r.status === 'error' ? r.error : null).toMatchObject({ code: 'binary', reason: 'file contains NUL bytes: binary, not a text config' });
  });

  it('decodes UTF-16LE files with a BOM (as Windows PowerShell writes them)', async () => {
    const body = Buffer.from('{"mcpServers": {"a": {"command": "x"}}}', 'utf16le');
    const p = file('utf16.json', Buffer.concat([Buffer.from([0xff, 0xfe]), body]));
    expect(await readConfigFile(p, { format: 'json' })).toMatchObject({ status: 'ok', document: { mcpServers: { a: { command: 'x' } } } });
  });

  it('handles a UTF-8 BOM and CRLF line endings', async () => {
    const p = file('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{\r\n  "servers": {\r\n    "a": {"url": "https://x"}\r\n  }\r\n}\r\n')]));
    expect(await readConfigFile(p, { format: 'jsonc' })).toMatchObject({ status: 'ok', document: { servers: { a: { url: 'https://x' } } } });
  });

  it('reports a directory where a file belongs as unreadable', async () => {
    const p = join(dir, 'isdir.json');
    mkdirSync(p);
    const r = await readConfigFile(p, { format: 'json' });
    expect(r.status === 'error' ? r.error : null).toMatchObject({ code: 'unreadable', reason: 'is a directory, expected a file' });
  });

  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  (asRoot ? it.skip : it)('reports a file it may not read as unreadable (skipped as root, who may read anything)', async () => {
    const p = file('secret.json', '{}');
    chmodSync(p, 0o000);
    const r = await readConfigFile(p, { format: 'json' });
    expect(r.status === 'error' ? r.error : null).toMatchObject({ code: 'unreadable' });
  });

  it('reports a file that cannot be opened (a socket where a file belongs) as unreadable', async () => {
    const p = join(dir, 'sock.json');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(p, resolve));
    try {
      const r = await readConfigFile(p, { format: 'json', client: 'cursor' });
      expect(r.status === 'error' ? r.error : null).toMatchObject({ path: p, code: 'unreadable', client: 'cursor', reason: expect.stringMatching(/^cannot read: /) });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a parse error with the path and position', async () => {
    const p = file('broken.json', '{\n  "mcpServers": {\n    "a": {"command": "x"\n  }\n');
    const r = await readConfigFile(p, { format: 'json', client: 'claude-desktop' });
    expect(r.status === 'error' ? r.error : null).toMatchObject({ path: p, code: 'parse', client: 'claude-desktop', line: expect.any(Number), column: expect.any(Number) });
  });
});
